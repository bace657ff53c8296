-- Defects a fuzzing run found in per-prompt analysis and sharding: the
-- common-tilt solve near saturation and at extreme reward scales, ids above
-- 2^53, partial files loaded as data only, prompts in two partials, slices
-- without overflow, and error messages naming the public function.
local ab = require "alignbound"
local H = require "helper"

local function uniform(m)
  local p = {}
  for j = 1, m do p[j] = 1 / m end
  return p
end

describe("prompts:gain at extreme scales and near saturation", function()
  -- each case: ids, rewards, budget; the solve must converge, the
  -- prompt-averaged KL hit the budget and every prompt be the tilt that
  -- ab.tilt.policy gives at the solved lambda on its own
  local cases = {
    { { "a", "a", "b", "b" }, { 0, 0.001, 0, 1 }, 0.69 }, -- saturation log 2 = 0.6931
    { { "a", "a", "b", "b" }, { 0, 1e-100, 0, 1e100 }, 0.5 },
    { { "a", "a" }, { 1e-300, 2e-300 }, 0.5 },
    { { "a", "a" }, { 1e-160, 2e-160 }, 0.5 },
    { { "a", "a", "a", "b", "b" }, { 1e300, -1e300, 0, 5, 5 + 1e-10 }, 0.3 },
  }
  for i, c in ipairs(cases) do
    it("converges on case " .. i .. " and matches the per-prompt tilts", function()
      local ids, reward, K = c[1], c[2], c[3]
      local r = ab.prompts { ids = ids, reward = reward }:gain(K)
      H.close(r.kl, K, 1e-10, "prompt-averaged KL")
      local R, order = {}, {}
      for j, id in ipairs(ids) do
        if not R[id] then R[id] = {}; order[#order + 1] = id end
        R[id][#R[id] + 1] = reward[j]
      end
      local sum = 0
      for q, id in ipairs(order) do
        local t = ab.tilt.policy(uniform(#R[id]), R[id], { beta = 1 / r.lambda })
        H.close(r.prompt.kl[q], t.kl, 1e-10, "kl of prompt " .. id)
        H.close(r.prompt.gain[q], t.gain, 1e-10, "gain of prompt " .. id)
        sum = sum + t.gain
      end
      H.close(r.gain, sum / #order, 1e-10, "gain")
    end)
  end

  it("gives one prompt's gain as ab.tail.empirical does, and a bound above it", function()
    for _, x in ipairs { { 1e-300, 2e-300 }, { 1e-160, 2e-160 }, { 1, 2 } } do
      local pr = ab.prompts { ids = { 1, 1 }, reward = x }
      local g = pr:gain(0.5).gain
      H.close(g, ab.tail.empirical(x):gain(0.5), 1e-10, "gain")
      -- two equally likely values: s2 = (b - a)^2 / 4, bound (b - a)/2 sqrt(2 kl)
      local b = pr:bound(0.5)
      H.close(b, (x[2] - x[1]) / 2, 1e-13, "bound")
      assert(g <= b, "gain above the bound")
    end
  end)
end)

describe("numeric ids beyond 2^53", function()
  it("refuses an integer a double cannot hold instead of merging it with its neighbour", function()
    H.raises(function() return ab.group({ 9007199254740992, 9007199254740993 }, { 1, 2 }) end,
      "bad argument #1 to 'group'", "element 2 is the integer 9007199254740993")
    H.raises(function() return ab.prompts { ids = { 1, math.maxinteger }, reward = { 1, 2 } } end,
      "bad argument #1 to 'prompts'", "element 2")
  end)

  it("groups exactly representable integers and floats by value, as Lua's == does", function()
    local g = ab.group({ 9007199254740992, 9007199254740994, 2.0 ^ 53, math.mininteger }, { 1, 2, 3, 4 })
    assert.are.equal(3, g.prompts)
  end)
end)
