-- Reproducible sampling: generators, every law, best-of-n, tilts.  The
-- goodness-of-fit tests run at fixed seeds with significance 0.001
-- (Kolmogorov-Smirnov: D <= 1.95 / sqrt(k); chi-square: the 0.999 quantile
-- by the Wilson-Hilferty approximation).
local ab = require "alignbound"
local H = require "helper"

-- Phi by the complementary error function (Numerical Recipes erfc, |error|
-- below 1.2e-7, plenty for a KS test on 2e4 draws)
local function erfc(x)
  local z = math.abs(x)
  local t = 1 / (1 + 0.5 * z)
  local r = t * math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
    + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
    + t * (-0.82215223 + t * 0.17087277)))))))))
  return x >= 0 and r or 2 - r
end
local function phi(x) return 0.5 * erfc(-x / math.sqrt(2)) end

local function ks(sample, cdf)
  local x = sample:totable()
  table.sort(x)
  local n, d = #x, 0
  for i = 1, n do
    local f = cdf(x[i])
    d = math.max(d, math.abs(f - (i - 1) / n), math.abs(i / n - f))
  end
  return d, 1.95 / math.sqrt(n)
end

local function chi2_critical(df) -- 0.999 quantile
  local z = 3.0902323
  return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ^ 3
end

-- counts of each atom in a sample against expected probabilities
local function chi2(sample, atoms, probs)
  local counts, k = {}, #sample
  for i = 1, #atoms do counts[i] = 0 end
  for i = 1, k do
    for j = 1, #atoms do
      if sample[i] == atoms[j] then counts[j] = counts[j] + 1; break end
    end
  end
  local stat, df = 0, -1
  for j = 1, #atoms do
    if probs[j] > 0 then
      local e = probs[j] * k
      stat, df = stat + (counts[j] - e) ^ 2 / e, df + 1
    else
      assert.are.equal(0, counts[j], "an atom of probability 0 was drawn")
    end
  end
  return stat, chi2_critical(df)
end

describe("rng", function()
  it("gives the same numbers for the same seed and stream, and others otherwise", function()
    local a, b = ab.rng(7, 3):uniform(1000), ab.rng(7, 3):uniform(1000)
    assert.are.same(a:totable(), b:totable())
    local others = { ab.rng(7, 4), ab.rng(8, 3), ab.rng(1), ab.rng(1 + (1 << 32)), ab.rng(-7, 3) }
    for _, r in ipairs(others) do assert.are_not.equal(a[1], r:uniform()) end
    assert.are_not.equal(ab.rng(1):uniform(), ab.rng(1 + (1 << 32)):uniform(), "not mt19937's 32-bit alias")
    assert.truthy(tostring(ab.rng(5, 2)):find("rng(seed=5, stream=2, type=xoshiro256**)", 1, true))
    assert.truthy(tostring(ab.rng(5, 2, { type = "mt19937" })):find("type=mt19937", 1, true))
  end)

  it("draws uniforms on (0, 1) that pass a KS test, with independent streams", function()
    -- KS at the 0.1% level on five seeds: a sound generator fails two of
    -- them with probability about 1e-5
    local failed = 0
    for seed = 11, 15 do
      local d, crit = ks(ab.rng(seed):uniform(20000), function(x) return x end)
      if d >= crit then failed = failed + 1 end
    end
    assert.is_true(failed <= 1, failed .. " of 5 seeds fail KS at 0.1%")
    -- two streams of one seed are uncorrelated
    local x, y = ab.rng(11, 0):uniform(20000), ab.rng(11, 1):uniform(20000)
    local s = 0
    for i = 1, #x do s = s + (x[i] - 0.5) * (y[i] - 0.5) end
    assert.is_true(math.abs(s / #x) < 4 * (1 / 12) / math.sqrt(#x))
  end)

  -- The first draws of many generators: the number of pairs of them that
  -- are equal.
  local function first_draw_collisions(make, count)
    local seen, collisions = {}, 0
    for i = 1, count do
      local u = make(i):uniform()
      if seen[u] then collisions = collisions + 1 end
      seen[u] = true
    end
    return collisions
  end

  it("gives 200,000 distinct seeds distinct first draws (64-bit seeds, no birthday collisions)", function()
    -- seeds spread over all 64 bits: i times an odd constant (a bijection)
    local function seed(i) return i * 0x9e3779b97f4a7c15 end
    assert.are.equal(0, first_draw_collisions(function(i) return ab.rng(seed(i)) end, 200000))
    -- the same for streams of one seed
    assert.are.equal(0, first_draw_collisions(function(i) return ab.rng(42, seed(i)) end, 200000))
    -- the check has power: mt19937 keeps a 32-bit seed, so 200,000 seeds
    -- share first draws (about 200000^2 / 2^33 = 4.7 pairs expected)
    assert.is_true(first_draw_collisions(function(i) return ab.rng(seed(i), 0, { type = "mt19937" }) end,
      200000) >= 1)
  end)

  it("seeds and streams that differ in any bit, or are swapped, give other sequences", function()
    local base = ab.rng(0x0123456789abcdef, 0x0fedcba987654321):uniform(4)
    for bit = 0, 63 do
      local a = ab.rng(0x0123456789abcdef ~ (1 << bit), 0x0fedcba987654321):uniform(4)
      local b = ab.rng(0x0123456789abcdef, 0x0fedcba987654321 ~ (1 << bit)):uniform(4)
      for j = 1, 4 do
        assert.are_not.equal(base[j], a[j], "seed bit " .. bit)
        assert.are_not.equal(base[j], b[j], "stream bit " .. bit)
      end
    end
    assert.are_not.equal(ab.rng(1, 2):uniform(), ab.rng(2, 1):uniform())
    assert.are_not.equal(ab.rng(5, 5):uniform(), ab.rng(5, 0):uniform())
    assert.are_not.equal(ab.rng(math.mininteger):uniform(), ab.rng(0):uniform())
  end)

  it("draws with the mean, variance and serial independence of U(0, 1)", function()
    local n = 200000
    local u = ab.rng(2024, 7):uniform(n)
    local s, s2, lag, lo = 0, 0, 0, 1
    for i = 1, n do
      local x = u[i] - 0.5
      s, s2 = s + x, s2 + x * x
      if i > 1 then lag = lag + x * (u[i - 1] - 0.5) end
      lo = math.min(lo, u[i])
    end
    -- standard errors: sd(U) = 1/sqrt(12); sd(U^2 - 1/12) = 1/sqrt(180);
    -- a lag-1 product has sd 1/12; bounds at 5 standard errors
    assert.is_true(math.abs(s / n) < 5 / math.sqrt(12 * n), "mean " .. s / n)
    assert.is_true(math.abs(s2 / n - 1 / 12) < 5 / math.sqrt(180 * n), "variance " .. s2 / n)
    assert.is_true(math.abs(lag / (n - 1)) < 5 / 12 / math.sqrt(n), "lag-1 " .. lag / (n - 1))
    assert.is_true(lo > 0)
  end)

  it("keeps GSL's mt19937 by name; the samplers draw from either type", function()
    local a = ab.rng(7, 1, { type = "mt19937" }):uniform(3)
    local b = ab.rng(7, 1, { type = "mt19937" }):uniform(3)
    local c = ab.rng(7, 1, { type = "xoshiro256**" }):uniform(3)
    assert.are.same(a:totable(), b:totable())
    assert.are.same(ab.rng(7, 1):uniform(3):totable(), c:totable())
    assert.are_not.equal(a[1], c[1])
    local g = ab.tail.gaussian { mean = 1, sd = 2 }
    for _, ty in ipairs { "mt19937", "xoshiro256**" } do
      local d, crit = ks(g:sample(20000, ab.rng(3, 0, { type = ty })), function(x) return phi((x - 1) / 2) end)
      assert.is_true(d < crit, ty .. ": KS " .. d)
    end
    H.raises(function() return ab.rng(1, 0, { type = "ranlux" }) end, "bad argument #3 to 'rng'",
      "type must be 'xoshiro256**' or 'mt19937', got 'ranlux'")
    H.raises(function() return ab.rng(1, 0, { tpye = "mt19937" }) end, "bad argument #3 to 'rng'", "tpye")
    H.raises(function() return ab.rng(1, 0, { type = 1 }) end, "type must be a string")
    H.raises(function() return ab.rng(1, 0, "mt19937") end, "table {type=} expected")
  end)

  it("rejects seeds that are not integers and bad counts", function()
    H.raises(function() return ab.rng(1.5) end, "bad argument #1 to 'rng'", "seed must be an integer")
    H.raises(function() return ab.rng("1") end, "seed must be an integer")
    H.raises(function() return ab.rng(1, 0.5) end, "stream must be an integer")
    H.raises(function() return ab.rng(1):uniform(-1) end, "k must be >= 0")
    H.raises(function() return ab.tail.gaussian { sd = 1 }:sample(10, {}) end, "alignbound.rng expected")
    H.raises(function() return ab.tail.subgaussian { sigma = 1 }:sample(10, ab.rng(1)) end,
      "needs an exact or finite law")
  end)
end)

describe("samplers", function()
  local k = 20000
  local CDFS = {
    { ab.tail.gaussian { mean = 1, sd = 2 }, function(x) return phi((x - 1) / 2) end },
    { ab.tail.uniform { lo = -1, hi = 3 }, function(x) return (x + 1) / 4 end },
    { ab.tail.exponential { rate = 2 }, function(x) return 1 - math.exp(-2 * x) end },
    { ab.tail.gumbel { loc = 1, scale = 2 }, function(x) return math.exp(-math.exp(-(x - 1) / 2)) end },
    { ab.tail.logistic { loc = -1, scale = 0.5 }, function(x) return 1 / (1 + math.exp(-(x + 1) / 0.5)) end },
  }

  it("follow their laws (KS at seed 1)", function()
    for _, c in ipairs(CDFS) do
      local d, crit = ks(c[1]:sample(k, ab.rng(1)), c[2])
      assert.is_true(d < crit, string.format("%s: KS %g >= %g", tostring(c[1]), d, crit))
    end
  end)

  it("follow their laws where the CDF needs quadrature (gamma, beta: chi-square on bins)", function()
    local laws = {
      { ab.tail.gamma { shape = 2.5, scale = 0.7 }, function(x) return x ^ 1.5 * math.exp(-x / 0.7) end, 0, 60 },
      { ab.tail.beta { a = 2, b = 5 }, function(x) return x * (1 - x) ^ 4 end, 0, 1 },
    }
    for _, c in ipairs(laws) do
      local t, f, lo, hi = c[1], c[2], c[3], c[4]
      local x = t:sample(k, ab.rng(2))
      local z = H.integrate(f, lo, hi, 400)
      local edges = { lo }
      for q = 1, 19 do edges[#edges + 1] = lo + (t:mean() - lo) * 2 * q / 20 end
      edges[#edges + 1] = hi
      local stat, df = 0, 0
      for b = 1, #edges - 1 do
        local p = H.integrate(f, edges[b], edges[b + 1], 40) / z
        local n = 0
        for i = 1, k do if x[i] >= edges[b] and x[i] < edges[b + 1] then n = n + 1 end end
        if p * k > 5 then stat, df = stat + (n - p * k) ^ 2 / (p * k), df + 1 end
      end
      assert.is_true(stat < chi2_critical(df - 1), tostring(t) .. " chi2 " .. stat)
    end
  end)

  it("draw finite laws by their weights (chi-square), empirical samples uniformly", function()
    local atoms, probs = { 0, 1, 2, 7 }, { 0.1, 0.2, 0.3, 0.4 }
    local stat, crit = chi2(ab.tail.discrete { values = atoms, probs = probs }:sample(k, ab.rng(3)), atoms, probs)
    assert.is_true(stat < crit, "discrete " .. stat)
    stat, crit = chi2(ab.tail.empirical { 0, 1, 1, 7 }:sample(k, ab.rng(4)), { 0, 1, 7 }, { 0.25, 0.5, 0.25 })
    assert.is_true(stat < crit, "empirical " .. stat)
    stat, crit = chi2(ab.tail.bernoulli { p = 0.2 }:sample(k, ab.rng(5)), { 0, 1 }, { 0.8, 0.2 })
    assert.is_true(stat < crit, "bernoulli " .. stat)
  end)

  it("give the best of n as one quantile draw: the law of the max (KS) and the naive max agree", function()
    local g = ab.tail.gaussian { sd = 1 }
    for _, n in ipairs { 1, 4, 64 } do
      local d, crit = ks(ab.bon.sample(g, n, k, ab.rng(6)), function(x) return phi(x) ^ n end)
      assert.is_true(d < crit, "n=" .. n .. " KS " .. d)
    end
    -- the naive max of n draws, compared by a two-sample KS test
    local n, m = 8, 5000
    local fast = ab.bon.sample(g, n, m, ab.rng(7)):totable()
    local draws, naive = g:sample(n * m, ab.rng(8)), {}
    for i = 1, m do
      local best = -math.huge
      for j = 1, n do best = math.max(best, draws[(i - 1) * n + j]) end
      naive[i] = best
    end
    table.sort(fast)
    table.sort(naive)
    local i, j, d = 1, 1, 0
    while i <= m and j <= m do
      if fast[i] <= naive[j] then i = i + 1 else j = j + 1 end
      d = math.max(d, math.abs((i - 1) / m - (j - 1) / m))
    end
    assert.is_true(d < 1.95 * math.sqrt(2 / m), "two-sample KS " .. d)
  end)

  it("keep the upper tail for huge n", function()
    local u = ab.tail.exponential { rate = 1 }
    -- the max of n exponentials is log n + Gumbel: for n = 1e12 all draws are near 27.6
    local x = ab.bon.sample(u, 1e12, 1000, ab.rng(9))
    local m = ab.estimate.mean(x)
    assert.is_true(math.abs(m - (math.log(1e12) + 0.5772156649)) < 0.2, "mean " .. m)
    for i = 1, #x do assert.is_true(x[i] > 15 and x[i] < 45) end
  end)

  it("draw best-of-n of a finite law with ties by its exact law (chi-square)", function()
    local atoms, probs = { 0, 1, 2 }, { 0.5, 0.3, 0.2 }
    local d = ab.tail.discrete { values = atoms, probs = probs }
    local law = ab.bon.policy(probs, atoms, 3).policy:totable()
    local stat, crit = chi2(ab.bon.sample(d, 3, k, ab.rng(10)), atoms, law)
    assert.is_true(stat < crit, "chi2 " .. stat)
  end)

  it("draw from the tilted law", function()
    -- Gaussian: the tilt is N(mean + sd^2 l, sd^2)
    local g = ab.tail.gaussian { mean = 1, sd = 2 }
    local l = g:tilt(0.5)
    local d, crit = ks(ab.tilt.sample(g, { kl = 0.5 }, k, ab.rng(11)),
      function(x) return phi((x - 1 - 4 * l) / 2) end)
    assert.is_true(d < crit, "KS " .. d)
    -- finite laws: the tilt.policy weights
    local atoms, probs = { 0, 1, 2, 5 }, { 0.4, 0.3, 0.2, 0.1 }
    local t = ab.tilt.policy(probs, atoms, { kl = 0.4 }).policy:totable()
    local stat, c2 = chi2(ab.tilt.sample(ab.tail.discrete { values = atoms, probs = probs }, { kl = 0.4 }, k,
      ab.rng(12)), atoms, t)
    assert.is_true(stat < c2, "chi2 " .. stat)
    -- every exact law: the mean of the tilt is the frontier (within 4 standard errors)
    for _, law in ipairs { ab.tail.uniform { lo = 0, hi = 1 }, ab.tail.exponential { rate = 1 },
      ab.tail.gamma { shape = 2, scale = 1 }, ab.tail.gumbel { scale = 1 }, ab.tail.logistic { scale = 1 },
      ab.tail.beta { a = 2, b = 3 } } do
      local m, se = ab.mc.tilt_gain(law, 0.3, 100000, ab.rng(13))
      assert.is_true(math.abs(m - law:gain(0.3)) < 4 * se, tostring(law))
    end
    H.raises(function() return ab.tilt.sample(g, { kl = 1, beta = 1 }, 10, ab.rng(1)) end, "exactly one")
  end)

  it("check exact gains by simulation (ab.mc)", function()
    for _, law in ipairs { ab.tail.gaussian { sd = 1 }, ab.tail.gumbel { scale = 1 },
      ab.tail.beta { a = 2, b = 3 }, ab.tail.empirical { 0, 1, 1, 3, 10 } } do
      for _, n in ipairs { 2, 16 } do
        local m, se = ab.mc.bon_gain(law, n, 100000, ab.rng(14))
        assert.is_true(math.abs(m - ab.bon.expected_gain(law, n)) < 4 * se, tostring(law) .. " n=" .. n)
      end
      local m, se = ab.mc.mean(law, 100000, ab.rng(15))
      assert.is_true(math.abs(m - law:mean()) < 4 * se, tostring(law))
    end
  end)
end)
