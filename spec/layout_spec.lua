-- Bindings that read like the core (issue 11): a wrong userdata is named by
-- its type as luaL_typeerror names it, a closed object is a clean error in
-- every place that takes one, one probability tolerance from the core, the
-- functions each topic file registers, and each repeated piece of the core
-- defined once.  The source checks read the tree the specs run from.
local ab = require "alignbound"
local H = require "helper"

local function source(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function files(dir, ext)
  local list = {}
  local p = assert(io.popen("ls " .. dir))
  for name in p:lines() do
    if name:sub(-#ext) == ext then list[#list + 1] = dir .. "/" .. name end
  end
  p:close()
  return list
end

describe("a wrong userdata", function()
  local g = ab.tail.gaussian { sd = 1 }

  it("is named by its type, as luaL_typeerror names it", function()
    -- before: "alignbound.tail expected, got userdata"
    H.raises(function() return ab.bon.sample(ab.rng(1), 2, 3, ab.rng(1)) end,
      "bad argument #1 to 'bon.sample' (alignbound.tail expected, got alignbound.rng)")
    H.raises(function() return g:sample(3, g) end,
      "bad argument #2 to 'tail:sample' (alignbound.rng expected, got alignbound.tail)")
    H.raises(function() return ab.tilt.sample(g, { kl = 1 }, 3, ab.vector { 1 }) end,
      "bad argument #4 to 'tilt.sample' (alignbound.rng expected, got alignbound.vector)")
    H.raises(function() return ab.bon.gain(ab.rng(2), 4) end,
      "bad argument #1 to 'bon.gain' (alignbound.tail expected, got alignbound.rng)")
    -- and where a number, table or function was expected
    H.raises(function() return ab.bon.kl(ab.rng(1)) end, "bad argument #1 to 'bon.kl'", "got alignbound.rng")
    H.raises(function() return ab.tail.gaussian(g) end, "bad argument #1 to 'tail.gaussian'",
      "got alignbound.tail")
    H.raises(function() return ab.tail.cumulant(ab.vector { 1 }) end, "bad argument #1 to 'tail.cumulant'",
      "got alignbound.vector")
    H.raises(function() return g:gain(0.1, ab.rng(1)) end, "bad argument #2 to 'tail:gain'", "got alignbound.rng")
    -- a plain value keeps its Lua type
    H.raises(function() return ab.bon.gain(1, 4) end,
      "bad argument #1 to 'bon.gain' (alignbound.tail expected, got number)")
    H.raises(function() return ab.bon.gain(nil, 4) end,
      "bad argument #1 to 'bon.gain' (alignbound.tail expected, got nil)")
  end)

  it("as self, in every method, the same way", function()
    local r = ab.rng(3)
    H.raises(function() return r.uniform(g) end,
      "calling 'rng:uniform' on bad self (alignbound.rng expected, got alignbound.tail)")
    local j = ab.joint.gaussian { rho = 0.5, sd_proxy = 1, sd_gold = 1 }
    H.raises(function() return j.bon(g, 4) end,
      "calling 'joint:bon' on bad self (alignbound.joint expected, got alignbound.tail)")
  end)
end)

describe("a closed generator", function()
  it("is a clean error wherever it is taken, like a closed tail", function()
    local g = ab.tail.gaussian { sd = 1 }
    local r = ab.rng(1)
    getmetatable(r).__close(r)
    H.raises(function() return ab.bon.sample(g, 2, 3, r) end,
      "bad argument #4 to 'bon.sample' (rng is closed)")
    H.raises(function() return g:sample(2, r) end, "bad argument #2 to 'tail:sample' (rng is closed)")
    H.raises(function() return r:uniform() end, "rng:uniform: rng is closed")
    assert.are.equal("rng(seed=1, stream=0, closed)", tostring(r))
  end)
end)

describe("one probability tolerance", function()
  it("is the core's, and every entry point that takes probabilities keeps to it", function()
    assert.are.equal(1e-9, ab.prob_tolerance)
    local tol = ab.prob_tolerance
    local function probs(e) return { 0.25, 0.25, 0.5 + e } end
    local calls = {
      function(p) return ab.tail.discrete { values = { 0, 1, 2 }, probs = p } end,
      function(p) return ab.divergence(p, { 0.25, 0.25, 0.5 }, "kl") end,
      function(p) return ab.tilt.policy(p, { 0, 1, 2 }, { kl = 0.1 }) end,
      function(p) return ab.bon.policy(p, { 0, 1, 2 }, 4) end,
      function(p) return ab.policy.best_of_n { n = 4 }:law(p, { 0, 1, 2 }) end,
    }
    for i, call in ipairs(calls) do
      assert(pcall(call, probs(0.9 * tol)), "call " .. i .. " refused a sum inside the tolerance")
      local ok, err = pcall(call, probs(1.1 * tol))
      assert(not ok, "call " .. i .. " accepted a sum outside the tolerance")
      err = tostring(err)
      assert(err:find("sum to 1 within 1e-09", 1, true) or err:find("sum to 1 within 1e-9", 1, true), err)
    end
  end)
end)

describe("the bindings' layout", function()
  local bindings = files("lua_bindings", ".c")

  it("module.c only opens the module", function()
    local s = source("lua_bindings/module.c")
    local defs = 0
    for _ in s:gmatch("\n[%w_][%w_ %*]-%s%*?([%w_]+)%([^;]-%)%s*{") do defs = defs + 1 end
    assert.are.equal(1, defs)
    assert.truthy(s:find("int luaopen_alignbound_core(lua_State *L) {", 1, true))
  end)

  it("each topic file registers only its own functions", function()
    -- no open function reaches into a table another file made
    for _, path in ipairs(bindings) do
      local s = source(path)
      for body in s:gmatch("\nvoid abL_open_[%w_]+%(lua_State %*L%) {(.-)\n}") do
        assert.falsy(body:find("lua_getfield(L, -1,", 1, true), path .. " writes into another topic's table")
        assert.falsy(body:find("lua_getfield(L, -2,", 1, true), path .. " writes into another topic's table")
        assert.falsy(body:find("lua_getfield(L, -3,", 1, true), path .. " reads another topic's table")
      end
    end
  end)

  it("has one path from a core status to a Lua error", function()
    for _, path in ipairs(bindings) do
      if path ~= "lua_bindings/status.c" then
        assert.falsy(source(path):find("ab_strerror", 1, true), path .. " words a status itself")
      end
    end
  end)

  it("names the type of a bad argument only through abL_typename", function()
    for _, path in ipairs(bindings) do
      local _, uses = source(path):gsub("luaL_typename%(", "")
      -- abL_typename itself (args.c) falls back on it for plain values
      assert.are.equal(path == "lua_bindings/args.c" and 1 or 0, uses, path)
    end
  end)
end)

describe("the core defines each repeated piece once", function()
  local core = files("core", ".c")

  it("Euler's constant is GSL's M_EULER", function()
    for _, path in ipairs(core) do
      assert.falsy(source(path):find("0.5772156649", 1, true), path)
    end
  end)

  it("the probability tolerance is AB_PROB_TOL", function()
    for _, path in ipairs(core) do
      assert.falsy(source(path):find("%- 1%.0%) <= 1e%-9"), path)
    end
    for _, path in ipairs(files("lua_bindings", ".c")) do
      assert.falsy(source(path):find("within 1e-9", 1, true), path)
    end
  end)

  it("the compensated-sum step and the finite-law test live in internal.h", function()
    for _, path in ipairs(core) do
      local s = source(path)
      assert.falsy(s:find("KIND_DISCRETE ||", 1, true), path)
      assert.falsy(s:find("%(fabs%([%w_.>-]+%) >= fabs%([%w_.>-]+%)%) %?"), path)
    end
  end)

  it("ab_bon_sample lives with the other samplers", function()
    assert.truthy(source("core/sample.c"):find("\nint ab_bon_sample(", 1, true))
    assert.falsy(source("core/bon.c"):find("\nint ab_bon_sample(", 1, true))
  end)
end)

describe("one bootstrap default", function()
  it("is the core's AB_BOOT_RESAMPLES, in the estimators and in check_run alike", function()
    local x = ab.tail.gaussian { sd = 1 }:sample(400, ab.rng(11))
    local _, up, rep = ab.estimate.variance_proxy(x)
    assert.are.equal(200, rep.resamples)
    local _, _, brep = ab.estimate.bon(x, x, 4)
    assert.are.equal(200, brep.resamples)
    -- check_run bootstraps the reference rewards from seed 0 with the same
    -- default (it took 100 before): the same upper bound
    local run = { ref_rewards = x, policy_rewards = { 0.5, 1.5 }, logp_policy = { -1, -1 }, logp_ref = { -1.5, -1.2 },
      progress = false }
    assert.are.equal(up, ab.check_run(run).variance_proxy_upper)
    local _, up100 = ab.estimate.variance_proxy(x, { resamples = 100 })
    assert.are_not.equal(up100, ab.check_run(run).variance_proxy_upper)
  end)
end)

describe("errors found by the adversarial check of this refactor", function()
  it("a joint whose tail was closed is printed and refused cleanly (tostring segfaulted)", function()
    local g = ab.tail.gaussian { sd = 1 }
    local j = ab.joint.additive { gold = g, error = ab.tail.uniform { lo = -1, hi = 1 } }
    getmetatable(g).__close(g)
    assert.are.equal("joint.additive(gold=tail (closed), error=uniform(lo=-1, hi=1))", tostring(j))
    H.raises(function() return j:proxy_law { draws = 3, seed = 1 } end,
      "joint:proxy_law: the joint's gold tail is closed")
    H.raises(function() return j:bon(4) end, "joint:bon: the joint's gold tail is closed")
  end)

  it("the integral of bon.divergence refuses n beyond its checked range instead of NaN or inf", function()
    H.raises(function() return ab.bon.divergence(1e308, "renyi", { alpha = 5e-324, numeric = true }) end,
      "bon.divergence: numerical solve did not converge")
    H.raises(function() return ab.bon.divergence(1e9, "renyi", { alpha = 50, numeric = true }) end,
      "bon.divergence: numerical solve did not converge")
    H.close(ab.bon.divergence(1e15, "kl", { numeric = true }), ab.bon.kl(1e15), 1e-9, "kl at 1e15")
  end)

  it("a core status raised from a Lua caller carries its position, like every other error", function()
    local ok, err = pcall(function() return ab.bon.divergence(1e16, "kl", { numeric = true }) end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("^[^:]*layout_spec%.lua:%d+: bon%.divergence: "), err)
  end)
end)
