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

describe("ab.shard partial files", function()
  local function write(path, text)
    local f = assert(io.open(path, "w"))
    f:write(text)
    f:close()
  end
  local ids = { "a", "a", "b", "b", "c", "c", "d", "d" }
  local reward = { 0, 1, 0, 2, 1, 3, 0, 1 }

  it("are read as data, never executed: code in a partial is refused, not run", function()
    local path = os.tmpname()
    -- would hang merge, or allocate a terabyte, if executed
    for _, code in ipairs { "while true do end", 'return ("x"):rep(1e12)',
      'return {kind="prompts", fingerprint="f", shard="1/1", rows={}, options={n=("x"):rep(1e12)}}' } do
      write(path, code)
      local p, err = ab.shard.load(path)
      assert.is_nil(p)
      assert.truthy(err:find(path, 1, true), err)
      H.raises(function() return ab.shard.merge { path } end, "bad argument #1 to 'shard.merge'", path)
    end
    os.remove(path)
  end)

  it("name the file of a truncated or ill-typed partial", function()
    local path = os.tmpname()
    local part = ab.prompts { ids = ids, reward = reward, shard = "1/2" }:partial { beta = 2 }
    assert(ab.shard.save(path, part))
    local text = H.slurp(path)
    write(path, text:sub(1, #text // 2))
    H.raises(function() return ab.shard.merge { path } end, "shard.merge", path, "not a saved partial result")
    write(path, 'return {kind="prompts", fingerprint="f", shard="1/1", rows={{prompt="a", tilt_gain={}}}}')
    H.raises(function() return ab.shard.merge { path } end, path, "row 1: field tilt_gain is a table")
    write(path, 'return {kind="prompts", fingerprint="f", shard="1/1", rows={{prompt="a"}}, extra=1}')
    H.raises(function() return ab.shard.merge { path } end, path, "unknown field 'extra'")
    os.remove(path)
  end)

  it("keep every value and its type through save and load", function()
    local path = os.tmpname()
    local row = { prompt = "p\n\"\0\\", a = math.mininteger, b = math.maxinteger, c = -0.0, d = 2.0, e = 0.1,
      f = math.huge, g = -math.huge, h = true }
    assert(ab.shard.save(path, { kind = "x", fingerprint = "f", shard = "1/1", rows = { row } }))
    local back = assert(ab.shard.load(path)).rows[1]
    os.remove(path)
    for k, v in pairs(row) do
      assert.are.equal(v, back[k], k)
      assert.are.equal(math.type(v), math.type(back[k]), k)
    end
    assert.are.equal(-math.huge, 1 / back.c)
  end)

  it("refuse a prompt in two partials (run= shards that overlap)", function()
    local B = { 1, 0, 2, 1, 0, 0, 1, 1 }
    H.raises(function()
      return ab.shard.merge { ab.prompts { ids = ids, reward = reward, shard = "1/2", run = "x" }:partial { beta = 2 },
        ab.prompts { ids = ids, reward = B, shard = "2/2", run = "x" }:partial { beta = 2 } }
    end, "bad argument #1 to 'shard.merge'", 'prompt "a" is in shard 1/2 and in shard 2/2')
    -- disjoint run= shards still merge
    local m = ab.shard.merge { ab.prompts { ids = { "a", "a" }, reward = { 0, 1 }, shard = "1/2", run = "y" }:partial(),
      ab.prompts { ids = { "b", "b" }, reward = { 0, 2 }, shard = "2/2", run = "y" }:partial() }
    assert.are.equal(2, m.summary.prompts)
  end)

  it("refuse a self-containing partial instead of overflowing the stack", function()
    local c = { kind = "x", fingerprint = "f", shard = "1/1", rows = {} }
    c.rows[1] = c
    H.raises(function() return ab.shard.save(os.tmpname(), c) end, "bad argument #2 to 'shard.save'")
    c.rows[1] = { a = 1 }
    c.options = c
    H.raises(function() return ab.shard.save(os.tmpname(), c) end, "bad argument #2 to 'shard.save'")
  end)
end)

describe("ab.shard.slice and parse", function()
  it("compute slices without overflow near 2^63", function()
    local lo, hi = ab.shard.slice(2 ^ 62 | 0, "2/2")
    assert.are.equal((1 << 61) + 1, lo)
    assert.are.equal(1 << 62, hi)
    lo, hi = ab.shard.slice(math.maxinteger, "2/3")
    -- 2^63 - 1 = 3 q + 1: shard 2 holds floor(n/3)+1 .. floor(2n/3) = q+1 .. 2q
    local q = math.maxinteger // 3
    assert.are.equal(q + 1, lo)
    assert.are.equal(2 * q, hi)
    assert.are.equal(math.maxinteger, select(2, ab.shard.slice(math.maxinteger, "3/3")))
    lo, hi = ab.shard.slice(math.maxinteger, { index = math.maxinteger - 1, count = math.maxinteger })
    assert.are.equal(math.maxinteger - 1, lo)
    assert.are.equal(math.maxinteger - 1, hi)
  end)

  it("agree with floor(i n / k) where that does not overflow, covering 1..n once", function()
    for n = 0, 30 do
      for k = 1, 7 do
        local prev = 0
        for i = 1, k do
          local lo, hi = ab.shard.slice(n, i .. "/" .. k)
          assert(lo == (i - 1) * n // k + 1 and hi == i * n // k and lo == prev + 1)
          prev = hi
        end
        assert.are.equal(n, prev)
      end
    end
  end)

  it("says what is wrong with a shard table", function()
    local err = H.raises(function() return ab.shard.parse { index = 3, count = 2 } end,
      "bad argument #1 to 'shard.parse'", "{index=3, count=2}")
    assert.falsy(err:find("must be a string", 1, true), err)
  end)

  it("summarize names a field that is a number in one row and not in another", function()
    H.raises(function() return ab.shard.summarize { { a = 1 }, { a = "x" } } end,
      "bad argument #1 to 'shard.summarize'", "field a is a number in row 1 but a string in row 2")
    H.raises(function() return ab.shard.summarize { { a = 1 }, { b = 1 } } end,
      "bad argument #1 to 'shard.summarize'", "is a number in row")
  end)
end)

describe("error messages name the public function, without an internal position", function()
  local pr = ab.prompts { ids = { "a", "a", "b", "b" }, reward = { 0, 1, 0, 2 } }
  local function clean(err)
    assert.falsy(err:find("%.lua:%d+:"), "internal position in: " .. err)
    return err
  end

  it("prompts:rows checks its options' ranges itself", function()
    clean(H.raises(function() return pr:rows { n = 0 } end, "bad argument #1 to 'prompts:rows'", "n must be"))
    clean(H.raises(function() return pr:rows { beta = -1 } end, "bad argument #1 to 'prompts:rows'", "beta must be"))
    clean(H.raises(function() return pr:summary { kl = -1 } end, "bad argument #1 to 'prompts:summary'", "kl must"))
    clean(H.raises(function() return pr:rows { check = true, check_beta = -1 } end,
      "bad argument #1 to 'prompts:rows'", "check_beta must be"))
    clean(H.raises(function() return pr:partial { check_beta = 1 } end,
      "bad argument #1 to 'prompts:partial'", "check_beta goes with check=true"))
  end)

  it("a bad self of the Lua-side methods is reported at the caller", function()
    for _, m in ipairs { "rows", "summary", "partial", "check_run" } do
      local f = pr[m]
      local ok, err = pcall(f, 5)
      assert.is_false(ok)
      clean(err)
      assert.truthy(err:find("calling 'prompts:" .. m .. "' on bad self", 1, true), err)
    end
  end)

  it("policy.grpo's methods check beta and the law themselves", function()
    local fam = ab.policy.grpo { beta = 2 }
    local ref = { reference = ab.tail.bernoulli { p = 0.2 } }
    clean(H.raises(function() return fam.methods.kl(fam, -1, ref) end,
      "bad argument #1 to 'policy.grpo:kl'", "beta must be a finite number > 0, got -1"))
    clean(H.raises(function() return fam.methods.win_rate(fam, 0 / 0, ref) end, "'policy.grpo:win_rate'", "got nan"))
    local err = H.raises(function() return ab.policy.grpo { beta = { 1, 0 / 0 } } end,
      "bad argument #1 to 'policy.grpo'", "beta[2] must be a number, got nan)")
    assert.falsy(err:find("got nan, got", 1, true), err)
    H.raises(function() return fam.methods.law(fam, 2, { 0 / 0, 0.5 }, { 0, 1 }) end,
      "bad argument #1 to 'policy.grpo:law'", "probs[1] must be a probability")
    H.raises(function() return fam:law({ -0.5, 1.5 }, { 0, 1 }) end, "probs[1] must be a probability, got -0.5")
    H.raises(function() return fam:law({ 0.5, 0.6 }, { 0, 1 }) end, "probs must sum to 1")
    H.raises(function() return fam:law({ 0.5, 0.5 }, { 0, 1 / 0 }) end, "bad argument #2", "rewards[2] must be finite")
    -- a valid law still gives a probability law
    local r = fam:law({ 0.3, 0.7 }, { 0, 1 })
    H.close(r.policy[1] + r.policy[2], 1, 1e-13, "total")
  end)
end)
