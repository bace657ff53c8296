-- The Lua glue under attack (issue 9): callbacks that re-enter the library,
-- fail, yield or recurse; metamethods and methods called on the wrong self;
-- empty inputs; and the message of every bad argument of every public
-- function.  Nothing may crash; every misuse names the public function,
-- qualified ('bon.kl', 'tail:gain'), and the argument.
local ab = require "alignbound"
local H = require "helper"

-- psi(l) = l^2 / 2: the sub-Gaussian cumulant of variance 1, whose bound
-- at KL k is sqrt(2 k) (DESIGN 3.1); the user cumulant is solved numerically.
local function gaussian_psi(l) return l * l / 2 end

describe("a user cumulant that re-enters its own tail", function()
  it("survives pcall(t.gain, t, -1) and a collection inside a coroutine", function()
    -- the reproducer of issue 9: valgrind saw 8-byte writes into freed memory
    local t
    t = ab.tail.cumulant(function(l)
      local co = coroutine.wrap(function()
        pcall(t.gain, t, -1)
        collectgarbage()
      end)
      co()
      return gaussian_psi(l)
    end)
    for _ = 1, 3 do
      collectgarbage()
      H.close(t:gain(1), math.sqrt(2), 1e-9, "gain after a re-entrant failure")
    end
  end)

  it("survives a coroutine that failed inside it and was collected", function()
    -- the inner call ran on the coroutine's stack; the callback state kept
    -- pointing there after the coroutine was freed (valgrind: 121 errors)
    local t
    t = ab.tail.cumulant(function(l)
      coroutine.wrap(function() pcall(t.gain, t, -1) end)()
      collectgarbage()
      return gaussian_psi(l)
    end)
    H.close(t:gain(1), math.sqrt(2), 1e-9, "first call")
    H.close(t:gain(1), math.sqrt(2), 1e-9, "second call")
  end)

  it("survives a failing inner call without a coroutine", function()
    local t
    t = ab.tail.cumulant(function(l)
      assert(not pcall(t.gain, t, -1))
      assert(not pcall(t.gain, t, "x"))
      assert(not pcall(t.gain, t, 1, { numerik = true }))
      return gaussian_psi(l)
    end)
    H.close(t:gain(0.5), 1, 1e-9, "outer gain")
    H.close(t:gain(2), 2, 1e-9, "a later call")
  end)

  it("gives the right values when the cumulant calls its own tail recursively", function()
    local t, depth = nil, 0
    t = ab.tail.cumulant(function(l)
      if depth < 3 then
        depth = depth + 1
        local inner = t:gain(0.5)
        depth = depth - 1
        assert(math.abs(inner - 1) < 1e-9, "inner gain " .. inner)
      end
      return gaussian_psi(l)
    end)
    H.close(t:gain(2), 2, 1e-9, "outer gain")
    H.close(t:kl_needed(2), 2, 1e-9, "kl needed")
  end)

  it("recursion through coroutines, with errors caught at every level", function()
    local t, depth = nil, 0
    t = ab.tail.cumulant(function(l)
      if depth < 2 then
        depth = depth + 1
        local ok, v = coroutine.resume(coroutine.create(function()
          assert(not pcall(t.kl_needed, t, 0 / 0))
          collectgarbage()
          return t:gain(0.5)
        end))
        depth = depth - 1
        assert(ok and math.abs(v - 1) < 1e-9, tostring(v))
      end
      return gaussian_psi(l)
    end)
    H.close(t:gain(0.125), 0.5, 1e-9, "outer gain")
  end)

  it("reports an error inside the cumulant and keeps working", function()
    local fail = true
    local t = ab.tail.cumulant(function(l)
      if fail and l > 0.1 then error("boom") end
      return gaussian_psi(l)
    end)
    H.raises(function() return t:gain(1) end, "tail:gain: cumulant function failed at lambda=", "boom")
    H.raises(function() return ab.bon.gain(t, 8) end, "bon.gain: cumulant function failed")
    H.raises(function() return ab.divergence({ 0.5, 0.5 }, { 0.5, 0.5 }, ab.fdiv(function() error("bad f") end)) end,
      "divergence: f failed at t=1", "bad f")
    fail = false
    H.close(t:gain(1), math.sqrt(2), 1e-9, "after the failure")
  end)

  it("reports an inner failure that the cumulant lets escape", function()
    local t
    t = ab.tail.cumulant(function(l)
      t:gain(-1) -- raises inside the callback
      return gaussian_psi(l)
    end)
    H.raises(function() return t:gain(1) end, "cumulant function failed", "bad argument #1 to 'tail:gain'")
  end)

  it("gives a clean error when the cumulant yields", function()
    local t = ab.tail.cumulant(function(l)
      coroutine.yield(l)
      return gaussian_psi(l)
    end)
    local co = coroutine.create(function() return t:gain(1) end)
    local ok, err = coroutine.resume(co)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("yield across a C-call boundary", 1, true), tostring(err))
    -- outside a coroutine as well
    H.raises(function() return t:gain(1) end, "yield")
  end)

  it("error objects that are not strings, nil and non-numbers", function()
    local t = ab.tail.cumulant(function() error(nil) end)
    H.raises(function() return t:gain(1) end, "tail:gain")
    local u = ab.tail.cumulant(function() error({}) end)
    assert.is_false(pcall(u.gain, u, 1))
    local w = ab.tail.cumulant(function() return "1" end)
    H.raises(function() return w:gain(1) end, "must return a number, got string")
  end)

  it("refuses to be freed by hand from inside its own cumulant", function()
    local t
    t = ab.tail.cumulant(function(l)
      assert(not pcall(getmetatable(t).__gc, t))
      return gaussian_psi(l)
    end)
    H.close(t:gain(1), math.sqrt(2), 1e-9, "gain")
  end)

  it("every entry point that takes a tail is safe with a user cumulant", function()
    local t = ab.tail.cumulant(gaussian_psi)
    local r = ab.rng(3)
    -- tilt.sample crashed here (the callback ran with no call state)
    H.raises(function() return ab.tilt.sample(t, { kl = 1 }, 2, r) end, "bad argument #1 to 'tilt.sample'")
    H.raises(function() return ab.bon.sample(t, 4, 2, r) end, "bad argument #1 to 'bon.sample'")
    H.raises(function() return t:sample(2, r) end, "tail:sample")
    H.raises(function() return ab.bon.expected_gain(t, 4) end, "bad argument #1 to 'bon.expected_gain'")
    H.raises(function() return ab.tilt.compare_bon(t, 4) end, "bad argument #1 to 'tilt.compare_bon'")
    H.raises(function() return ab.tilt.kl(t, 1) end, "bad argument #1 to 'tilt.kl'")
    local g = ab.bon.gain(t, 4)
    H.close(g, math.sqrt(2 * (math.log(4) - 0.75)), 1e-9, "bon.gain through the user cumulant")
    assert.is_true(t:variance_proxy() >= 1 - 1e-6)
  end)

  it("a user f that re-enters and fails inside a coroutine", function()
    local f
    f = ab.fdiv(function(x)
      coroutine.wrap(function() pcall(ab.bon.divergence, -1, f); collectgarbage() end)()
      return (x - 1) ^ 2
    end)
    -- chi2 of best-of-n: (n-1)^2 / (2n-1)
    H.close(ab.bon.divergence(3, f), 4 / 5, 1e-8, "user chi2")
    H.close(ab.divergence({ 0.5, 0.5 }, { 0.25, 0.75 }, f), ab.divergence({ 0.5, 0.5 }, { 0.25, 0.75 }, "chi2"),
      1e-13, "user chi2 between laws")
  end)
end)

-- Every userdata type, found from the registry, so a new type or method is
-- covered without editing this file.
local function userdata_types()
  local types = {}
  for k, mt in pairs(debug.getregistry()) do
    if type(k) == "string" and k:find("^alignbound%.") and type(mt) == "table" then
      types[k] = mt
    end
  end
  return types
end

local function instances()
  return {
    ["alignbound.vector"] = ab.vector { 1, 2 },
    ["alignbound.tail"] = ab.tail.gaussian { sd = 1 },
    ["alignbound.fdiv"] = ab.fdiv(print),
    ["alignbound.rng"] = ab.rng(1),
    ["alignbound.prompts"] = ab.prompts { ids = { 1, 1 }, reward = { 0, 1 } },
  }
end

describe("every method and metamethod checks its self", function()
  local types = userdata_types()

  it("knows every userdata type", function()
    for _, name in ipairs { "alignbound.vector", "alignbound.tail", "alignbound.fdiv", "alignbound.rng",
      "alignbound.prompts" } do
      assert.is_table(types[name], name)
    end
  end)

  for name, mt in pairs(types) do
    local fns = {}
    for k, v in pairs(mt) do
      if type(v) == "function" then fns[#fns + 1] = { k, v } end
    end
    if type(mt.__index) == "table" then
      for k, v in pairs(mt.__index) do
        if type(v) == "function" then fns[#fns + 1] = { k, v } end
      end
    end
    assert(#fns > 0, name)
    for _, kv in ipairs(fns) do
      it(name .. " " .. kv[1] .. " on a wrong self raises cleanly", function()
        local wrong = table.pack(nil, 1, "s", {}, print, true, coroutine.create(print))
        for other, obj in pairs(instances()) do
          if other ~= name then
            wrong.n = wrong.n + 1
            wrong[wrong.n] = obj
          end
        end
        for i = 1, wrong.n do
          local ok, err = pcall(kv[2], wrong[i], 1, 2)
          assert.is_false(ok, name .. "." .. kv[1] .. " accepted " .. tostring(wrong[i]))
          err = tostring(err)
          assert.truthy(err:find("on bad self (" .. name .. " expected", 1, true), err)
        end
      end)
    end
  end
end)

describe("empty tables and vectors", function()
  local tails = {
    ab.tail.subgamma { v = 1, c = 0 }, ab.tail.gaussian { sd = 1 }, ab.tail.beta { a = 2, b = 3 },
    ab.tail.empirical { 1, 2, 5 }, ab.tail.cumulant(gaussian_psi), ab.tail.bounded { lo = 0, hi = 1 },
  }
  local methods = { "gain", "loss", "kl_needed", "tilt", "cumulant" }

  it("map to empty results or to a clean error, in every mapped method", function()
    for _, t in ipairs(tails) do
      for _, m in ipairs(methods) do
        for _, empty in ipairs { {}, ab.vector(0) } do
          local ok, r = pcall(t[m], t, empty)
          if ok then
            assert.are.equal(0, #r, tostring(t) .. ":" .. m)
            assert.are.equal(type(empty), type(r))
          else
            -- the reproducer of issue 9 (subgamma:loss{}): the message
            -- quoted element 0 of an empty buffer
            assert.are.equal("tail:" .. m .. ": not defined for " .. tostring(t) ..
              " (its assumption bounds the right tail only)", tostring(r))
          end
        end
      end
    end
  end)

  it("in every other mapped function", function()
    local g = ab.tail.gaussian { sd = 1 }
    for _, empty in ipairs { {}, ab.vector(0) } do
      assert.are.equal(0, #ab.bon.kl(empty))
      assert.are.equal(0, #ab.bon.win_rate(empty))
      assert.are.equal(0, #ab.bon.divergence(empty, "chi2"))
      assert.are.equal(0, #ab.bon.kl_estimate(empty, 4))
      assert.are.equal(0, #ab.bon.expected_gain(g, empty))
      assert.are.equal(0, #ab.bon.gain(g, empty))
      assert.are.equal(0, #ab.tilt.kl(g, empty))
      assert.are.equal(0, #ab.tilt.beta(g, empty))
      -- nothing to compute, or the law's own error: never a stray element
      local ok, err = pcall(ab.bon.expected_gain, ab.tail.subgaussian { sigma = 1 }, empty)
      assert(ok or err == "bad argument #1 to 'bon.expected_gain' (needs an exact law (gaussian, uniform, " ..
        "bernoulli, exponential, gamma, gumbel, logistic, beta, discrete, empirical), got subgaussian(sigma=1))", err)
      ok, err = pcall(ab.tilt.kl, ab.tail.cumulant(gaussian_psi), empty)
      assert(ok or err:find("^bad argument #1 to 'tilt.kl' %(needs a tail with a known cumulant"), err)
    end
  end)
end)

describe("error messages", function()
  -- Valid arguments of every public function, by qualified name.  A public
  -- function missing here fails the first test, so none is left out.
  local g = ab.tail.gaussian { sd = 1 }
  local P, R = { 0.25, 0.75 }, { 0, 1 }
  local PR = ab.prompts { ids = { "a", "a", "b", "b" }, reward = { 0, 1, 2, 2.5 }, logp_policy = { -1, -2, -1, -1 },
    logp_ref = { -1, -1, -2, -1 } }
  local VALID = {
    ["vector"] = { { 1, 2 } },
    ["divergence"] = { P, { 0.5, 0.5 }, "kl" },
    ["generator"] = { "kl", 2 },
    ["fdiv"] = { function(t) return (t - 1) ^ 2 end },
    ["rng"] = { 1, 2, { type = "mt19937" } },
    ["read_csv"] = { "/nonexistent/file.csv", { columns = { "a" }, progress = false } },
    ["read_jsonl"] = { "/nonexistent/file.jsonl", { fields = { "a" }, progress = true } },
    ["check_run"] = { { ref_rewards = { 0, 1, 2 }, policy_rewards = { 1, 2 }, logp_policy = { -1, -1 },
      logp_ref = { -1.5, -1.2 } } },
    ["tail.subgaussian"] = { { sigma = 1 } }, ["tail.subgamma"] = { { v = 1, c = 1 } },
    ["tail.subexponential"] = { { nu = 1, b = 1 } }, ["tail.bounded"] = { { lo = 0, hi = 1 } },
    ["tail.gaussian"] = { { sd = 1 } }, ["tail.uniform"] = { { lo = 0, hi = 1 } },
    ["tail.bernoulli"] = { { p = 0.3 } }, ["tail.exponential"] = { { rate = 1 } },
    ["tail.gamma"] = { { shape = 2, scale = 1 } }, ["tail.gumbel"] = { { scale = 1 } },
    ["tail.logistic"] = { { scale = 1 } }, ["tail.beta"] = { { a = 2, b = 3 } },
    ["tail.discrete"] = { { values = R, probs = P } }, ["tail.empirical"] = { { 1, 2, 3 } },
    ["tail.cumulant"] = { gaussian_psi, { lambda_max = 10 } },
    ["bon.divergence"] = { 4, "kl" }, ["bon.kl"] = { 4 }, ["bon.win_rate"] = { 4 },
    ["bon.kl_estimate"] = { 0.5, 4 }, ["bon.expected_gain"] = { g, 4 }, ["bon.gain"] = { g, 4 },
    ["bon.policy"] = { P, R, 4 }, ["bon.from_samples"] = { { 1, 2, 3 }, { 4, 5, 6 }, 2, { resamples = 10, seed = 1 } },
    ["bon.sample"] = { g, 4, 3, ab.rng(1) }, ["bon.n_for_kl"] = { 0.5 }, ["frontier.win_rate"] = { 0.5 },
    ["tilt.policy"] = { P, R, { beta = 1 } }, ["tilt.kl"] = { g, 1 }, ["tilt.beta"] = { g, 1 },
    ["tilt.compare_bon"] = { g, 4 }, ["tilt.divergence"] = { g, 0.5, "chi2" },
    ["tilt.sample"] = { g, { kl = 1 }, 3, ab.rng(1) },
    ["estimate.mean"] = { { 1, 2 } }, ["estimate.kl"] = { { -1, -2 }, { -1.5, -1 } },
    ["estimate.renyi"] = { { -1, -2 }, { -1.5, -1 }, { alpha = 2 } },
    ["estimate.variance_proxy"] = { { 1, 2, 4 }, { rng = ab.rng(1), resamples = 10 } },
    ["estimate.variance_proxy_resamples"] = { { 1, 2, 4 }, { seed = 1, count = 5 } },
    ["estimate.bon"] = { { 1, 2, 3 }, { 4, 5, 6 }, 2, { resamples = 10 } },
    ["estimate.frontier"] = { { 1, 2, 4 }, 0.5, { resamples = 10 } },
    ["mc.bon_gain"] = { g, 4, 10, ab.rng(1) }, ["mc.tilt_gain"] = { g, 1, 10, ab.rng(1) },
    ["mc.mean"] = { g, 10, ab.rng(1) },
    ["tail.student_t"] = { { df = 3, scale = 1 } }, ["tail.pareto"] = { { xm = 1, alpha = 3 } },
    ["renyi.gain"] = { { reference = g, aligned = g, divergence = { bon = 4 } } },
    ["renyi.bon_proxy"] = { g, 4 },
    ["error.bounded"] = { { eps = 0.1 } }, ["error.subgaussian"] = { { sigma = 1 } },
    ["error.variance"] = { { var = 1 } }, ["error.overestimation"] = { { rate = 0.1 } },
    ["joint.gaussian"] = { { rho = 0.5, sd_proxy = 1, sd_gold = 1 } },
    ["joint.additive"] = { { gold = g, error = g } },
    ["joint.samples"] = { { proxy = { 1, 2, 3 }, gold = { 1, 3, 2 } } },
    ["policy.best_of_n"] = { { n = { 1, 4 } } }, ["policy.kl_budget"] = { { kl = { 0.5, 1 } } },
    ["policy.kl_penalty"] = { { beta = { 1, 2 } } },
    ["policy.best_of_poisson"] = { { mu = { 0, 3 } } }, ["policy.top_fraction"] = { { eps = { 1, 0.1 } } },
    ["policy.win_rate_tilt"] = { { c = { 0, 3 } } },
    ["policy.soft_best_of_n"] = { { n = { 1, 4 }, temperature = 1 } },
    ["policy.define"] = { { name = "spec_rule", param = "c", evaluate = function() return {} end } },
    ["scenario"] = { { reference = g, policy = ab.policy.best_of_n { n = { 1, 4 } } } },
    ["write_csv"] = { os.tmpname(), { { a = 1 } } },
    ["plot"] = { { path = os.tmpname(), series = { { x = { 1, 2 }, y = { 1, 2 } } }, formats = { "svg" } } },
    ["goodhart.fit"] = { { 0.5, 1, 2, 3 }, { 0.4, 0.6, 0.5, 0.3 }, "bon" },
    ["grpo.step"] = { 0.3, { p_ref = 0.2, beta = 1 } }, ["grpo.trajectory"] = { 0.2, { beta = 1, steps = 3 } },
    ["grpo.fixed_points"] = { 0.2, { beta = 1 } }, ["grpo.limit"] = { 0.2, { beta = 1 } },
    ["bon.binary"] = { 0.2, 4 }, ["policy.grpo"] = { { beta = { 1, 2 } } },
    -- methods, named type:method; self is the first value
    ["tail:gain"] = { g, 1, { threads = 2, progress = false } }, ["tail:loss"] = { g, 1, { threads = 1 } },
    ["tail:kl_needed"] = { g, 1, { threads = 0, progress = true } },
    ["tail:tilt"] = { g, 1 }, ["tail:cumulant"] = { g, 1 }, ["tail:variance_proxy"] = { g, { numeric = true } },
    ["tail:mean"] = { g }, ["tail:sample"] = { g, 3, ab.rng(1) },
    ["tail:budget_needed"] = { g, 0.5, { family = "chi2", threads = 2, progress = false } },
    ["tail:optimal_policy"] = { ab.tail.discrete { values = R, probs = P }, 0.5 },
    ["rng:uniform"] = { ab.rng(1), 3 }, ["vector:totable"] = { ab.vector(2) },
    ["group"] = { { "a", "b", "a" }, { 1, 2, 3 } },
    ["prompts"] = { { ids = { "a", "a", "b", "b" }, reward = { 0, 1, 2, 2 }, threads = 2, progress = false } },
    ["shard.parse"] = { "2/4" }, ["shard.slice"] = { 10, "2/4" },
    ["shard.save"] = { os.tmpname(), { kind = "x", fingerprint = "f", shard = "1/1", rows = {} } },
    ["shard.load"] = { "/nonexistent/partial.lua" },
    ["shard.merge"] = { { { kind = "x", fingerprint = "f", shard = "1/1", rows = { { a = 1 } } } } },
    ["shard.summarize"] = { { { a = 1 }, { a = 2 } } },
    ["prompts:gain"] = { PR, 0.5 }, ["prompts:best_of_n"] = { PR, 2 }, ["prompts:bound"] = { PR, 0.5 },
    ["prompts:variance_proxy"] = { PR }, ["prompts:size"] = { PR }, ["prompts:ids"] = { PR },
    ["prompts:responses"] = { PR }, ["prompts:fingerprint"] = { PR },
    ["prompts:check_run"] = { PR, { beta = 1 } }, ["prompts:rows"] = { PR, { n = 2 } },
    ["prompts:summary"] = { PR, { n = 2 } }, ["prompts:partial"] = { PR, { n = 2 } },
  }
  -- predicates take anything: no argument of theirs is bad
  local PREDICATES = { ["policy.is_family"] = true }
  -- arguments that may be nil (optional); the rest are required
  local OPTIONAL = {
    ["rng"] = { [2] = true, [3] = true }, ["read_csv"] = { [2] = true }, ["tail.cumulant"] = { [2] = true },
    ["bon.from_samples"] = { [3] = true, [4] = true }, ["estimate.variance_proxy"] = { [2] = true },
    ["estimate.bon"] = { [4] = true }, ["estimate.frontier"] = { [3] = true },
    ["tail:variance_proxy"] = { [1] = true }, ["rng:uniform"] = { [1] = true },
    ["tail:gain"] = { [2] = true }, ["tail:loss"] = { [2] = true }, ["tail:kl_needed"] = { [2] = true },
    ["tail:budget_needed"] = { [2] = true },
    ["prompts:check_run"] = { [1] = true }, ["prompts:rows"] = { [1] = true },
    ["prompts:summary"] = { [1] = true }, ["prompts:partial"] = { [1] = true },
  }

  -- every public function and method, with its qualified name
  local function public()
    local list = {}
    for k, v in pairs(ab) do
      if type(v) == "function" then list[#list + 1] = { k, v }
      elseif type(v) == "table" then
        for k2, v2 in pairs(v) do
          if type(v2) == "function" then list[#list + 1] = { k .. "." .. k2, v2 } end
        end
      end
    end
    local objects = { tail = g, rng = ab.rng(1), vector = ab.vector(2), prompts = PR }
    for tname, obj in pairs(objects) do
      local index = getmetatable(obj).__index
      if type(index) == "function" then index = select(2, debug.getupvalue(index, 1)) end
      for k, v in pairs(index) do
        if type(v) == "function" then list[#list + 1] = { tname .. ":" .. k, v, method = true } end
      end
    end
    table.sort(list, function(a, b) return a[1] < b[1] end)
    return list
  end

  it("every public function has valid arguments listed that work", function()
    for _, f in ipairs(public()) do
      local args = VALID[f[1]] or (PREDICATES[f[1]] and {})
      assert(args, "no valid arguments for " .. f[1])
      local ok, err = pcall(f[2], table.unpack(args, 1, #args))
      assert(ok, f[1] .. ": " .. tostring(err))
    end
  end)

  local KINDS = {
    { "a boolean", true, always = true },
    { "a coroutine", coroutine.create(print), always = true },
    { "nil", nil },
    { "a numeric string", "1" },
    { "an empty table", {} },
    { "a function", print },
    { "NaN", 0 / 0 },
    { "-1", -1 },
    { "a huge number", 2 ^ 62 },
    { "an empty vector", ab.vector(0) },
    { "a table with a string", { 1, "2" } },
  }

  for _, f in ipairs(public()) do
    local run = PREDICATES[f[1]] and function() end or it
    run(f[1] .. " names itself and the argument for every bad argument", function()
      local args = VALID[f[1]]
      -- write_csv takes any string as its path: a numeric string makes a file "1"
      finally(function() os.remove("1") end)
      local first = f.method and 2 or 1 -- a method's self is not counted
      local quoted = f[1]:gsub("%p", "%%%0")
      for i = first, #args do
        local argn = i - first + 1
        for _, kind in ipairs(KINDS) do
          local a = { table.unpack(args, 1, #args) }
          a[i] = kind[2]
          local ok, err = pcall(f[2], table.unpack(a, 1, #args))
          err = tostring(err)
          local what = string.format("%s with %s as argument #%d", f[1], kind[1], argn)
          local must = kind.always or (kind[2] == nil and not (OPTIONAL[f[1]] or {})[argn])
          if must then assert(not ok, what .. " was accepted") end
          if not ok then
            -- a bad argument names the function and that argument
            -- (a user function's own failure is reported as such)
            local bad = err:match("^bad argument #(%d+) to '" .. quoted .. "'")
            assert(bad or err:find("^" .. quoted .. ": "), what .. ": " .. err)
            if kind.always then assert.are.equal(tostring(argn), bad, what .. ": " .. err) end
          end
        end
      end
    end)
  end

  it("numeric strings are rejected everywhere, in arrays as in options", function()
    H.raises(function() return ab.bon.kl { 1, "2" } end, "bad argument #1 to 'bon.kl'",
      "n[2] must be a number, got string")
    H.raises(function() return ab.bon.kl("2") end, "bad argument #1 to 'bon.kl'", "got string")
    H.raises(function() return ab.tail.subgaussian { sigma = "1" } end, "sigma must be a number, got string")
    H.raises(function() return ab.vector { "1" } end, "bad argument #1 to 'vector'", "got string")
    H.raises(function() return ab.tilt.compare_bon(g, "4") end, "bad argument #2 to 'tilt.compare_bon'",
      "n must be a number, got string")
  end)

  it("check_run names itself for a bad field, and returns no NaN", function()
    local run = { ref_rewards = { 1, 2 }, policy_rewards = { 1 }, logp_policy = { -1, "x" }, logp_ref = { -1, -2 } }
    H.raises(function() return ab.check_run(run) end, "bad argument #1 to 'check_run'",
      "logp_policy[2] must be a number, got string")
    run.logp_policy[2] = -1
    run.level = 2
    H.raises(function() return ab.check_run(run) end, "bad argument #1 to 'check_run'", "level must lie in (0, 1)")
    run.level = nil
    run.ref_rewards = { 1, 1 } -- constant: no limit to reach
    local r = ab.check_run(run)
    assert.are.equal(0, r.frontier)
    assert.is_nil(r.fraction)
  end)

  it("the reproducers of issue 9", function()
    H.raises(function() return ab.tilt.compare_bon(g) end, "bad argument #2 to 'tilt.compare_bon'",
      "n must be a number, got nil")
    H.raises(function() return ab.mc.mean(1, 2, 3) end, "bad argument #1 to 'mc.mean'",
      "alignbound.tail expected, got number")
    H.raises(function() return ab.mc.bon_gain(g, 4, 100) end, "bad argument #4 to 'mc.bon_gain'",
      "alignbound.rng expected, got nil")
    H.raises(function() return ab.rng(1):uniform(2 ^ 62) end, "bad argument #1 to 'rng:uniform'",
      "k is too large, got 4611686018427387904")
    H.raises(function() return ab.tail.cumulant(1) end, "bad argument #1 to 'tail.cumulant'")
    H.raises(function() return ab.fdiv(1) end, "bad argument #1 to 'fdiv'", "fn must be a function")
    H.raises(function() return ab.read_csv(1) end, "bad argument #1 to 'read_csv'", "path must be a string")
    H.raises(function() return ab.generator("kl") end, "bad argument #2 to 'generator'", "t must be a number")
    H.raises(function() return ab.bon.sample(g) end, "bad argument #2 to 'bon.sample'")
  end)
end)

-- Over randomized valid inputs (fixed seed): nothing comes back NaN, and
-- what has a range stays in it: gains, losses, KL needed, cumulants (psi is
-- centred, so psi >= 0 by Jensen), divergences >= 0 (tv, hellinger <= 1,
-- js <= log 2), probabilities in [0, 1] summing to 1, win rates in [0, 1].
-- An input the library rejects with an error is not counted here (the
-- error specs judge those); a wrong number is.
describe("randomized valid inputs", function()
  local SEED = 20261127
  local CASES = 60

  local function loguniform(a, b) return 10 ^ (a + (b - a) * math.random()) end
  local function uniform(a, b) return a + (b - a) * math.random() end
  -- W: the width of the ranges: 1 for ordinary inputs, larger for the
  -- extreme but valid ones (tiny and zero probabilities, huge n and
  -- parameters, budgets from 1e-300 to 1e6)
  local W, BETA_W = 1, 1
  local function simplex(m, spread)
    local p, s = {}, 0
    spread = spread * W
    for i = 1, m do
      p[i] = (W > 1 and math.random() < 0.2) and 0 or loguniform(-math.min(spread, 300), 0)
      s = s + p[i]
    end
    if s == 0 then
      p[1], s = 1, 1
    end
    for i = 1, m do p[i] = p[i] / s end
    return p
  end
  local function rewards(m)
    local r = {}
    for i = 1, m do r[i] = uniform(-5, 5) end
    return r
  end

  -- a random law of each constructor
  local function lu(a, b) return loguniform(a * W, b * W) end
  local function laws()
    local x = {}
    for i = 1, 1 + math.random(8) do x[i] = uniform(-3, 3) * lu(0, 1) end
    return {
      ab.tail.subgaussian { sigma = lu(-3, 3) },
      ab.tail.subgamma { v = lu(-3, 3), c = W > 1 and math.random() < 0.3 and 0 or lu(-3, 1) },
      ab.tail.subexponential { nu = lu(-3, 3), b = lu(-3, 1) },
      ab.tail.bounded { lo = -1, hi = lu(-1, 1) },
      ab.tail.bounded { lo = 0, hi = 1, mean = math.random() },
      ab.tail.gaussian { mean = uniform(-5, 5) * lu(0, 1), sd = lu(-3, 3) },
      ab.tail.uniform { lo = -1, hi = lu(-3, 3) },
      ab.tail.bernoulli { p = W > 1 and lu(-30, 0) or math.random() },
      ab.tail.exponential { rate = lu(-2, 2) },
      ab.tail.gamma { shape = lu(-1, 2), scale = lu(-2, 2) },
      ab.tail.gumbel { loc = uniform(-5, 5), scale = lu(-2, 2) },
      ab.tail.logistic { loc = uniform(-5, 5), scale = lu(-2, 2) },
      ab.tail.discrete { values = rewards(#x), probs = simplex(#x, 3) },
      ab.tail.empirical(x),
      -- Beta's extreme parameters have a check of their own (below)
      ab.tail.beta { a = loguniform(-1, 2) * BETA_W, b = loguniform(-1, 2) * BETA_W },
    }
  end

  -- bad[#bad + 1] = description when x is NaN or outside [lo, hi]
  local function within(bad, what, x, lo, hi)
    if type(x) ~= "number" or x ~= x or x < lo or x > hi then
      bad[#bad + 1] = string.format("%s = %s (range [%g, %g])", what, tostring(x), lo, hi)
    end
  end
  -- fail with a tally by function and the first cases
  local function report(bad)
    if #bad == 0 then return end
    local tally, names = {}, {}
    for _, b in ipairs(bad) do
      local f = b:match("^sum of ([%w_.]+)") or b:match("^([%w_.]+)") or b
      local kind = (b:find("= nan", 1, true) or b:find("= -nan", 1, true)) and "NaN" or "range"
      local key = f .. " (" .. kind .. ")"
      if not tally[key] then names[#names + 1] = key end
      tally[key] = (tally[key] or 0) + 1
    end
    table.sort(names)
    for i, k in ipairs(names) do names[i] = k .. ": " .. tally[k] end
    error(#bad .. " out of range: " .. table.concat(names, ", ") .. "; first: " ..
      table.concat(bad, "\n", 1, math.min(#bad, 10)), 2)
  end
  local INF = math.huge
  local checks = {}
  -- Each check runs at ordinary and at extreme ranges (widths of 10^(6 W)):
  -- the extreme ones found NaN and out-of-range values in the maths (issue 9)

  checks["tail methods"] = function()
    math.randomseed(SEED)
    local bad = {}
    for _ = 1, CASES do
      for _, t in ipairs(laws()) do
        local d = tostring(t)
        local kl, g, l = lu(-6, 2), uniform(-1, 3) * lu(0, 1), uniform(-3, 3) * lu(0, 1)
        local function call(name, x, lo, hi, ...)
          local ok, y = pcall(t[name], t, x, ...)
          if ok then within(bad, string.format("%s:%s(%.17g)", d, name, x or 0 / 0), y, lo, hi) end
        end
        call("gain", kl, 0, INF)
        call("loss", kl, 0, INF)
        call("kl_needed", g, 0, INF)
        call("tilt", kl, 0, INF)
        call("cumulant", l, 0, INF)
        local ok, s2 = pcall(t.variance_proxy, t)
        if ok then within(bad, d .. ":variance_proxy()", s2, 0, INF) end
        local m = t:mean()
        if m ~= nil then within(bad, d .. ":mean()", m, -INF, INF) end
      end
    end
    report(bad)
  end

  checks["best-of-n"] = function()
    math.randomseed(SEED + 1)
    local bad = {}
    local families = { "kl", "reverse_kl", "chi2", "hellinger", "tv", "js" }
    local top = { hellinger = 1, tv = 1, js = math.log(2) }
    for _ = 1, CASES do
      local n = lu(0, 6)
      for _, f in ipairs(families) do
        within(bad, "bon.divergence(" .. n .. ", " .. f .. ")", ab.bon.divergence(n, f), 0, top[f] or INF)
      end
      local a = uniform(-3, 5) * lu(0, 1)
      if a ~= 0 and a ~= 1 then
        within(bad, "bon.divergence(" .. n .. ", alpha " .. a .. ")",
          ab.bon.divergence(n, "alpha", { alpha = a }), 0, INF)
      end
      within(bad, "bon.divergence(" .. n .. ", renyi)",
        ab.bon.divergence(n, "renyi", { alpha = lu(-2, 2) }), 0, INF)
      within(bad, "bon.kl(" .. n .. ")", ab.bon.kl(n), 0, INF)
      within(bad, "bon.win_rate(" .. n .. ")", ab.bon.win_rate(n), 0, 1)
      within(bad, "bon.kl_estimate(eps, " .. n .. ")", ab.bon.kl_estimate(math.random(), n), 0, INF)
      local m = 1 + math.random(6)
      local p, r = simplex(m, 4), rewards(m)
      local ok, law = pcall(ab.bon.policy, p, r, n)
      if ok then
        local s = 0
        for i = 1, m do
          within(bad, "bon.policy(" .. n .. ").policy[" .. i .. "]", law.policy[i], 0, 1)
          s = s + law.policy[i]
        end
        within(bad, "sum of bon.policy(" .. n .. ").policy", s, 1 - 1e-12, 1 + 1e-12)
        within(bad, "bon.policy(" .. n .. ").kl", law.kl, 0, law.kl_bound * (1 + 1e-12) + 1e-300)
        within(bad, "bon.policy(" .. n .. ").win_rate", law.win_rate, 0, 1)
        within(bad, "bon.policy(" .. n .. ").mean", law.mean, -5, 5)
      end
      for _, t in ipairs(laws()) do
        local ok2, gain = pcall(ab.bon.gain, t, n)
        if ok2 then within(bad, "bon.gain(" .. tostring(t) .. ", " .. n .. ")", gain, 0, INF) end
        if t:mean() ~= nil then
          local ok3, eg = pcall(ab.bon.expected_gain, t, n)
          if ok3 then within(bad, "bon.expected_gain(" .. tostring(t) .. ", " .. n .. ")", eg, 0, INF) end
        end
      end
    end
    report(bad)
  end

  checks["tilts"] = function()
    math.randomseed(SEED + 2)
    local bad = {}
    for _ = 1, CASES do
      local m = 1 + math.random(6)
      local p, r = simplex(m, 4), rewards(m)
      for _, opts in ipairs { { beta = lu(-2, 2) }, { kl = lu(-6, 1) } } do
        local ok, law = pcall(ab.tilt.policy, p, r, opts)
        if ok then
          local s, what = 0, "tilt.policy(" .. (opts.beta and "beta" or "kl") .. ")"
          for i = 1, m do
            within(bad, what .. ".policy[" .. i .. "]", law.policy[i], 0, 1)
            s = s + law.policy[i]
          end
          within(bad, "sum of " .. what .. ".policy", s, 1 - 1e-12, 1 + 1e-12)
          within(bad, what .. ".kl", law.kl, 0, INF)
          within(bad, what .. ".gain", law.gain, 0, INF)
          within(bad, what .. ".beta", law.beta, 0, INF)
          within(bad, what .. ".log_z", law.log_z, -INF, INF)
        end
      end
      for _, t in ipairs(laws()) do
        local d = tostring(t)
        local ok, kl = pcall(ab.tilt.kl, t, lu(-1, 2))
        if ok then within(bad, "tilt.kl(" .. d .. ")", kl, 0, INF) end
        local ok2, beta = pcall(ab.tilt.beta, t, lu(-4, 1))
        if ok2 then within(bad, "tilt.beta(" .. d .. ")", beta, 0, INF) end
        local ok3, c = pcall(ab.tilt.compare_bon, t, lu(0, 3))
        if ok3 then
          for _, k in ipairs { "kl", "bon_gain", "tilt_gain", "beta", "kl_bon_tilt" } do
            within(bad, "tilt.compare_bon(" .. d .. ")." .. k, c[k], 0, INF)
          end
        end
      end
    end
    report(bad)
  end

  checks["divergences between laws"] = function()
    math.randomseed(SEED + 3)
    local bad = {}
    local top = { hellinger = 1, tv = 1, js = math.log(2) }
    for _ = 1, CASES * 5 do
      local m = 1 + math.random(6)
      local p, q = simplex(m, 6), simplex(m, 6)
      for _, f in ipairs { "kl", "reverse_kl", "chi2", "hellinger", "tv", "js" } do
        within(bad, "divergence(" .. f .. ")", ab.divergence(p, q, f), 0, top[f] or INF)
      end
      within(bad, "divergence(renyi)", ab.divergence(p, q, "renyi", { alpha = lu(-2, 2) }), 0, INF)
      within(bad, "divergence(alpha)", ab.divergence(p, q, "alpha", { alpha = uniform(-3, 5) * lu(0, 1) }), 0, INF)
      within(bad, "generator(kl)", ab.generator("kl", loguniform(-5, 5)), -INF, INF)
    end
    report(bad)
  end

  checks["estimators and Monte Carlo checks"] = function()
    math.randomseed(SEED + 4)
    local bad = {}
    for i = 1, CASES do
      local k = 2 + math.random(50)
      local lp, lq, x = {}, {}, {}
      for j = 1, k do
        lp[j], lq[j], x[j] = uniform(-10, 0), uniform(-10, 0), uniform(-3, 3)
      end
      local m, se = ab.estimate.mean(x)
      within(bad, "estimate.mean", m, -3, 3)
      within(bad, "estimate.mean se", se, 0, INF)
      for _, e in ipairs { "k1", "k2", "k3" } do
        local v, s = ab.estimate.kl(lp, lq, { estimator = e })
        within(bad, "estimate.kl " .. e, v, e == "k1" and -INF or 0, INF)
        within(bad, "estimate.kl se " .. e, s, 0, INF)
      end
      local rv, rs = ab.estimate.renyi(lp, lq, { alpha = loguniform(-1, 1) })
      within(bad, "estimate.renyi", rv, -INF, INF)
      within(bad, "estimate.renyi se", rs, 0, INF)
      local s2, up = ab.estimate.variance_proxy(x, { rng = ab.rng(i), resamples = 20 })
      within(bad, "estimate.variance_proxy", s2, 0, INF)
      within(bad, "estimate.variance_proxy upper", up, 0, INF)
      within(bad, "bon.from_samples", ab.bon.from_samples(x, lp, math.random(k)), -10, 0)
      local t = ab.tail.gaussian { sd = loguniform(-1, 1) }
      within(bad, "mc.mean", ab.mc.mean(t, 10, ab.rng(i)), -INF, INF)
      within(bad, "mc.bon_gain", ab.mc.bon_gain(t, loguniform(0, 3), 10, ab.rng(i)), -INF, INF)
      within(bad, "mc.tilt_gain", ab.mc.tilt_gain(t, loguniform(-3, 0), 10, ab.rng(i)), -INF, INF)
      for _, v in ipairs(t:sample(5, ab.rng(i)):totable()) do within(bad, "sample", v, -INF, INF) end
    end
    report(bad)
  end

  for _, name in ipairs { "tail methods", "best-of-n", "tilts", "divergences between laws",
    "estimators and Monte Carlo checks" } do
    it(name .. ", ordinary ranges", function()
      W = 1
      checks[name]()
    end)
    -- extreme ranges: widths of 10^(6 W) and more
    it(name .. ", extreme ranges", function()
      W = 5
      checks[name]()
      W = 1
    end)
  end

  -- Beta laws with large parameters (up to 1e12), in every function that
  -- takes a tail
  it("Beta laws with large parameters", function()
    BETA_W = 1e10
    for _, name in ipairs { "tail methods", "best-of-n", "tilts" } do checks[name]() end
    BETA_W = 1
  end)
end)

-- Multi-budget sweeps of a finite law on every core (issue 10): threads=
-- and progress= after the budgets, the values bit-identical for any thread
-- count, and the options checked with the method's name.
describe("sweeps over an empirical law: threads= and progress=", function()
  -- 10^5 samples of a fixed generator (a linear congruential one, so the
  -- spec needs no rng), 1000 KL budgets
  local N, M = 100000, 1000
  local s = ab.vector(N)
  local seed = 12345
  for i = 1, N do
    seed = (seed * 1103515245 + 12345) % 2147483648
    s[i] = seed / 2147483648 + (i % 7) * 0.1
  end
  local t = ab.tail.empirical(s)
  local kl = ab.vector(M)
  for i = 1, M do kl[i] = 0.001 * i end

  it("gives bit-identical values on 1, 2 and 3 threads, for gain, loss and kl_needed", function()
    local g1 = t:gain(kl, { threads = 1, progress = false })
    local l1 = t:loss(kl, { threads = 1 })
    local k1 = t:kl_needed(g1, { threads = 1 })
    for _, th in ipairs { 2, 3 } do
      local g = t:gain(kl, { threads = th, progress = false })
      local l = t:loss(kl, { threads = th })
      local k = t:kl_needed(g1, { threads = th })
      for i = 1, M do
        assert(g[i] == g1[i] and l[i] == l1[i] and k[i] == k1[i], "budget " .. i .. " on " .. th .. " threads")
      end
    end
    -- the default (every core) is the same, and a table of budgets too
    local gd = t:gain(kl)
    for i = 1, M do assert(gd[i] == g1[i], "default threads, budget " .. i) end
    local gt = t:gain({ kl[1], kl[500], kl[M] }, { threads = 2 })
    H.close(gt[2], g1[500], 1e-12, "a table of budgets")
    -- each value is the one-budget solve (no warm start from a neighbour)
    -- to 1e-12, and kl_needed inverts gain
    for _, i in ipairs { 1, 64, 65, 500, 999, M } do
      H.close(g1[i], t:gain(kl[i]), 1e-12, "gain at budget " .. i)
      H.close(k1[i], kl[i], 1e-9, "kl_needed(gain) at budget " .. i)
    end
  end)

  it("in the divergence families too", function()
    local b = ab.vector(200)
    for i = 1, 200 do b[i] = 0.01 * i end
    for _, fam in ipairs { "chi2", "hellinger", "tv" } do
      local one = t:gain(b, { family = fam, threads = 1 })
      local two = t:gain(b, { family = fam, threads = 2, progress = false })
      local need = t:budget_needed(one, { family = fam, threads = 3 })
      local need1 = t:budget_needed(one, { family = fam, threads = 1 })
      for i = 1, 200 do
        assert(one[i] == two[i] and need[i] == need1[i], fam .. " budget " .. i)
      end
    end
  end)

  it("reports the first failing budget, whatever thread met it", function()
    local bad = ab.vector(M)
    for i = 1, M do bad[i] = kl[i] end
    bad[130], bad[700] = 0 / 0, -1
    for _, th in ipairs { 1, 3 } do
      H.raises(function() return t:gain(bad, { threads = th }) end, "bad argument #1 to 'tail:gain'",
        "element 130: kl must be a number >= 0")
    end
  end)

  it("checks threads= and progress= by name", function()
    H.raises(function() return t:gain(kl, { threads = -1 }) end, "bad argument #2 to 'tail:gain'", "threads")
    H.raises(function() return t:gain(kl, { threads = 1.5 }) end, "bad argument #2 to 'tail:gain'", "threads")
    H.raises(function() return t:loss(kl, { threads = 2000 }) end, "bad argument #2 to 'tail:loss'",
      "threads must be at most 1024")
    H.raises(function() return t:kl_needed(kl, { progress = 1 }) end, "bad argument #2 to 'tail:kl_needed'",
      "progress")
    H.raises(function() return t:gain(kl, { family = "chi2", threads = "2" }) end, "bad argument #2 to 'tail:gain'",
      "threads")
    H.raises(function() return t:tilt(kl, { threads = 2 }) end, "bad argument #2 to 'tail:tilt'", "threads")
  end)
end)
