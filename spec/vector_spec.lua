-- The vector type and shape-preserving numeric entry points.
local ab = require "alignbound"
local H = require "helper"

describe("vector", function()
  it("is built from a table, from a vector, or from a size and a fill", function()
    local v = ab.vector { 1, 2.5, -3 }
    assert.are.equal(3, #v)
    assert.are.same({ 1, 2.5, -3 }, v:totable())
    local w = ab.vector(v)
    w[1] = 10
    assert.are.equal(1, v[1], "a copy, not a view")
    local z = ab.vector(4, 0.5)
    assert.are.same({ 0.5, 0.5, 0.5, 0.5 }, z:totable())
    assert.are.equal(0, #ab.vector(0))
    assert.are.same({ 0, 0 }, ab.vector(2):totable())
  end)

  it("indexes from 1 with bounds checks and stores numbers only", function()
    local v = ab.vector(3)
    v[3] = 7
    assert.are.equal(7, v[3])
    H.raises(function() return v[0] end, "out of range")
    H.raises(function() return v[4] end, "out of range")
    H.raises(function() v[4] = 1 end, "out of range")
    H.raises(function() return v[1.5] end, "must be an integer")
    H.raises(function() v[1] = "x" end, "number expected")
    assert.is_nil(v.nosuchmethod)
  end)

  it("prints its length and first elements", function()
    assert.are.equal("vector(3){1.0, 2.0, 3.0}", tostring(ab.vector { 1, 2, 3 }))
    assert.truthy(tostring(ab.vector(100, 1)):find("vector(100){1.0", 1, true))
    assert.truthy(tostring(ab.vector(100, 1)):find("...", 1, true))
  end)

  it("rejects bad construction with a named error", function()
    H.raises(function() ab.vector(-1) end, "bad argument #1 to 'vector'", "non-negative integer")
    H.raises(function() ab.vector(2.5) end, "non-negative integer")
    H.raises(function() ab.vector { 1, "a" } end, "values[2] must be a number")
    H.raises(function() ab.vector(true) end, "bad argument #1 to 'vector'")
    H.raises(function() ab.vector(2, "x") end, "bad argument #2 to 'vector'")
  end)

  it("keeps 10^7 doubles in about 80 MB", function()
    collectgarbage()
    local before = collectgarbage("count")
    local v = ab.vector(10000000, 1)
    local used = (collectgarbage("count") - before) * 1024
    assert.is_true(used > 79e6 and used < 82e6, "bytes: " .. used)
    v[10000000] = 2
    assert.are.equal(2, v[#v])
  end)
end)

describe("numeric entry points", function()
  local t = ab.tail.gaussian { sd = 2 }

  it("return a number for a number, a table for a table, a vector for a vector", function()
    assert.are.equal("number", type(t:gain(0.5)))
    local tab = t:gain { 0.5, 2 }
    assert.are.equal("table", type(tab))
    H.close(tab[2], t:gain(2), 0, "table element")
    local vec = t:gain(ab.vector { 0.5, 2 })
    assert.are.equal("userdata", type(vec))
    assert.are.equal(2, #vec)
    H.close(vec[1], t:gain(0.5), 0, "vector element")
    assert.are.same({}, t:gain {})
    assert.are.equal(0, #t:gain(ab.vector(0)))
  end)

  it("refuse an option-style table where an array belongs", function()
    -- an empty array part with other keys is a mistake, not an empty array
    H.raises(function() return ab.tail.gaussian { sd = 1 }:gain { kl = 5 } end,
      "bad argument #1 to 'tail:gain'", "expected an array of numbers", "key 'kl'")
    H.raises(function() return ab.bon.kl { n = 64 } end, "bad argument #1 to 'bon.kl'",
      "key 'n'")
    H.raises(function() return ab.vector { [2] = 1 } end, "bad argument #1 to 'vector'",
      "key 2")
    H.raises(function() return ab.estimate.mean { [true] = 1 } end,
      "bad argument #1 to 'estimate.mean'", "key of type boolean")
    -- a real empty table and a plain array are still accepted
    assert.are.same({}, ab.bon.kl {})
    assert.are.equal(2, #ab.bon.kl { 1, 64 })
  end)

  it("write into a given vector with out=, without allocating", function()
    local kl, out = ab.vector { 0.5, 2 }, ab.vector(2)
    local r = t:gain(kl, { out = out })
    assert.are.equal(out, r)
    H.close(out[2], t:gain(2), 0, "written in place")
    H.raises(function() return t:gain(kl, { out = ab.vector(3) }) end, "bad argument #2 to 'tail:gain'",
      "same length")
    H.raises(function() return t:gain({ 1, 2 }, { out = out }) end, "out= needs kl to be a")
    H.raises(function() return t:gain(kl, { out = {} }) end, "out must be an alignbound.vector")
  end)

  it("do the same for every method", function()
    local e = ab.tail.empirical { 0, 1, 1, 3 }
    for _, m in ipairs { "gain", "loss", "kl_needed", "tilt", "cumulant" } do
      local one = e[m](e, 0.7)
      local tab = e[m](e, { 0.7, 0.1 })
      local vec = e[m](e, ab.vector { 0.7, 0.1 })
      -- (runs of solves warm-start from the previous one: equal to rounding)
      H.close(tab[1], one, 1e-14, m)
      H.close(vec[1], one, 1e-14, m)
      H.close(vec[2], e[m](e, 0.1), 1e-14, m)
    end
  end)
end)
