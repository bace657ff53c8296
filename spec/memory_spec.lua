-- Memory the host can see (issue 11): tails close with <close>, and a closed
-- tail is a clean error wherever it is used.  (The state's allocator for the
-- core's arrays and the collector's view of them are checked by the C host,
-- spec/c/host.c, with a capping lua_Alloc and a loop over big tails.)
local ab = require "alignbound"
local H = require "spec.helper"

describe("a tail closed with <close>", function()
  it("frees its law at the end of the block, and is then a clean error", function()
    local kept
    do
      local t <close> = ab.tail.empirical { 1, 2, 3, 5 }
      H.close(t:gain(0.1), ab.tail.empirical { 1, 2, 3, 5 }:gain(0.1), 0, "before close")
      kept = t
    end
    H.raises(function() return kept:gain(0.1) end, "tail:gain: tail is closed")
    H.raises(function() return kept:mean() end, "tail:mean: tail is closed")
    H.raises(function() return ab.bon.expected_gain(kept, 4) end,
      "bad argument #1 to 'bon.expected_gain' (tail is closed)")
    assert.are.equal("tail (closed)", tostring(kept))
    -- closing again (by hand, or by the collector's __gc) does nothing
    getmetatable(kept).__close(kept)
    getmetatable(kept).__gc(kept)
    H.raises(function() return kept:loss(0.1) end, "tail is closed")
  end)

  it("closes every kind of tail, on error exits too", function()
    local made = {
      function() return ab.tail.gaussian { sd = 1 } end,
      function() return ab.tail.discrete { values = { 0, 1 }, probs = { 0.5, 0.5 } } end,
      function() return ab.tail.cumulant(function(l) return l * l / 2 end) end,
      function() return ab.tail.bernoulli { p = 0.3 } end,
    }
    for _, make in ipairs(made) do
      local kept
      local ok = pcall(function()
        local t <close> = make()
        kept = t
        error("leave the block")
      end)
      assert.is_false(ok)
      H.raises(function() return kept:gain(0.5) end, "tail is closed")
    end
  end)

  it("refuses to close from inside its own running method", function()
    local t
    t = ab.tail.cumulant(function(l)
      assert(not pcall(getmetatable(t).__close, t))
      return l * l / 2
    end)
    H.close(t:gain(1), math.sqrt(2), 1e-9, "gain")
  end)
end)

describe("a generator closed with <close>", function()
  it("is a clean error afterwards", function()
    local kept
    do
      local r <close> = ab.rng(5)
      assert.is_true(r:uniform() > 0)
      kept = r
    end
    H.raises(function() return kept:uniform() end, "closed")
  end)
end)
