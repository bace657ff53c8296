-- The Renyi refinement (DESIGN 3.3): tail information on the aligned policy.
local ab = require "alignbound"
local H = require "helper"

-- sqrt(2 ((1-a) s_pi^2 + a s_ref^2) D_a / a), written out
local function at(s2_ref, s2_pi, a, d)
  return math.sqrt(2 * ((1 - a) * s2_pi + a * s2_ref) * d / a)
end

-- D_a(Beta(n,1) || U) = (a log n - log(1 + a (n-1))) / (a - 1) (DESIGN 3.2)
local function bon_renyi(n, a)
  return (a * math.log(n) - math.log(1 + a * (n - 1))) / (a - 1)
end

describe("renyi.bon_proxy", function()
  -- the best-of-n law of a finite law by hand: masses F<=^n - F<^n on the
  -- sorted distinct values (no ties here)
  local function bon_law(values, probs, n)
    local idx = {}
    for i = 1, #values do idx[i] = i end
    table.sort(idx, function(a, b) return values[a] < values[b] end)
    local v, p, cum = {}, {}, 0
    for k, i in ipairs(idx) do
      v[k], p[k] = values[i], (cum + probs[i]) ^ n - cum ^ n
      cum = cum + probs[i]
    end
    return v, p
  end

  it("is the left-tail proxy of the best-of-n law", function()
    local values, probs = { 0, 1, 2, 5 }, { 0.5, 0.3, 0.15, 0.05 }
    local ref = ab.tail.discrete { values = values, probs = probs }
    for _, n in ipairs { 1, 2, 3.5, 10, 40 } do
      local v, p = bon_law(values, probs, n)
      -- the left tail of the law is the right tail of its mirror image
      local mirror = {}
      for i = 1, #v do mirror[i] = -v[i] end
      local want = ab.tail.discrete { values = mirror, probs = p }:variance_proxy()
      local right = ab.renyi.gain { reference = ab.tail.discrete { values = mirror, probs = p },
        aligned = { variance = 0 }, divergence = 1, alpha = 1 } ^ 2 / 2
      H.close(ab.renyi.bon_proxy(ref, n), right, 1e-9, "n=" .. n)
      assert(right <= want * (1 + 1e-12))
    end
  end)

  it("is exact for exact laws: the max of exponentials, of Gumbels, of uniforms", function()
    -- max of n Exp(1) = sum_k E_k / k, each E_k / k has left proxy 1/k^2 and
    -- variance 1/k^2: the proxy is sum_{k<=n} 1/k^2 (attained as l -> 0)
    local e = ab.tail.exponential { rate = 1 }
    for _, n in ipairs { 1, 10, 1000, 1e6 } do
      local s = 0
      for k = n, 1, -1 do s = s + 1 / k ^ 2 end
      H.close(ab.renyi.bon_proxy(e, n), s, 1e-10, "exponential n=" .. n)
    end
    -- max of n Gumbels is a shifted Gumbel: left proxy pi^2/6 for every n
    for _, n in ipairs { 1, 7, 1e6 } do
      H.close(ab.renyi.bon_proxy(ab.tail.gumbel { scale = 1 }, n), math.pi ^ 2 / 6, 1e-10, "gumbel n=" .. n)
    end
    -- max of n uniforms is Beta(n, 1): the Beta law's own (series) cumulant
    local u = ab.tail.uniform { lo = 0, hi = 1 }
    for _, n in ipairs { 2, 10, 1000 } do
      local b = ab.tail.beta { a = n, b = 1 }
      local mirror = ab.renyi.gain { reference = { variance = 0 }, aligned = b, divergence = 1, alpha = 0.5 }
      H.close(ab.renyi.bon_proxy(u, n), mirror ^ 2 / 2, 1e-9, "uniform n=" .. n)
    end
    H.close(ab.renyi.bon_proxy(ab.tail.gaussian { sd = 2 }, 1), 4, 1e-10, "gaussian n = 1")
    assert.are.equal(math.huge, ab.renyi.bon_proxy(ab.tail.logistic { scale = 1 }, 8))
  end)

  it("keeps atoms whose masses are below the double range", function()
    -- references from mpmath (40 digits): the masses (F<=^n - F<^n) exactly,
    -- sup_{l<0} 2 log E e^{l (X - E X)} / l^2 by golden-section search
    local ref = ab.tail.discrete { values = { 0, 1, 2, 5 }, probs = { 0.5, 0.3, 0.15, 0.05 } }
    H.close(ab.renyi.bon_proxy(ref, 1000), 0.087730765858006602, 1e-10, "n = 1000")
    H.close(ab.renyi.bon_proxy(ref, 1e6), 8.7730765858006602e-5, 1e-10, "n = 1e6")
  end)

  it("is the variance of the max of Gaussians", function()
    -- Var max(X1, X2) = 1 - 1/pi, Var max(X1, X2, X3) = 1 + sqrt 3/(2 pi) - 9/(4 pi)
    -- (closed forms); n = 1000: the variance by mpmath quadrature of
    -- n phi Phi^(n-1) at 30 digits, where a scan of 2 psi(l) / l^2 over
    -- l in [-1e3, -1e-3] (mpmath) stays below it: the sup is the limit l -> 0
    local g = ab.tail.gaussian { sd = 1 }
    H.close(ab.renyi.bon_proxy(g, 2), 1 - 1 / math.pi, 1e-10, "n = 2")
    H.close(ab.renyi.bon_proxy(g, 3), 1 + math.sqrt(3) / (2 * math.pi) - 9 / (4 * math.pi), 1e-10, "n = 3")
    H.close(ab.renyi.bon_proxy(g, 1000), 0.12345541709394084, 1e-10, "n = 1000")
  end)

  it("is finite, positive and within the law's own bound at every n", function()
    -- Every n = 2..64 and 2^7..2^20, the Gaussian and the uniform at
    -- several scalings (the proxy of s X + m is s^2 times that of X):
    -- whether the solves converge must not hinge on the last bits of the
    -- best-of-n mean that centres the cumulant.  What holds, law by law:
    -- * Gaussian(m, sd): the max of n is a 1-Lipschitz function of n
    --   Gaussians, so sd^2-sub-Gaussian (Gaussian concentration);
    -- * a law on [lo, hi] (uniform, beta): so is its best of n, Hoeffding's
    --   (hi - lo)^2 / 4 holds;
    -- * Gumbel(scale b): the max of n is a shifted Gumbel, pi^2 b^2 / 6;
    -- * Exp(rate t): the max of n is sum_k E_k / (k t), sum_{k<=n} 1/(k t)^2;
    -- * logistic: the left tail of the max of n is exponential, no proxy.
    -- Where the reference's right-tail proxy is finite (Gaussian, bounded),
    -- the Renyi bound built from the left proxy lies above the exact gain.
    local ns = {}
    for n = 2, 64 do ns[#ns + 1] = n end
    for k = 7, 20 do ns[#ns + 1] = 2 ^ k end
    -- { law, cap, the unit law it scales and s^2 }
    local g1, u1 = ab.tail.gaussian { sd = 1 }, ab.tail.uniform { lo = 0, hi = 1 }
    local laws = {
      { g1, 1 },
      { ab.tail.gaussian { sd = 3, mean = 5 }, 9, g1, 9 },
      { ab.tail.gaussian { sd = 1e-3, mean = -2 }, 1e-6, g1, 1e-6 },
      { u1, 1 / 4 },
      { ab.tail.uniform { lo = -7, hi = 100 }, 107 ^ 2 / 4, u1, 107 ^ 2 },
      { ab.tail.beta { a = 2, b = 5 }, 1 / 4 },
    }
    local seen = {}
    for _, c in ipairs(laws) do
      local law, cap, base, scale = c[1], c[2], c[3], c[4]
      seen[law] = {}
      for _, n in ipairs(ns) do
        local what = string.format("%s n=%g", tostring(law), n)
        local s2 = ab.renyi.bon_proxy(law, n)
        assert(s2 > 0 and s2 <= cap * (1 + 1e-12), what .. ": " .. s2)
        seen[law][n] = s2
        if base then H.close(s2, scale * seen[base][n], 1e-10, what .. ", scaled") end
        local exact = ab.bon.expected_gain(law, n)
        local b = ab.renyi.gain { reference = law, aligned = { variance = s2 }, divergence = { bon = n } }
        assert(exact > 0 and exact <= b, string.format("%s: %.17g > %.17g", what, exact, b))
      end
    end
    for _, b in ipairs { 1, 2.5 } do
      local gumbel = ab.tail.gumbel { scale = b, loc = 3 * (b - 1) }
      local logistic = ab.tail.logistic { scale = b }
      for _, n in ipairs(ns) do
        H.close(ab.renyi.bon_proxy(gumbel, n), math.pi ^ 2 * b * b / 6, 1e-10, "gumbel n=" .. n)
        assert.are.equal(math.huge, ab.renyi.bon_proxy(logistic, n))
      end
    end
    for _, t in ipairs { 1, 3 } do
      local e = ab.tail.exponential { rate = t }
      for _, n in ipairs(ns) do
        local s = 0
        for k = n, 1, -1 do s = s + 1 / (k * t) ^ 2 end
        H.close(ab.renyi.bon_proxy(e, n), s, 1e-10, "exponential n=" .. n)
      end
    end
  end)
end)

describe("bon.gain's Renyi certificate", function()
  it("uses the best-of-n law's own left-tail proxy for finite laws", function()
    -- a law with a far outlier of small mass: at n = 8 the Renyi refinement
    -- with the best-of-n law's left proxy beats the exact KL frontier, chi2
    -- and tv (the range bound (61.4 - 1.9)^2 / 4 alone would not)
    local v = { 7.97, 6.16, 61.4, 1.9, 3.92, 13.7 }
    local p = { 0.45976, 1.285e-5, 1.606e-5, 1.22e-6, 0.0049443 }
    local last = 1
    for i = 1, #p do last = last - p[i] end
    p[6] = last
    local t = ab.tail.discrete { values = v, probs = p }
    local b, cert = ab.bon.gain(t, 8)
    assert.are.equal("renyi", cert)
    local want = ab.renyi.gain { reference = t, aligned = { variance = ab.renyi.bon_proxy(t, 8) },
      divergence = { bon = 8 } }
    H.close(b, want, 1e-12, "the certificate")
    assert(b < t:gain(ab.bon.kl(8)), "below the KL frontier")
    assert(ab.bon.expected_gain(t, 8) <= b, "still a bound")
  end)
end)

describe("renyi.gain", function()
  it("is the formula at a fixed order", function()
    for _, a in ipairs { 0.01, 0.3, 0.5, 0.9 } do
      local b, alpha = ab.renyi.gain { reference = { variance = 2 }, aligned = { variance = 0.5 },
        divergence = 0.7, alpha = a }
      H.close(b, at(2, 0.5, a, 0.7), 1e-15, "a=" .. a)
      assert.are.equal(a, alpha)
      local f = ab.renyi.gain { reference = { variance = 2 }, aligned = { variance = 0.5 },
        divergence = { bon = 50 }, alpha = a }
      H.close(f, at(2, 0.5, a, bon_renyi(50, a)), 1e-13, "bon a=" .. a)
    end
  end)

  it("equals the KL bound sqrt(2 s2 KL) at a = 1", function()
    local b = ab.renyi.gain { reference = { variance = 3 }, aligned = { variance = 100 },
      divergence = 0.4, alpha = 1 }
    H.close(b, math.sqrt(2 * 3 * 0.4), 1e-15, "a = 1")
    b = ab.renyi.gain { reference = { variance = 3 }, aligned = { variance = math.huge },
      divergence = { bon = 64 } }
    H.close(b, math.sqrt(2 * 3 * ab.bon.kl(64)), 1e-15, "no left tail: the KL bound")
  end)

  it("equals the KL bound where it is tight: the Gaussian tilt", function()
    -- pi = N(mu, s^2), ref = N(0, s^2): D_a = a mu^2 / (2 s^2), gain = mu =
    -- sqrt(2 s^2 KL), attained; both tails have proxy s^2
    local s2, mu = 2.5, 1.3
    local g = ab.tail.gaussian { sd = math.sqrt(s2) }
    local b = ab.renyi.gain { reference = g, aligned = g,
      divergence = function(a) return a * mu * mu / (2 * s2) end }
    H.close(b, mu, 1e-13, "Gaussian tilt")
    H.close(b, g:gain(mu * mu / (2 * s2)), 1e-13, "KL bound")
    -- and for best-of-n of a Gaussian (the max of n Gaussians is sd^2
    -- sub-Gaussian on both sides): D_a / a is smallest at a = 1
    for _, n in ipairs { 2, 64, 1e6 } do
      local r, a = ab.renyi.gain { reference = g, aligned = { variance = s2 }, divergence = { bon = n } }
      H.close(r, g:gain(ab.bon.kl(n)), 1e-12, "bon n=" .. n)
      assert.are.equal(1, a)
    end
  end)

  it("takes the limit a -> 0 for best-of-n: sqrt(2 s_pi^2 (n - 1 - log n))", function()
    -- a tiny left-tail proxy makes the small orders win
    local n = 1000
    local b, a = ab.renyi.gain { reference = { variance = 1 }, aligned = { variance = 1e-12 },
      divergence = { bon = n } }
    local grid = math.huge
    for k = 1, 400 do
      local x = 10 ^ (-12 + 12 * k / 400)
      if x < 1 then grid = math.min(grid, at(1, 1e-12, x, bon_renyi(n, x))) end
    end
    assert(b <= grid * (1 + 1e-12), "below every grid order")
    assert(b <= math.sqrt(2 * 1e-12 * (n - 1 - math.log(n))) + math.sqrt(2 * 1e-12) * 1e-6)
    assert(a < 1e-3, "a small order: " .. a)
  end)

  it("finds the minimum of a user D_a that is not unimodal", function()
    -- a D_a with a dip at a = 0.2 and another at a = 0.8, the deeper at 0.8
    local function D(a)
      return 0.5 * a * (1 + 0.5 * math.cos(2 * math.pi * (a - 0.2) / 0.6)) + 0.02
    end
    local b, a = ab.renyi.gain { reference = { variance = 1 }, aligned = { variance = 1 }, divergence = D }
    local best, besta = math.huge, nil
    for k = 1, 100000 do
      local x = k / 100000
      local v = at(1, 1, x, D(x))
      if v < best then best, besta = v, x end
    end
    H.close(b, best, 1e-9, "minimum")
    assert(math.abs(a - besta) < 1e-3, "order " .. a .. " vs " .. besta)
  end)

  it("takes one-sided proxies from tails", function()
    -- Bernoulli(0.1): the right tail is heavier than the left one
    local t = ab.tail.bernoulli { p = 0.1 }
    local two = t:variance_proxy()
    local r = ab.renyi.gain { reference = t, aligned = { variance = 0 }, divergence = 0.2, alpha = 1 }
    H.close(r, math.sqrt(2 * two * 0.2), 1e-9, "right proxy of Bernoulli(0.1) = the two-sided one")
    local l = ab.renyi.gain { reference = { variance = 0 }, aligned = t, divergence = 0.2, alpha = 0.5 }
    -- the left proxy of Bernoulli(p < 1/2) is its variance p (1 - p) (the sup at l -> 0)
    H.close(l, at(0, 0.09, 0.5, 0.2), 1e-9, "left proxy = variance")
    -- a user cumulant bound l^2 (proxy 2), and a Lua error inside it
    local c = ab.tail.cumulant(function(x) return x * x end)
    H.close(ab.renyi.gain { reference = c, aligned = { variance = 1 }, divergence = 0.5, alpha = 1 },
      math.sqrt(2 * 2 * 0.5), 1e-9, "user cumulant")
    local bad = ab.tail.cumulant(function() error("nope") end)
    H.raises(function()
      ab.renyi.gain { reference = bad, aligned = { variance = 1 }, divergence = 0.5, alpha = 1 }
    end, "cumulant function failed", "nope")
    -- an exponential reward: right proxy +inf, left proxy 1/rate^2
    local e = ab.tail.exponential { rate = 2 }
    assert.are.equal(math.huge, ab.renyi.gain { reference = e, aligned = e, divergence = 0.1, alpha = 1 })
    H.close(ab.renyi.gain { reference = { variance = 0 }, aligned = e, divergence = 0.1, alpha = 0.5 },
      at(0, 0.25, 0.5, 0.1), 1e-9, "left proxy of the exponential")
  end)

  it("never fails: exact best-of-n gains lie below it", function()
    -- uniform(0, 1): the best of n is Beta(n, 1); Gaussian: the max of n
    -- standard normals is also 1-sub-Gaussian (Gaussian concentration);
    -- beta(2, 5): any law on [0, 1] is also 1/4 sub-Gaussian.  Each with the
    -- best-of-n law's own left proxy and with the cruder one.
    local cases = {
      { ab.tail.uniform { lo = 0, hi = 1 }, 1 / 12 },
      { ab.tail.gaussian { sd = 1 }, 1 },
      { ab.tail.beta { a = 2, b = 5 }, 0.25 },
    }
    for _, c in ipairs(cases) do
      for _, n in ipairs { 2, 10, 1000, 1e6 } do
        local exact = ab.bon.expected_gain(c[1], n)
        for _, s2 in ipairs { ab.renyi.bon_proxy(c[1], n), c[2] } do
          local b = ab.renyi.gain { reference = c[1], aligned = { variance = s2 }, divergence = { bon = n } }
          assert(exact <= b, string.format("%s n=%g: %.6g > %.6g", tostring(c[1]), n, exact, b))
        end
      end
    end
    -- discrete rewards with ties: the exact best-of-n law and its left proxy
    -- (up to n = 100, where its masses are representable), and the range
    -- bound (5 - 0)^2 / 4 beyond
    local p, r = { 0.5, 0.3, 0.15, 0.05 }, { 0, 1, 2, 5 }
    local ref = ab.tail.discrete { values = r, probs = p }
    for _, n in ipairs { 1e3, 1e6 } do
      local b = ab.renyi.gain { reference = ref, aligned = { variance = 6.25 }, divergence = { bon = n } }
      assert(ab.bon.expected_gain(ref, n) <= b, "discrete n=" .. n)
      local s2 = ab.renyi.bon_proxy(ref, n)
      local c = ab.renyi.gain { reference = ref, aligned = { variance = s2 }, divergence = { bon = n } }
      assert(ab.bon.expected_gain(ref, n) <= c, "discrete, its own left proxy, n=" .. n)
      assert(c < b, "its own left proxy is tighter than the range")
    end
    for _, n in ipairs { 2, 16, 100 } do
      local pol = ab.bon.policy(p, r, n)
      local aligned = ab.tail.discrete { values = r, probs = pol.policy }
      local b = ab.renyi.gain { reference = ref, aligned = aligned, divergence = { bon = n } }
      assert(ab.bon.expected_gain(ref, n) <= b, "discrete n=" .. n)
      -- the exact Renyi divergences of the tie-broken law are smaller still
      local exact = function(a) return ab.divergence(pol.policy, p, "renyi", { alpha = a }) end
      local be2 = ab.renyi.gain { reference = ref, aligned = aligned, divergence = exact }
      assert(ab.bon.expected_gain(ref, n) <= be2 * (1 + 1e-12), "discrete exact D_a n=" .. n)
      assert(be2 <= b * (1 + 1e-12), "exact D_a is tighter")
    end
  end)

  it("never fails against Monte Carlo gains", function()
    local be = ab.tail.beta { a = 0.5, b = 0.5 }
    local rng = ab.rng(5)
    for _, n in ipairs { 4, 256 } do
      local m, se = ab.mc.bon_gain(be, n, 20000, rng)
      local aligned = ab.tail.empirical(ab.bon.sample(be, n, 20000, rng))
      local b = ab.renyi.gain { reference = be, aligned = { variance = 0.25 }, divergence = { bon = n } }
      assert(m - 4 * se <= b, "beta(1/2, 1/2) n=" .. n)
      assert(aligned:mean() - be:mean() <= b)
    end
  end)

  it("beats the KL bound for saturating rewards", function()
    local u = ab.tail.uniform { lo = 0, hi = 1 }
    for _, n in ipairs { 100, 1000 } do
      local b = ab.renyi.gain { reference = u, aligned = ab.tail.beta { a = n, b = 1 }, divergence = { bon = n } }
      local kl = math.sqrt(2 * u:variance_proxy() * ab.bon.kl(n))
      assert(b < 0.8 * kl, string.format("n=%d: renyi %.4g vs kl %.4g", n, b, kl))
    end
    -- a binary reward at p = 0.5: the best of n is almost surely 1
    local p, r = { 0.5, 0.5 }, { 0, 1 }
    local ref = ab.tail.discrete { values = r, probs = p }
    local pol = ab.bon.policy(p, r, 20)
    local b = ab.renyi.gain { reference = ref, aligned = ab.tail.discrete { values = r, probs = pol.policy },
      divergence = { bon = 20 } }
    assert(b < 0.98 * math.sqrt(2 * 0.25 * ab.bon.kl(20)), "binary")
  end)

  it("rejects bad input, naming renyi.gain and the field", function()
    H.raises(function() ab.renyi.bon_proxy(ab.tail.subgaussian { sigma = 1 }, 4) end,
      "'renyi.bon_proxy'", "needs an exact or finite law")
    H.raises(function() ab.renyi.bon_proxy(ab.tail.bernoulli { p = 0.5 }, 0.5) end,
      "'renyi.bon_proxy'", "n must be a number >= 1")
    H.raises(function() ab.renyi.bon_proxy({}, 2) end, "'renyi.bon_proxy'", "alignbound.tail expected")
    local ok = { reference = { variance = 1 }, aligned = { variance = 1 }, divergence = 0.1, alpha = 0.5 }
    local function with(k, v)
      local t = {}
      for a, b in pairs(ok) do t[a] = b end
      t[k] = v
      return function() ab.renyi.gain(t) end
    end
    H.raises(with("alpha", 0), "'renyi.gain'", "alpha must lie in (0, 1]")
    H.raises(with("alpha", 1.5), "'renyi.gain'", "alpha must lie in (0, 1]")
    H.raises(with("alpha", 0 / 0), "alpha must lie in (0, 1]")
    H.raises(with("alpha", nil), "'renyi.gain'", "give alpha= too")
    H.raises(with("divergence", -1), "divergence must be >= 0")
    H.raises(with("divergence", nil), "divergence is required")
    H.raises(with("divergence", "kl"), "divergence must be a number, a function of the order or {bon=n}")
    H.raises(with("divergence", { bon = 0.5 }), "divergence.bon must be a number >= 1")
    H.raises(with("divergence", { n = 5 }), "unknown option 'n'")
    H.raises(with("reference", nil), "reference is required")
    H.raises(with("reference", { sigma = 1 }), "reference must be a tail or {variance=}")
    H.raises(with("reference", { variance = -1 }), "reference.variance must be >= 0")
    H.raises(with("reference", { variance = 1, sd = 1 }), "unknown option 'sd'")
    H.raises(with("aligned", 3), "aligned must be an alignbound.tail or {variance=}")
    H.raises(with("aligned", ab.tail.subgamma { v = 1, c = 1 }), "aligned needs a left tail")
    H.raises(with("order", 1), "unknown option 'order'")
    H.raises(function() ab.renyi.gain(5) end, "'renyi.gain'", "table of options expected")
    H.raises(with("divergence", function() error("boom") end), "divergence function failed at a=", "boom")
    H.raises(with("divergence", function() return -1 end), "renyi.gain", "must return D_a >= 0")
    H.raises(with("divergence", function() return 0 / 0 end), "divergence function must return a number")
  end)
end)

describe("renyi.bon_proxy for beta laws with a shape below 1", function()
  -- the best of n of Beta(a, 1) (CDF x^a) is Beta(n a, 1) (CDF x^(n a)): its left-tail
  -- proxy, through renyi.gain's aligned tail (gain^2 = s_pi^2 at alpha = 1/2, D = 1/2)
  local function left_proxy(t)
    return ab.renyi.gain { reference = { variance = 0 }, aligned = t, divergence = 0.5, alpha = 0.5 } ^ 2
  end
  it("equals the left proxy of Beta(n a, 1), and its gain is n a/(n a + 1) - a/(a + 1)", function()
    for _, a in ipairs { 0.05, 0.3, 0.9, 0.98 } do
      for _, n in ipairs { 1, 2, 5, 40 } do
        local what = string.format("Beta(%g, 1), n = %g", a, n)
        H.close(ab.renyi.bon_proxy(ab.tail.beta { a = a, b = 1 }, n),
          left_proxy(ab.tail.beta { a = n * a, b = 1 }), 1e-9, what)
        if n > 1 then
          H.close(ab.bon.expected_gain(ab.tail.beta { a = a, b = 1 }, n),
            n * a / (n * a + 1) - a / (a + 1), 1e-10, what .. " gain")
        end
      end
    end
  end)
  it("succeeds for a < 1 with any b (verifier: Beta(0.9, 4.4) raised a GSL failure)", function()
    for _, a in ipairs { 0.1, 0.5, 0.9, 0.99 } do
      for _, b in ipairs { 0.1, 1, 4.4, 20 } do
        for _, n in ipairs { 1, 2, 10 } do
          local v = ab.renyi.bon_proxy(ab.tail.beta { a = a, b = b }, n)
          -- a law on [0, 1]: Hoeffding's 1/4 caps every proxy
          assert(v > 0 and v <= 0.25, string.format("Beta(%g, %g), n = %g: %.17g", a, b, n, v))
        end
      end
    end
  end)
  it("names the law and n when it fails", function()
    H.raises(function() ab.renyi.bon_proxy(ab.tail.gamma { shape = 1e6, scale = 1 }, 2) end,
      "renyi.bon_proxy", "gamma(shape=1000000", "n = 2")
  end)
end)

describe("best of n near n = 1 and at every integer n (verifier re-check)", function()
  it("renyi.bon_proxy of the standard Gaussian succeeds for n = 1..400", function()
    local g = ab.tail.gaussian { sd = 1 }
    for n = 1, 400 do
      local ok, v = pcall(ab.renyi.bon_proxy, g, n)
      assert(ok, string.format("n = %d: %s", n, tostring(v)))
      -- the best of n concentrates: its left proxy is positive and at most the parent's 1
      assert(v > 0 and v <= 1 + 1e-9, string.format("n = %d: %.17g", n, v))
    end
  end)
  it("bon.expected_gain at n = 1 + 1e-9 (mpmath references, 40 digits)", function()
    local n = 1 + 1e-9
    -- mpmath quad of int x (n Phi^(n-1) - 1) phi dx at the double n
    H.close(ab.bon.expected_gain(ab.tail.gaussian { sd = 1 }, n), 9.0319735970369878e-10, 1e-10, "gaussian")
    -- mpmath quad with F = 1 - (1 + x) e^-x, f = x e^-x
    H.close(ab.bon.expected_gain(ab.tail.gamma { shape = 2, scale = 1 }, n), 1.0268108596059438e-9, 1e-10, "gamma 2")
    -- closed form H_n - 1 = psi(n + 1) + gamma_E - 1 (mpmath), which cancels near n = 1
    H.close(ab.bon.expected_gain(ab.tail.exponential { rate = 1 }, n), 6.4493412000825346e-10, 1e-13, "exponential")
  end)
  it("the exponential's closed form agrees with its quantile integral on (1, 2]", function()
    local e = ab.tail.exponential { rate = 1 }
    for _, n in ipairs { 1 + 2 ^ -40, 1 + 1e-6, 1.01, 1.2, 1.2499, 1.25, 1.7, 2 } do
      H.close(ab.bon.expected_gain(e, n), ab.bon.expected_gain(e, n, { numeric = true }), 1e-10, "n = " .. n)
    end
  end)
end)

describe("renyi.gain with a user divergence whose infimum is the limit a -> 0", function()
  it("reaches sqrt(2 s_pi^2 lim D_a / a) (verifier: 1.41688e-4 at a = 3.8e-11 for D_a = a)", function()
    -- bound^2 = 2 ((1 - a) s_pi^2 + a s_ref^2) D_a / a = 2 ((1 - a) 1e-8 + a) for D_a = a
    local g, order = ab.renyi.gain { reference = { variance = 1 }, aligned = { variance = 1e-8 },
      divergence = function(a) return a end }
    H.close(g, math.sqrt(2e-8), 1e-13, "D_a = a")
    assert(order < 1e-30, "order " .. order)
    -- D_a = a (1 + a): the same limit, approached from above
    H.close(ab.renyi.gain { reference = { variance = 2 }, aligned = { variance = 3e-6 },
      divergence = function(a) return a * (1 + a) end }, math.sqrt(6e-6), 1e-13, "D_a = a (1 + a)")
  end)
  it("keeps the points it has where the function fails or underflows at tiny orders", function()
    H.close(ab.renyi.gain { reference = { variance = 1 }, aligned = { variance = 1e-8 },
      divergence = function(a) if a < 1e-100 then error("out of range") end return a end },
      math.sqrt(2e-8), 1e-13, "failing below 1e-100")
    -- D_a = 1e-30 a underflows to 0 below a ~ 1e-294: that 0 is not taken for a limit of 0
    H.close(ab.renyi.gain { reference = { variance = 1 }, aligned = { variance = 1e-8 },
      divergence = function(a) return 1e-30 * a end }, math.sqrt(2e-38), 1e-13, "underflow")
  end)
end)
