-- Bad input: every misuse raises a Lua error naming the function and the
-- argument; nothing aborts.
local ab = require "alignbound"
local H = require "helper"

describe("constructors reject bad parameters", function()
  local cases = {
    { "subgaussian", { sigma = -1 }, "sigma must be positive and finite, got -1" },
    { "subgaussian", { sigma = 0 / 0 }, "sigma must be positive" },
    { "subgaussian", { variance = math.huge }, "variance must be positive and finite" },
    { "subgaussian", { sigma = 1, variance = 1 }, "exactly one of sigma and variance" },
    { "subgaussian", {}, "exactly one of sigma and variance" },
    { "subgaussian", { sigma = "1" }, "sigma must be a number, got string" },
    { "subgaussian", { sigmaa = 1 }, "unknown option 'sigmaa'" },
    { "subgamma", { v = 1 }, "c is required" },
    { "subgamma", { v = 1, c = -1 }, "c must be >= 0" },
    { "subexponential", { nu = 1, b = 0 }, "b must be positive" },
    { "bounded", { lo = 1, hi = 1 }, "hi must be above lo" },
    { "bounded", { lo = 0, hi = 1, mean = 2 }, "mean must lie in [lo, hi]" },
    { "bounded", { lo = -math.huge, hi = 1 }, "lo must be finite" },
    { "gaussian", { sd = -2 }, "sd must be positive" },
    { "gaussian", { mean = 0 / 0, sd = 1 }, "mean must be finite" },
    { "uniform", { lo = 2, hi = 1 }, "hi must be above lo" },
    { "bernoulli", { p = 1.5 }, "p must lie in [0, 1]" },
    { "exponential", { rate = 0 }, "rate must be positive" },
    { "gamma", { shape = 1 }, "scale is required" },
    { "gumbel", { scale = -1 }, "scale must be positive" },
    { "logistic", { loc = math.huge, scale = 1 }, "loc must be finite" },
    { "beta", { a = 0, b = 1 }, "a must be positive" },
    { "discrete", { values = { 1, 2 }, probs = { 0.5, 0.6 } }, "probs must sum to 1" },
    { "discrete", { values = { 1, 2 }, probs = { 0.5 } }, "differ in length (2 and 1)" },
    { "discrete", { values = { 1, 2 }, probs = { 1.5, -0.5 } }, "probs[2] must be a probability" },
    { "discrete", { values = { 1, 0 / 0 }, probs = { 0.5, 0.5 } }, "values[2] must be finite" },
    { "discrete", { values = {}, probs = {} }, "values is empty" },
    { "discrete", { probs = { 1 } }, "values is required" },
    { "discrete", { values = { 1 }, probs = { "a" } }, "probs[1] must be a number" },
  }
  for _, c in ipairs(cases) do
    it(c[1] .. ": " .. c[3], function()
      H.raises(function() return ab.tail[c[1]](c[2]) end,
        "bad argument #1 to 'tail." .. c[1] .. "'", c[3])
    end)
  end

  it("need a table of options", function()
    H.raises(function() return ab.tail.gaussian(3) end,
      "bad argument #1 to 'tail.gaussian'", "table of options expected, got number")
  end)

  it("empirical needs a non-empty table or vector of finite numbers", function()
    H.raises(function() return ab.tail.empirical {} end, "bad argument #1 to 'tail.empirical'", "empty")
    H.raises(function() return ab.tail.empirical(ab.vector(0)) end, "empty")
    H.raises(function() return ab.tail.empirical { 1, math.huge } end, "samples[2] must be finite")
    H.raises(function() return ab.tail.empirical("x") end, "must be a table or alignbound.vector")
  end)

  it("cumulant needs a function and a positive lambda_max", function()
    H.raises(function() return ab.tail.cumulant(1) end, "bad argument #1 to 'tail.cumulant'",
      "fn must be a function, got number")
    H.raises(function() return ab.tail.cumulant(function() return 0 end, { lambda_max = 0 }) end,
      "lambda_max must be positive")
    H.raises(function() return ab.tail.cumulant(function() return 0 end, { lmax = 1 }) end,
      "unknown option 'lmax'")
  end)
end)

describe("methods reject bad arguments", function()
  local t = ab.tail.gaussian { sd = 1 }

  it("kl < 0 or NaN, as a number, in a table or in a vector", function()
    H.raises(function() return t:gain(-1) end, "bad argument #1 to 'tail:gain'", "kl must be a number >= 0, got -1")
    H.raises(function() return t:gain(0 / 0) end, "kl must be a number >= 0")
    H.raises(function() return t:loss { 1, -2 } end, "bad argument #1 to 'tail:loss'", "element 2", "got -2")
    H.raises(function() return t:gain(ab.vector { 1, 2, -1 }) end, "element 3")
    H.raises(function() return ab.tail.beta { a = 2, b = 2 }:gain(-1) end, "kl must be a number >= 0")
    H.raises(function() return t:tilt(-1) end, "bad argument #1 to 'tail:tilt'")
  end)

  it("wrong types and unknown options", function()
    H.raises(function() return t:gain("x") end, "must be a number, table or alignbound.vector, got string")
    H.raises(function() return t:gain { 1, "x" } end, "kl[2] must be a number")
    H.raises(function() return t:gain(1, { numerik = true }) end, "bad argument #2 to 'tail:gain'",
      "unknown option 'numerik'")
    H.raises(function() return t:gain(1, { numeric = 1 }) end, "numeric must be a boolean")
    H.raises(function() return t:kl_needed(1, { side = "up" }) end, "side must be")
    H.raises(function() return t:cumulant(1, { derivative = 3 }) end, "derivative must be 0, 1 or 2")
    H.raises(function() return t:kl_needed(0 / 0) end, "gain must not be NaN")
    H.raises(function() return t:cumulant(0 / 0) end, "lambda must not be NaN")
    H.raises(function() return t.gain(5, 1) end, "calling 'tail:gain' on bad self")
    H.raises(function() return t.gain(ab.vector(1), 1) end, "calling 'tail:gain' on bad self")
  end)

  it("a loss for a right-tail-only class", function()
    H.raises(function() return ab.tail.subgamma { v = 1, c = 1 }:loss(1) end,
      "tail:loss: not defined for subgamma(v=1, c=1)")
    H.raises(function() return ab.tail.subgamma { v = 1, c = 1 }:kl_needed(1, { side = "loss" }) end,
      "not defined")
  end)

  it("accepts edge values: kl = 0 and kl = inf, gains <= 0", function()
    assert.are.equal(0, t:gain(0))
    assert.are.equal(math.huge, t:gain(math.huge))
    assert.are.equal(0.5, ab.tail.uniform { lo = 0, hi = 1 }:gain(math.huge))
    assert.are.equal(0, t:kl_needed(-3))
    assert.are.equal(0, t:kl_needed(0))
    assert.are.equal(math.huge, ab.tail.uniform { lo = 0, hi = 1 }:kl_needed(0.6))
  end)

  it("degenerate laws gain nothing", function()
    local d = ab.tail.bernoulli { p = 0 }
    assert.are.equal(0, d:gain(5))
    assert.are.equal(math.huge, d:kl_needed(0.1))
    assert.are.equal(0, ab.tail.bounded { lo = 0, hi = 1, mean = 1 }:gain(3))
  end)
end)

describe("objects", function()
  it("print what they are", function()
    assert.are.equal("subgaussian(sigma=2)", tostring(ab.tail.subgaussian { sigma = 2 }))
    assert.are.equal("bounded(lo=0, hi=1, mean=0.3)", tostring(ab.tail.bounded { lo = 0, hi = 1, mean = 0.3 }))
    assert.are.equal("empirical(3 samples, mean=2)", tostring(ab.tail.empirical { 1, 2, 3 }))
    assert.are.equal("exponential(rate=2)", tostring(ab.tail.exponential { rate = 2 }))
  end)

  it("report their mean (nil for assumption classes)", function()
    H.close(ab.tail.gumbel { loc = 1, scale = 2 }:mean(), 1 + 2 * 0.57721566490153286, 1e-15, "Gumbel mean")
    assert.is_nil(ab.tail.subgaussian { sigma = 1 }:mean())
  end)

  it("are independent in several Lua states at once (no global state)", function()
    -- two coroutines interleaving computations on separate tails
    local a = coroutine.wrap(function()
      local s = ab.tail.bernoulli { p = 0.2 }
      for _ = 1, 3 do coroutine.yield(s:gain(0.3)) end
    end)
    local b = ab.tail.bernoulli { p = 0.7 }
    local first = a()
    local other = b:gain(0.3)
    assert.are.equal(first, a())
    assert.are_not.equal(first, other)
  end)
end)

-- Errors of the Lua-side fronts name the function, never a file of the
-- library: a level counted through nested helpers used to point into
-- policy.lua ("policy.lua:115: bad argument #1 to 'policy.best_of_n'").
-- Each call is made from line 2 of a chunk named "caller"; the message may
-- carry that position or none, nothing else.
describe("Lua-front argument errors", function()
  local cases = {
    { "ab.policy.best_of_n{n={0.5}}", "bad argument #1 to 'policy.best_of_n'" },
    { "ab.policy.best_of_n(5)", "policy.best_of_n" },
    { "ab.policy.best_of_n{m=4}", "unknown option 'm'" },
    { "ab.policy.kl_budget{kl={}}", "policy.kl_budget" },
    { "ab.policy.kl_penalty{beta={-1}}", "policy.kl_penalty" },
    { "ab.policy.soft_best_of_n{n=4}", "temperature is required" },
    { "ab.policy.define(5)", "policy.define" },
    { "ab.policy.best_of_n{n=4}:divergence('kl', 5)", "bad argument #2" },
    { "ab.policy.best_of_n{n=4}:divergence('kl', {beta=1})", "unknown option 'beta'" },
    { "ab.policy.best_of_n{n=4}.divergence(5)", "bad self" },
    { "ab.policy.kl_penalty{beta=1}:law()", "not available" },
    { "ab.scenario(5)", "bad argument #1 to 'scenario'" },
    { "ab.scenario{policy=ab.policy.best_of_n{n=4}}", "give reference= or joint=" },
    { "ab.scenario{reference=ab.tail.gaussian{sd=1}, policy=ab.policy.best_of_n{n=4}, divergences={'nope'}}",
      "unknown family 'nope'" },
    { "ab.scenario{reference=ab.tail.gaussian{sd=1}, policy=ab.policy.best_of_n{n=4}}:peak()", "scenario:peak" },
    { "ab.scenario{reference=ab.tail.gaussian{sd=1}, policy=ab.policy.best_of_n{n=4}}:plot('x', 5)",
      "scenario:plot" },
    { "ab.mc.mean(5, 10, ab.rng(0))", "bad argument #1 to 'mc.mean'" },
    { "ab.mc.bon_gain(ab.tail.gaussian{sd=1}, 0.5, 10, ab.rng(0))", "bad argument #2 to 'mc.bon_gain'" },
    { "ab.mc.tilt_gain(ab.tail.gaussian{sd=1}, 1, 0, ab.rng(0))", "mc.tilt_gain" },
    { "ab.check_run(5)", "bad argument #1 to 'check_run'" },
    { "ab.check_run{ref_rewards={1,2}, policy_rewards={1,2}, logp_policy={0}, logp_ref={0,1}}",
      "check_run", "logp_policy, logp_ref" },
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      local chunk = assert(load("local ab = require 'alignbound'\nlocal _ = " .. c[1], "=caller"))
      local ok, err = pcall(chunk)
      assert.is_false(ok, "expected an error")
      err = tostring(err)
      for i = 2, #c do assert.truthy(err:find(c[i], 1, true), err) end
      local where = err:match("^([^:]*):%d+: ")
      assert.truthy(where == nil or where == "caller", "names a position outside the caller: " .. err)
    end)
  end
end)

describe("read_csv without a column asked for", function()
  it("lists the columns the file has", function()
    local p = os.tmpname()
    local f = assert(io.open(p, "w"))
    f:write("a,bb\n1,2\n")
    f:close()
    H.raises(function() return ab.read_csv(p, { columns = { "c" } }) end,
      "bad argument #2 to 'read_csv'", p .. ": no column named 'c' (the columns are 'a', 'bb')")
    os.remove(p)
  end)
end)

describe("methods of error and joint models", function()
  it("are named obj:method in their errors, as tail:gain is", function()
    local j = ab.joint.gaussian { rho = 0.5, sd_proxy = 1, sd_gold = 1 }
    H.raises(function() return j:bon(0.5) end, "bad argument #1 to 'joint:bon'")
    H.raises(function() return j:tilt(-1) end, "bad argument #1 to 'joint:tilt'")
    H.raises(function() return j:tilt_kl(-1) end, "bad argument #1 to 'joint:tilt_kl'")
    H.raises(function() return j:proxy_law { draws = 1 } end, "to 'joint:proxy_law'", "draws")
    H.raises(function() return ab.error.bounded { eps = 0.1 }:golden(0 / 0, { kl = 1 }) end,
      "to 'error:golden'")
  end)
end)
