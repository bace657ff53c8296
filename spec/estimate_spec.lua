-- Estimators from a user's logs, the CSV reader, and check_run.
local ab = require "alignbound"
local H = require "helper"

-- policy N(mu, 1), reference N(0, 1): on a policy sample y the log-ratio is
-- log pi(y) - log ref(y) = mu y - mu^2 / 2 (constants cancel)
local function gaussian_logs(mu, k, seed)
  local y = ab.tail.gaussian { mean = mu, sd = 1 }:sample(k, ab.rng(seed))
  local lp, lq = ab.vector(k), ab.vector(k)
  for i = 1, k do
    lp[i] = -0.5 * (y[i] - mu) ^ 2
    lq[i] = -0.5 * y[i] ^ 2
  end
  return lp, lq
end

describe("estimators", function()
  it("mean: the sample mean with sd / sqrt(n)", function()
    local x = { 1, 2, 4, 8, 16 }
    local m, se = ab.estimate.mean(x)
    local s2 = 0
    for i = 1, #x do s2 = s2 + (x[i] - 6.2) ^ 2 end
    H.close(m, 6.2, 1e-15, "mean")
    H.close(se, math.sqrt(s2 / 4 / 5), 1e-14, "se")
    H.raises(function() return ab.estimate.mean {} end, "x is empty")
    -- a non-finite element is named with its value (e.g. an overflowed product)
    H.raises(function() return ab.estimate.mean { 1, 1e308 * -10 } end,
      "estimate.mean", "x[2] must be finite, got -inf")
  end)

  it("k1 and k3 are unbiased for KL on a known pair, k2 has its known bias", function()
    local mu = 0.6
    local kl = mu * mu / 2
    for seed = 1, 3 do
      local lp, lq = gaussian_logs(mu, 100000, seed)
      local k1, s1 = ab.estimate.kl(lp, lq, { estimator = "k1" })
      local k3, s3 = ab.estimate.kl(lp, lq)
      local k2, s2 = ab.estimate.kl(lp, lq, { estimator = "k2" })
      assert.is_true(math.abs(k1 - kl) < 4 * s1, "k1 " .. k1)
      assert.is_true(math.abs(k3 - kl) < 4 * s3, "k3 " .. k3)
      -- r ~ N(mu^2/2, mu^2) under the policy: E[r^2/2] = mu^4/8 + mu^2/2
      assert.is_true(math.abs(k2 - (mu ^ 4 / 8 + mu ^ 2 / 2)) < 4 * s2, "k2 " .. k2)
      assert.is_true(s3 < s1, "k3 has the smaller variance here")
    end
  end)

  it("k3 is never negative, even where k1 is", function()
    local lp, lq = { -1, -2, -0.5 }, { -0.9, -1.5, -0.6 }
    assert.is_true(ab.estimate.kl(lp, lq, { estimator = "k1" }) < 0)
    assert.is_true(ab.estimate.kl(lp, lq) >= 0)
  end)

  it("renyi matches a mu^2 / 2 for two unit Gaussians", function()
    local mu = 0.5
    local lp, lq = gaussian_logs(mu, 200000, 4)
    for _, a in ipairs { 0.3, 0.7, 1, 1.5 } do
      local d, se = ab.estimate.renyi(lp, lq, { alpha = a })
      assert.is_true(math.abs(d - a * mu * mu / 2) < 4 * se, "alpha=" .. a .. ": " .. d)
    end
    H.raises(function() return ab.estimate.renyi(lp, lq, { alpha = 0 }) end, "alpha must be positive")
    H.raises(function() return ab.estimate.renyi(lp, lq) end, "table {alpha=} expected")
  end)

  it("variance_proxy: the empirical law's proxy, with a reproducible bootstrap bound above it", function()
    local x = ab.tail.bernoulli { p = 0.2 }:sample(2000, ab.rng(5))
    local est, up = ab.estimate.variance_proxy(x, { rng = ab.rng(6), resamples = 100 })
    H.close(est, ab.tail.empirical(x):variance_proxy(), 1e-15, "the empirical proxy")
    assert.is_true(up >= est, "the upper bound is above")
    local _, up2 = ab.estimate.variance_proxy(x, { rng = ab.rng(6), resamples = 100 })
    assert.are.equal(up, up2)
    -- a 95% upper bound covers the true Kearns-Saul proxy in most repetitions
    local truth, covered = ab.tail.bernoulli { p = 0.2 }:variance_proxy(), 0
    for seed = 1, 20 do
      local y = ab.tail.bernoulli { p = 0.2 }:sample(500, ab.rng(100 + seed))
      local _, u = ab.estimate.variance_proxy(y, { rng = ab.rng(seed), resamples = 100 })
      if u >= truth then covered = covered + 1 end
    end
    assert.is_true(covered >= 15, "covered " .. covered .. " of 20")
    -- without a generator, the bootstrap runs from seed 0: reproducible
    local _, u0 = ab.estimate.variance_proxy(x)
    assert.are.equal(u0, select(2, ab.estimate.variance_proxy(x, { seed = 0 })))
    assert.is_true(u0 >= est)
    H.raises(function() return ab.estimate.variance_proxy(x, { level = 1.5 }) end, "level must lie in (0, 1)")
    H.raises(function() return ab.estimate.variance_proxy(x, { levl = 0.9 }) end, "unknown option 'levl'")
  end)

  it("variance_proxy: a proxy beyond the doubles is inf, and so is its bootstrap bound (not NaN)", function()
    -- found by the random-argument fuzzer: the percentile interpolated inf - inf
    -- Ten values alternating 41 and 7.67e176: a resample is constant (proxy
    -- 0) with probability 2^-9, any other one has an infinite proxy, so the
    -- median of three resamples interpolates between two infinities for
    -- every generator but with probability under 1e-2.
    local x = {}
    for i = 1, 10 do x[i] = i % 2 == 0 and 41 or 7.67e176 end
    local est, up = ab.estimate.variance_proxy(x, { level = 0.5, rng = ab.rng(43), resamples = 3 })
    assert.are.equal(math.huge, est)
    assert.are.equal(math.huge, up)
  end)

  -- References by mpmath at 60 digits from the exact doubles: r = lp - lq,
  -- Renyi = log(mean e^{(a-1) r}) / (a - 1) with se = sd(e^{(a-1) r}) /
  -- sqrt(n) / M / |a - 1|; k1 = mean r, se = sd(r) / sqrt(n) (sd with n - 1).
  it("renyi keeps its digits on nearly equal laws, like k1", function()
    local lq = { -1.0, -2.0, -0.5, -3.0, -1.25, -0.75 }
    local lp = { -0.999999999, -2.000000002, -0.499999997, -3.0000000015, -1.2499999995, -0.7499999975 }
    local refs = {
      [0.5] = { 5.8333328821711708304e-10, 8.3082960037515816841e-10 },
      [2] = { 5.8333329080565892584e-10, 8.3082960022303439151e-10 },
      [3] = { 5.8333329253135348735e-10, 8.3082960012161853899e-10 },
    }
    for a, ref in pairs(refs) do
      local d, se = ab.estimate.renyi(lp, lq, { alpha = a })
      H.close(d, ref[1], 1e-13, "renyi " .. a)
      H.close(se, ref[2], 1e-12, "renyi se " .. a)
    end
    local k1, s1 = ab.estimate.kl(lp, lq, { estimator = "k1" })
    H.close(k1, 5.8333328907996436404e-10, 1e-13, "k1")
    H.close(s1, 8.3082960032445024303e-10, 1e-13, "k1 se")
  end)

  it("k3 keeps a finite standard error when a log-ratio is large", function()
    -- v = e^{-r} - 1 + r; mean and se (both about v_max / 4 here)
    local lq = { -1.0, -1.5, -2.0, -0.25 }
    for _, c in ipairs { { 451, 1.8397183790472922646e+195 }, { 700, 2.5355801368375112736e+303 },
      { 705, 3.7631345826579851596e+305 }, { 709, 2.0546018653887430473e+307 } } do
      local k3, se = ab.estimate.kl({ -1.0 - c[1], -1.0, -2.0, -0.5 }, lq)
      H.close(k3, c[2], 1e-13, "k3 at r = -" .. c[1])
      H.close(se, c[2], 1e-13, "k3 se at r = -" .. c[1])
    end
    -- beyond the doubles: +inf, not NaN
    local k3, se = ab.estimate.kl({ -2000, -1 }, { -1, -1 })
    assert.are.equal(math.huge, k3)
    assert.are.equal(math.huge, se)
    k3, se = ab.estimate.kl({ -1e300, -1 }, { -1, -1 })
    assert.are.equal(math.huge, k3)
    assert.are.equal(math.huge, se)
  end)

  it("stay numbers at the ends of the doubles", function()
    -- mean {1e308, -1e308}: 0, with sd sqrt(2) 1e308 over sqrt(2)
    local m, se = ab.estimate.mean { 1e308, -1e308 }
    assert.are.equal(0, m)
    H.close(se, 1e308, 1e-15, "se of {1e308, -1e308}")
    -- Renyi of a huge order tends to max r: log(mean e^{b r}) / b
    -- = max r + log(1/2) / b with b = a - 1
    local d = ab.estimate.renyi({ 0, 0 }, { -1e10, -1 }, { alpha = 1e300 })
    H.close(d, 1e10, 1e-15, "renyi of order 1e300")
    d = ab.estimate.renyi({ 0, 0 }, { 1e300, -1e300 }, { alpha = 0.5 })
    H.close(d, -1e300, 1e-15, "renyi of order 1/2 at r = +-1e300")
  end)

  it("reject mismatched and bad input", function()
    H.raises(function() return ab.estimate.kl({ 1, 2 }, { 1 }) end, "differ in length (2 and 1)")
    H.raises(function() return ab.estimate.kl({ 1 }, { 0 / 0 }) end, "must be finite")
    H.raises(function() return ab.estimate.kl({ 1 }, { 1 }, { estimator = "k4" }) end, "estimator must be")
  end)
end)

describe("the bootstraps (issue 10)", function()
  local function law_sample(d, k, seed) return d:sample(k, ab.rng(seed)) end
  local gauss, gumbel = ab.tail.gaussian { mean = 0, sd = 1 }, ab.tail.gumbel { loc = 0, scale = 1 }
  local t3 = ab.tail.student_t { df = 3, scale = 1 }

  it("variance_proxy: Gaussian samples pass, Gumbel and Student-t(3) samples get the heavy-tail caveat", function()
    -- the checks (dropping the 3 largest and smallest samples; four quarters)
    -- measured over seeds 1-6 at n = 2000, 20000, 100000: Gaussian drops by at
    -- most 1.15 se, Gumbel and t(3) by at least 1.9 se
    for _, c in ipairs { { gauss, true }, { gumbel, false }, { t3, false } } do
      for seed = 1, 3 do
        local x = law_sample(c[1], 20000, seed)
        local est, up, r = ab.estimate.variance_proxy(x, { seed = seed, resamples = 100 })
        local what = tostring(c[1]) .. " seed " .. seed
        assert.are.equal(c[2], r.trusted, what)
        assert.are.equal(est, r.estimate)
        assert.are.equal(up, r.upper)
        assert.is_true(r.se > 0 and r.drop < est, what)
        if c[2] then
          assert.is_nil(r.caveat, what)
        else
          assert.truthy(r.caveat:find("heavy tail: the estimate cannot be trusted", 1, true), what)
          assert.truthy(r.caveat:find("no bound on the law's proxy", 1, true), what)
        end
      end
    end
    -- a uniform law (bounded: the best case) passes too
    local _, _, r = ab.estimate.variance_proxy(law_sample(ab.tail.uniform { lo = 0, hi = 1 }, 5000, 1), { seed = 1 })
    assert.is_true(r.trusted)
    -- too few samples to check
    _, _, r = ab.estimate.variance_proxy({ 1, 2, 3, 5 }, { seed = 1, resamples = 20 })
    assert.is_false(r.trusted)
    assert.truthy(r.caveat:find("only 4 samples", 1, true))
  end)

  it("variance_proxy: the bootstrap is the same on 1 and 2 threads, and its shards merge into the full run", function()
    local x = law_sample(gumbel, 5000, 7)
    local e1, u1, r1 = ab.estimate.variance_proxy(x, { seed = 11, resamples = 40, threads = 1 })
    local e2, u2, r2 = ab.estimate.variance_proxy(x, { seed = 11, resamples = 40, threads = 2, progress = false })
    assert.are.equal(e1, e2)
    assert.are.equal(u1, u2)
    assert.are.equal(r1.se, r2.se)
    assert.are.same(r1.values:totable(), r2.values:totable())
    -- four shards of 10 resamples, in any order, give the run's values
    local merged = {}
    for shard = 4, 1, -1 do
      local v = ab.estimate.variance_proxy_resamples(x, { seed = 11, first = 10 * (shard - 1) + 1, count = 10,
        threads = shard % 2 + 1 })
      for i = 1, 10 do merged[10 * (shard - 1) + i] = v[i] end
    end
    assert.are.same(r1.values:totable(), merged)
    local em, um, rm = ab.estimate.variance_proxy(x, { values = merged })
    assert.are.equal(e1, em)
    assert.are.equal(u1, um)
    assert.are.equal(r1.se, rm.se)
    assert.are.equal(r1.trusted, rm.trusted)
    H.raises(function() return ab.estimate.variance_proxy(x, { values = { 1, -1 } }) end,
      "values[2] must be a proxy >= 0")
    H.raises(function() return ab.estimate.variance_proxy_resamples(x, { first = 0 }) end, "first must be >= 1")
  end)

  it("variance_proxy: the resample values centre on the estimate", function()
    -- the C test test_boot_proxy_exact compares every value with the exact
    -- proxy of its resample to 1e-11; here the values' law: their mean is
    -- the estimate up to the bootstrap's own error and a small bias
    local x = ab.tail.bernoulli { p = 0.2 }:sample(4000, ab.rng(9))
    local est, _, r = ab.estimate.variance_proxy(x, { seed = 3, resamples = 200 })
    local m = ab.estimate.mean(r.values)
    assert.is_true(math.abs(m - est) < 4 * r.se / math.sqrt(200) + 0.1 * r.se, "mean " .. m .. " est " .. est)
  end)

  it("groups: a bootstrap over prompts keeps each prompt's rows together", function()
    -- 200 prompts of 10 responses, each prompt with its own offset: rows of a
    -- prompt are correlated, so the bootstrap over prompts sees a larger error
    local k, per = 200, 10
    local off = ab.tail.gaussian { mean = 0, sd = 2 }:sample(k, ab.rng(1))
    local noise = ab.tail.gaussian { mean = 0, sd = 0.2 }:sample(k * per, ab.rng(2))
    local x, groups = {}, {}
    for p = 1, k do
      groups[p] = (p - 1) * per + 1
      for j = 1, per do x[#x + 1] = off[p] + noise[(p - 1) * per + j] end
    end
    groups[k + 1] = k * per + 1
    local _, se_rows = ab.estimate.frontier(x, 0.5, { seed = 1, resamples = 60 })
    local _, se_prompts, r = ab.estimate.frontier(x, 0.5, { seed = 1, resamples = 60, groups = groups })
    assert.are.equal("groups", r.method)
    -- independent prompts: the error is that of 200 draws, not 2000 (about sqrt(10) x)
    assert.is_true(se_prompts > 2 * se_rows, se_prompts .. " vs " .. se_rows)
    local _, _, rp = ab.estimate.variance_proxy(x, { seed = 1, resamples = 30, groups = groups })
    assert.are.equal("groups", rp.method)
    H.raises(function() return ab.estimate.frontier(x, 0.5, { groups = { 1, 5 } }) end,
      "groups must start at 1 and end at n + 1")
    H.raises(function() return ab.estimate.frontier(x, 0.5, { groups = { 1, 7, 5, 2001 } }) end,
      "groups[3] must be an integer")
  end)

  it("bon: the best-of-n estimate with a bootstrap error that covers the truth", function()
    -- jointly Gaussian score and value with correlation rho: selecting on the
    -- score gives E[value] = rho E[max of n N(0,1)], and E max of 4 = 1.0293753730039641
    -- (mpmath: 4 * quad(x phi(x) Phi(x)^3))
    local rho, truth, covered = 0.6, 0.6 * 1.0293753730039641, 0
    for seed = 1, 20 do
      local z1 = gauss:sample(1000, ab.rng(100 + seed))
      local z2 = gauss:sample(1000, ab.rng(200 + seed))
      local s, v = ab.vector(1000), ab.vector(1000)
      for i = 1, 1000 do
        s[i] = z1[i]
        v[i] = rho * z1[i] + math.sqrt(1 - rho * rho) * z2[i]
      end
      local est, se, r = ab.estimate.bon(s, v, 4, { seed = seed, resamples = 100 })
      assert.are.equal(est, ab.bon.from_samples(s, v, 4))
      assert.is_true(se > 0.01 and se < 0.1, "se " .. se)
      assert.is_true(r.lo < est and est < r.hi)
      if r.lo <= truth and truth <= r.hi then covered = covered + 1 end
    end
    assert.is_true(covered >= 16, "covered " .. covered .. " of 20")
    -- n = 1 is the mean of the values: its bootstrap error is sd / sqrt(N)
    local v = gauss:sample(4000, ab.rng(3))
    local m, sm = ab.estimate.mean(v)
    local est, se = ab.estimate.bon(v, v, 1, { seed = 1, resamples = 400 })
    H.close(est, m, 1e-12, "n = 1")
    assert.is_true(math.abs(se / sm - 1) < 0.15, "se " .. se .. " vs " .. sm)
    H.raises(function() return ab.estimate.bon({ 1, 2 }, { 1, 2 }, 3) end, "n must lie in [1, 2]")
  end)

  it("frontier: the empirical frontier with a bootstrap interval that covers the law's", function()
    -- Gaussian sd 1: the exact frontier at KL 0.5 is sqrt(2 * 0.5) = 1
    local covered = 0
    for seed = 1, 20 do
      local x = gauss:sample(2000, ab.rng(300 + seed))
      local g, se, r = ab.estimate.frontier(x, 0.5, { seed = seed, resamples = 60 })
      H.close(g, ab.tail.empirical(x):gain(0.5), 1e-15, "the empirical frontier")
      assert.is_true(se > 0 and r.lo <= g and g <= r.hi)
      if r.lo <= 1 and 1 <= r.hi then covered = covered + 1 end
    end
    assert.is_true(covered >= 15, "covered " .. covered .. " of 20")
    H.raises(function() return ab.estimate.frontier({ 1, 2 }, -1) end, "kl must be finite and >= 0")
    -- shards with first=, merged by values=: the unsharded run's error and interval
    local x = gauss:sample(3000, ab.rng(1))
    local g, se, r = ab.estimate.frontier(x, 0.5, { seed = 4, resamples = 30, threads = 1 })
    local v = {}
    for first = 1, 30, 10 do
      local _, _, part = ab.estimate.frontier(x, 0.5, { seed = 4, resamples = 10, first = first, threads = 2 })
      assert.are.equal(first, part.first)
      for i = 1, 10 do v[first + i - 1] = part.values[i] end
    end
    local gm, sem, rm = ab.estimate.frontier(x, 0.5, { values = v })
    assert.are.same({ g, se, r.lo, r.hi }, { gm, sem, rm.lo, rm.hi })
    local s, val = x, gauss:sample(3000, ab.rng(2))
    local b, bse = ab.estimate.bon(s, val, 8, { seed = 4, resamples = 20 })
    local b1 = select(3, ab.estimate.bon(s, val, 8, { seed = 4, resamples = 12 })).values:totable()
    local b2 = select(3, ab.estimate.bon(s, val, 8, { seed = 4, resamples = 8, first = 13 })).values:totable()
    for i = 1, 8 do b1[12 + i] = b2[i] end
    local bm, bsem = ab.estimate.bon(s, val, 8, { values = b1 })
    assert.are.same({ b, bse }, { bm, bsem })
  end)

  it("bon: a resample of unequal groups may hold more rows than the run (fuzz)", function()
    -- groups of 1 and 3 rows: drawing the second twice gives 6 rows out of 4
    -- (this wrote past the per-worker buffer).  n = 1 is the mean of the
    -- resample's values: {6} twice gives 6, {6} and {5, 16, 3} give 30 / 4,
    -- {5, 16, 3} twice (6 rows) gives 8; each comes up in 200 resamples
    local s, v, groups = { 4, 1, 3, 3 }, { 6, 5, 16, 3 }, { 1, 2, 5 }
    local _, _, r = ab.estimate.bon(s, v, 1, { groups = groups, resamples = 200, seed = 1, threads = 2 })
    local seen = { [6] = 0, [7.5] = 0, [8] = 0 }
    for i = 1, 200 do
      local x = r.values[i]
      local near = x < 6.75 and 6 or x < 7.75 and 7.5 or 8
      H.close(x, near, 1e-14, "resample " .. i)
      seen[near] = seen[near] + 1
    end
    for k, c in pairs(seen) do assert.is_true(c > 20, k .. " seen " .. c .. " times") end
    -- and n above the fewest rows a resample can hold (2 x 1) is refused up front
    H.raises(function() return ab.estimate.bon(s, v, 3, { groups = groups }) end,
      "estimate.bon", "n must be at most 2 with these groups", "got 3")
    local _, _, r2 = ab.estimate.bon(s, v, 2, { groups = groups, resamples = 20, seed = 2 })
    for i = 1, 20 do assert.is_true(r2.values[i] >= 3 and r2.values[i] <= 16, "n = 2: " .. r2.values[i]) end
    -- the frontier sees the same resamples: its value is that of the weighted law
    local _, _, f = ab.estimate.frontier(v, 0.5, { groups = groups, resamples = 20, seed = 1 })
    for i = 1, 20 do assert.is_true(f.values[i] >= 0 and f.values[i] < math.huge) end
  end)

  it("groups: an empty group is refused with an error naming groups (fuzz)", function()
    local x = { 7, 2, 3, 1 }
    H.raises(function()
      return ab.estimate.variance_proxy_resamples(x, { groups = { 1, 1, 5 }, seed = 3, count = 4 })
    end, "estimate.variance_proxy_resamples", "groups[2] must be an integer in [2, 5]", "no empty group")
    H.raises(function() return ab.estimate.variance_proxy(x, { groups = { 1, 3, 3, 5 }, seed = 3 }) end,
      "estimate.variance_proxy", "groups[3]", "no empty group")
    H.raises(function() return ab.estimate.frontier(x, 0.3, { groups = { 1, 5, 5 }, seed = 3 }) end,
      "estimate.frontier", "groups[3]", "no empty group")
    H.raises(function() return ab.estimate.bon(x, x, 1, { groups = { 1, 2, 2, 5 } }) end,
      "estimate.bon", "groups[3]", "no empty group")
  end)

  it("options: one bound, the value given, no truncation, no conflicting options (fuzz)", function()
    local x = { 1, 5, 9, 2 }
    -- non-finite merged values are refused (they gave lo = hi = NaN)
    H.raises(function() return ab.estimate.bon(x, { 9, 3, 9, 5 }, 4, { values = { 1, -math.huge } }) end,
      "estimate.bon", "values[2] must be finite, got -inf")
    H.raises(function() return ab.estimate.frontier(x, 1, { values = { 1, math.huge } }) end,
      "values[2] must be finite, got inf")
    H.raises(function() return ab.estimate.frontier(x, 1, { values = { 0 / 0 } }) end, "values[1] must be finite")
    -- threads: checked before any cast to 32 bits
    H.raises(function() return ab.estimate.frontier(x, 1, { threads = 4294967297 }) end,
      "threads must be at most 1024, got 4294967297")
    H.raises(function() return ab.estimate.frontier(x, 1, { threads = 4294968321 }) end,
      "threads must be at most 1024, got 4294968321")
    -- counts: the same bound for 0 and below
    for _, k in ipairs { 0, -1, math.mininteger } do
      H.raises(function() return ab.estimate.frontier(x, 1, { resamples = k }) end,
        "resamples must be >= 1, got " .. k)
      H.raises(function() return ab.estimate.bon(x, x, 1, { first = k }) end, "first must be >= 1, got " .. k)
      H.raises(function() return ab.estimate.variance_proxy_resamples(x, { count = k }) end,
        "count must be >= 1, got " .. k)
    end
    H.raises(function() return ab.estimate.frontier(x, 1, { threads = -1 }) end, "threads must be >= 0, got -1")
    -- seed= or rng=, not both
    H.raises(function() return ab.estimate.frontier(x, 1, { seed = 1, rng = ab.rng(1) }) end,
      "estimate.frontier", "seed and rng exclude each other")
    -- values= fixes the number of resamples: a different resamples= is refused
    H.raises(function() return ab.estimate.frontier(x, 1, { values = { 1, 2, 3 }, resamples = 5 }) end,
      "resamples (5) differs from the number of values (3)")
    H.raises(function() return ab.estimate.variance_proxy(x, { values = { 1, 2, 3 }, resamples = 2 }) end,
      "resamples (2) differs from the number of values (3)")
    local _, _, r = ab.estimate.frontier(x, 1, { values = { 1, 2, 3 }, resamples = 3 })
    assert.are.equal(3, r.resamples)
    -- atoms at +-1e308 (a variance beyond the doubles): the frontier is the
    -- law {1, -1, 0} times 1e308 (scale-equivariant; mpmath, 30 digits:
    -- 0.761512423839970236), for the estimate and its law
    local exact = 0.761512423839970236e308
    H.close(ab.estimate.frontier({ 1e308, -1e308, 0 }, 0.5, { resamples = 4 }), exact, 1e-12)
    H.close(ab.tail.empirical({ 1e308, -1e308, 0 }):gain(0.5), exact, 1e-12)
  end)

  it("progress: a line on a terminal only, and progress=false turns it off", function()
    -- script(1) gives the child a terminal; the bootstrap lasts over the half
    -- second after which the line appears
    local code = [[local ab = require "alignbound"
      local x = ab.tail.gaussian{sd = 1}:sample(200000, ab.rng(1))
      ab.estimate.variance_proxy(x, {resamples = 300, threads = 1, progress = %s})
      io.stdout:write("done\n")]]
    local function run(progress, tty)
      local f = os.tmpname()
      local h = assert(io.open(f, "w"))
      h:write(code:format(progress))
      h:close()
      local cmd = tty and ("script -qefc 'lua5.4 " .. f .. "' /dev/null 2>&1")
        or ("lua5.4 " .. f .. " 2>&1")
      local p = assert(io.popen(cmd))
      local out = p:read("a")
      p:close()
      os.remove(f)
      return out
    end
    if os.execute("command -v script >/dev/null 2>&1") then
      local out = run("true", true)
      assert.truthy(out:find("estimate.variance_proxy: +%d+%% %(%d+ of %d+%)"), out)
      assert.truthy(out:find("\r\27%[K"), "the line is erased at the end")
      out = run("false", true)
      assert.is_nil(out:find("%%"), out)
    end
    -- not a terminal: nothing but the output
    assert.are.equal("done\n", run("true", false))
  end)
end)

describe("read_csv", function()
  local function write(text)
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(text)
    f:close()
    return path
  end

  it("reads comma and tab files, quoted headers, blank lines and CRLF", function()
    local p = write('"a","b c",d\r\n1,2,3\r\n\r\n4.5,-1e3,6\r\n')
    local t, rows = ab.read_csv(p)
    assert.are.equal(2, rows)
    assert.are.same({ 1, 4.5 }, t.a:totable())
    assert.are.same({ 2, -1000 }, t["b c"]:totable())
    assert.are.same({ 3, 6 }, t.d:totable())
    os.remove(p)
    p = write("x\ty\n1\t2\n3\t4")
    t = ab.read_csv(p, { columns = { "y" } })
    assert.are.same({ 2, 4 }, t.y:totable())
    assert.is_nil(t.x)
    os.remove(p)
  end)

  it("round-trips 10^5 rows exactly", function()
    local rng = ab.rng(1)
    local v = rng:uniform(100000)
    local lines = { "u,w" }
    for i = 1, #v do lines[#lines + 1] = string.format("%.17g,%d", v[i], i) end
    local p = write(table.concat(lines, "\n") .. "\n")
    local t, rows = ab.read_csv(p)
    assert.are.equal(100000, rows)
    for i = 1, rows, 997 do
      assert.are.equal(v[i], t.u[i])
      assert.are.equal(i, t.w[i])
    end
    os.remove(p)
  end)

  it("names the file, line and column of a bad value", function()
    local cases = {
      { "a,b\n1,2\n3,\n", ":3: column 2 ('b'): missing value" },
      { "a,b\n1,2\n3,x\n", ":3: column 2 ('b'): not a finite number" },
      { "a,b\n1,2,3\n", ":2: column 2 ('b'): more fields" },
      { "a,b\n1\n", ":2: column 1 ('a'): fewer fields" },
      { "a,b\n1,nan\n", "not a finite number" },
      { "", "missing header line" },
    }
    for _, c in ipairs(cases) do
      local p = write(c[1])
      H.raises(function() return ab.read_csv(p) end, p .. ":", c[2])
      os.remove(p)
    end
    local p = write("a,b\n1,2\n")
    H.raises(function() return ab.read_csv(p, { columns = { "c" } }) end, "no column named 'c'")
    os.remove(p)
  end)

  it("rejects a repeated column name it would read, naming it", function()
    local p = write("a,b,a\n1,2,3\n")
    H.raises(function() return ab.read_csv(p) end, p .. ":1:", "column name 'a' repeated (columns 1 and 3)")
    H.raises(function() return ab.read_csv(p, { columns = { "a" } }) end, "column name 'a' repeated (columns 1 and 3)")
    -- a repeated name that is not read is no harm
    local t = ab.read_csv(p, { columns = { "b" } })
    assert.are.same({ 2 }, t.b:totable())
    os.remove(p)
    p = write("a,b\n1,2\n")
    H.raises(function() return ab.read_csv(p, { columns = { "b", "a", "b" } }) end,
      "bad argument #2 to 'read_csv'", "column 'b' requested twice")
    os.remove(p)
  end)

  it("rejects a nonzero number that underflows to 0, and keeps subnormals", function()
    local p = write("a,b\n1,2\n3,1e-400\n")
    H.raises(function() return ab.read_csv(p) end, p .. ":3: column 2 ('b'): '1e-400' underflows to 0")
    os.remove(p)
    p = write("a,b\n0e-400,-0.0\n5e-324,2.2250738585072011e-308\n")
    local t = ab.read_csv(p)
    assert.are.same({ 0, 5e-324 }, t.a:totable())
    assert.are.equal(2.2250738585072011e-308, t.b[2])
    os.remove(p)
  end)

  it("skips a UTF-8 byte order mark before the header", function()
    local p = write("\239\187\191a,b\n1,2\n")
    local t = ab.read_csv(p)
    assert.are.same({ 1 }, t.a:totable())
    assert.are.same({ 2 }, t.b:totable())
    os.remove(p)
  end)

  it("rejects inf and nan (a reward log holding them is a bug), naming the value", function()
    for _, v in ipairs { "inf", "-inf", "nan", "Infinity", "1e400" } do
      local p = write("a,b\n1,2\n3," .. v .. "\n")
      H.raises(function() return ab.read_csv(p) end, p .. ":3: column 2 ('b'): not a finite number: '" .. v .. "'")
      os.remove(p)
    end
  end)

  it("returns nil and a message for a file that cannot be read", function()
    local t, msg = ab.read_csv("/nonexistent/run.csv")
    assert.is_nil(t)
    assert.truthy(msg:find("/nonexistent/run.csv", 1, true))
  end)
end)

describe("check_run", function()
  -- a reference law, and a policy that is its exact tilt at KL = 0.3: the run
  -- reaches the limit, so the fraction is 1 up to sampling error
  local atoms, probs = { 0, 1, 2, 4 }, { 0.4, 0.3, 0.2, 0.1 }
  local ref = ab.tail.discrete { values = atoms, probs = probs }

  local function run_of(policy_probs, k, seed)
    local pol = ab.tail.discrete { values = atoms, probs = policy_probs }
    local y = pol:sample(k, ab.rng(seed))
    local lp, lq = ab.vector(k), ab.vector(k)
    local logs = {}
    for i = 1, #atoms do logs[atoms[i]] = { math.log(policy_probs[i]), math.log(probs[i]) } end
    for i = 1, k do lp[i], lq[i] = logs[y[i]][1], logs[y[i]][2] end
    return { ref_rewards = ref:sample(k, ab.rng(seed + 1)), policy_rewards = y, logp_policy = lp,
      logp_ref = lq, resamples = 50, rng = ab.rng(seed + 2) }
  end

  it("finds the tilt at the limit and best-of-n below it", function()
    local tilt = ab.tilt.policy(probs, atoms, { kl = 0.3 }).policy:totable()
    local r = ab.check_run(run_of(tilt, 20000, 1))
    assert.is_true(math.abs(r.kl - 0.3) < 4 * r.kl_se, "kl " .. r.kl)
    assert.is_true(math.abs(r.fraction - 1) < 0.05, "fraction " .. r.fraction)
    assert.is_true(r.bound_subgaussian >= r.frontier)
    assert.is_true(r.bound_subgaussian_upper >= r.bound_subgaussian)
    local bon = ab.bon.policy(probs, atoms, 4)
    local b = ab.check_run(run_of(bon.policy:totable(), 20000, 2))
    local c = ab.tilt.compare_bon(ref, 4)
    assert.is_true(math.abs(b.fraction - c.bon_gain / c.tilt_gain) < 0.05, "bon fraction " .. b.fraction)
    assert.is_true(b.fraction < 1)
  end)

  it("gives every estimate an error, and a heavy-tail caveat on Gumbel reference rewards", function()
    local tilt = ab.tilt.policy(probs, atoms, { kl = 0.3 }).policy:totable()
    local run = run_of(tilt, 5000, 3)
    local r = ab.check_run(run)
    assert.is_true(r.variance_proxy_trusted)
    assert.is_nil(r.variance_proxy_caveat)
    for _, k in ipairs { "variance_proxy_se", "frontier_se", "fraction_se" } do
      assert.is_true(r[k] > 0 and r[k] < math.huge, k)
    end
    assert.is_true(r.frontier_lo <= r.frontier and r.frontier <= r.frontier_hi)
    -- the same run on Gumbel reference rewards
    run.ref_rewards = ab.tail.gumbel { loc = 0, scale = 1 }:sample(20000, ab.rng(4))
    run.rng = nil
    run.seed = 5
    local h = ab.check_run(run)
    assert.is_false(h.variance_proxy_trusted)
    assert.truthy(h.variance_proxy_caveat:find("heavy tail", 1, true))
    -- and scripts/check_run.lua prints the caveat instead of a 95% bound
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write("ref_reward,policy_reward,logp_policy,logp_ref\n")
    for i = 1, 20000 do
      local j = (i - 1) % #run.policy_rewards + 1
      f:write(string.format("%.17g,%.17g,%.17g,%.17g\n", run.ref_rewards[i], run.policy_rewards[j],
        run.logp_policy[j], run.logp_ref[j]))
    end
    f:close()
    local p = assert(io.popen("lua5.4 scripts/check_run.lua " .. path .. " 2>&1"))
    local out = p:read("a")
    p:close()
    os.remove(path)
    assert.truthy(out:find("NOT TRUSTED", 1, true), out)
    assert.truthy(out:find("caveat: heavy tail", 1, true), out)
    assert.is_nil(out:find("95% bootstrap bound", 1, true), out)
  end)

  it("names the field at fault, not every field of the bootstrap (fuzz)", function()
    local run = { ref_rewards = { 1, 2, 3 }, policy_rewards = { 1, 2 }, logp_policy = { 0, 1 }, logp_ref = { 0, 0 } }
    local function with(k, v)
      local r = {}
      for f, x in pairs(run) do r[f] = x end
      r[k] = v
      return r
    end
    for _, case in ipairs {
      { "threads", 2000, "(threads must be at most 1024, got 2000)" },
      { "resamples", -1, "(resamples must be >= 1, got -1)" },
      { "level", 2, "(level must lie in (0, 1)" },
    } do
      local ok, msg = pcall(ab.check_run, with(case[1], case[2]))
      assert.is_false(ok)
      assert.truthy(msg:find("bad argument #1 to 'check_run' " .. case[3], 1, true), msg)
    end
    local r = with("seed", 1)
    r.rng = ab.rng(1)
    H.raises(function() return ab.check_run(r) end, "check_run", "seed and rng exclude each other")
    -- a complaint about the rewards still names them
    H.raises(function() return ab.check_run(with("ref_rewards", { 1, 0 / 0 })) end, "ref_rewards: ")
  end)

  it("rejects a run without its parts", function()
    H.raises(function() return ab.check_run { ref_rewards = { 1 } } end, "policy_rewards is required")
    H.raises(function() return ab.check_run { ref_reward = { 1 } } end, "unknown option 'ref_reward'")
  end)
end)
