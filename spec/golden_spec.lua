-- Proxy to golden reward (DESIGN 3.4): error models and joint models.
local ab = require "alignbound"
local H = require "helper"

-- A finite world: outcomes with reference probabilities, a golden reward and
-- an error e = proxy - gold, |e| <= 0.3.
local P = { 0.05, 0.1, 0.15, 0.2, 0.2, 0.15, 0.1, 0.05 }
local GOLD = { -1.0, 0.2, -0.4, 0.5, 0.1, 0.9, 0.3, 1.2 }
local ERR = { 0.1, -0.3, 0.25, -0.05, 0.3, -0.2, 0.15, 0.3 }
local PROXY = {}
for i = 1, #P do PROXY[i] = GOLD[i] + ERR[i] end

local function expect(pi, x)
  local s = 0
  for i = 1, #x do s = s + pi[i] * x[i] end
  return s
end

-- exact gains and divergences of a policy on the outcomes, by summation
local function exact(pi)
  return {
    proxy = expect(pi, PROXY) - expect(P, PROXY),
    gold = expect(pi, GOLD) - expect(P, GOLD),
    kl = ab.divergence(pi, P, "kl"),
    chi2 = ab.divergence(pi, P, "chi2"),
    tv = ab.divergence(pi, P, "tv"),
  }
end

local function policies()
  local out = {}
  for _, beta in ipairs { 0.2, 0.5, 1, 3 } do
    out[#out + 1] = ab.tilt.policy(P, PROXY, { beta = beta }).policy:totable()
  end
  for _, n in ipairs { 2, 4, 16, 100 } do
    out[#out + 1] = ab.bon.policy(P, PROXY, n).policy:totable()
  end
  return out
end

-- the variance and the optimal two-sided sub-Gaussian proxy of e under ref
local MEAN_E = expect(P, ERR)
local VAR_E = 0
for i = 1, #P do VAR_E = VAR_E + P[i] * (ERR[i] - MEAN_E) ^ 2 end
local S2_E = ab.tail.discrete { values = ERR, probs = P }:variance_proxy()

describe("error models", function()
  local models = {
    ab.error.bounded { eps = 0.3 },
    ab.error.subgaussian { variance = S2_E },
    ab.error.variance { var = VAR_E },
  }

  it("bound the exact golden gain of tilts and best-of-n on a finite law", function()
    for _, pi in ipairs(policies()) do
      local x = exact(pi)
      for _, e in ipairs(models) do
        for _, div in ipairs { { kl = x.kl, chi2 = x.chi2, tv = x.tv }, { kl = x.kl },
          { chi2 = x.chi2 }, { tv = x.tv } } do
          local usable = false
          for _, u in ipairs(e.uses) do usable = usable or div[u] ~= nil end
          if usable then
            local lo, hi = e:golden(x.proxy, div)
            assert(lo <= x.gold + 1e-14 and x.gold <= hi + 1e-14,
              string.format("%s: gold %.6g outside [%.6g, %.6g]", tostring(e), x.gold, lo, hi))
          end
        end
      end
    end
  end)

  it("pick the tightest route among the divergences given", function()
    for _, pi in ipairs(policies()) do
      local x = exact(pi)
      for _, e in ipairs(models) do
        local all = { kl = x.kl, chi2 = x.chi2, tv = x.tv }
        local lo, hi, route = e:golden(x.proxy, all)
        for _, u in ipairs(e.uses) do
          local l1, h1, r1 = e:golden(x.proxy, { [u] = all[u] })
          assert.are.equal(u, r1)
          assert(h1 - l1 >= hi - lo, tostring(e) .. ": route " .. u .. " is tighter than " .. route)
        end
      end
    end
  end)

  it("give the closed forms of each route", function()
    local e = ab.error.bounded { eps = 0.1 }
    local lo, hi, route = e:golden(1, { tv = 0.3 })
    H.close(1 - lo, 0.06, 1e-14, "2 eps tv below")
    H.close(hi - 1, 0.06, 1e-14, "2 eps tv")
    assert.are.equal("tv", route)
    lo, hi, route = e:golden(1, { kl = 0.08 })
    H.close(1 - lo, hi - 1, 1e-14, "symmetric")
    H.close(hi - 1, 2 * 0.1 * 0.2, 1e-14, "Pinsker")
    assert.are.equal("kl", route)
    lo, hi = e:golden(1, { kl = 5 })
    H.close(1 - lo, hi - 1, 1e-14, "symmetric")
    H.close(hi - 1, 0.2, 1e-15, "Pinsker capped at 2 eps")
    lo, hi, route = e:golden(1, { chi2 = 0.25 })
    H.close(1 - lo, hi - 1, 1e-14, "symmetric")
    H.close(hi - 1, 0.05, 1e-14, "eps sqrt(chi2)")
    assert.are.equal("chi2", route)
    -- with both, the smaller: 2 eps tv = 0.02 beats 2 eps sqrt(kl/2) = 0.04
    lo, hi, route = e:golden(1, { tv = 0.1, kl = 0.08 })
    H.close(1 - lo, hi - 1, 1e-14, "symmetric")
    assert.are.equal("tv", route)
    H.close(hi - 1, 0.02, 1e-14, "tv wins")
    local s = ab.error.subgaussian { sigma = 2 }
    lo, hi, route = s:golden(0.5, { kl = 0.5, chi2 = 10 })
    H.close(0.5 - lo, hi - 0.5, 1e-14, "symmetric")
    assert.are.equal("kl", route)
    H.close(hi - 0.5, 2, 1e-15, "sqrt(2 s2 kl)")
    lo, hi, route = s:golden(0.5, { kl = 0.5, chi2 = 0.5 })
    H.close(0.5 - lo, hi - 0.5, 1e-14, "symmetric")
    assert.are.equal("chi2", route)
    H.close(hi - 0.5, math.sqrt(2), 1e-15, "sqrt(s2 chi2)")
    lo, hi, route = ab.error.variance { var = 2 }:golden(1, { chi2 = 3, kl = 1 })
    H.close(1 - lo, hi - 1, 1e-14, "symmetric")
    assert.are.equal("chi2", route)
    H.close(hi - 1, math.sqrt(6), 1e-15, "sqrt(var chi2)")
    lo, hi, route = ab.error.overestimation { rate = 0.25 }:golden(1, { kl = 2 })
    assert.are.equal(0.5, lo)
    assert.are.equal(0.5, hi)
    assert.are.equal("rate", route)
  end)

  it("keep infinities meaningful, never NaN", function()
    local lo, hi = ab.error.subgaussian { sigma = 1 }:golden(math.huge, { kl = math.huge })
    assert.are.equal(-math.huge, lo)
    assert.are.equal(math.huge, hi)
    lo, hi = ab.error.overestimation { rate = 1 }:golden(math.huge, { kl = math.huge })
    assert.are.equal(-math.huge, lo)
    assert.are.equal(math.huge, hi)
    lo, hi = ab.error.bounded { eps = 1 }:golden(2, { kl = math.huge })
    assert.are.equal(0, lo)
    assert.are.equal(4, hi)
  end)

  it("say what they are and what they use", function()
    assert.are.equal("error.bounded(eps=0.1)", tostring(ab.error.bounded { eps = 0.1 }))
    assert.are.equal("error.subgaussian(sigma=2)", tostring(ab.error.subgaussian { variance = 4 }))
    assert.are.equal("error.variance(var=3)", tostring(ab.error.variance { var = 3 }))
    assert.are.equal("error.overestimation(rate=0.5)", tostring(ab.error.overestimation { rate = 0.5 }))
    assert.are.same({ "tv", "kl", "chi2" }, ab.error.bounded { eps = 1 }.uses)
    assert.are.same({ "kl", "chi2" }, ab.error.subgaussian { sigma = 1 }.uses)
    assert.are.same({ "chi2" }, ab.error.variance { var = 1 }.uses)
    assert.are.same({ "kl" }, ab.error.overestimation { rate = 1 }.uses)
    assert.are.equal("bounded", ab.error.bounded { eps = 1 }.kind)
    assert.are.equal(0.5, ab.error.overestimation { rate = 0.5 }.rate)
  end)

  it("reject bad parameters and divergences, naming the function and the field", function()
    H.raises(function() ab.error.bounded { eps = 0 } end, "'error.bounded'", "eps must be positive")
    H.raises(function() ab.error.bounded { eps = 0.1, epsilon = 1 } end, "'error.bounded'", "unknown option 'epsilon'")
    H.raises(function() ab.error.bounded() end, "'error.bounded'", "table of options expected")
    H.raises(function() ab.error.subgaussian { sigma = 1, variance = 1 } end, "'error.subgaussian'", "exactly one")
    H.raises(function() ab.error.subgaussian { sigma = -1 } end, "'error.subgaussian'", "sigma must be positive")
    H.raises(function() ab.error.variance { var = 0 / 0 } end, "'error.variance'", "var must be positive")
    H.raises(function() ab.error.overestimation { rate = -1 } end, "'error.overestimation'", "rate must be >= 0")
    local e = ab.error.variance { var = 1 }
    H.raises(function() e:golden(1, { kl = 1 }) end, "'error:golden'", "needs chi2")
    H.raises(function() e:golden(1, { chi2 = -1 }) end, "'error:golden'", "chi2 must be >= 0")
    H.raises(function() e:golden(1, { chi2 = 1, hellinger = 1 }) end, "'error:golden'", "unknown option 'hellinger'")
    H.raises(function() e:golden(0 / 0, { chi2 = 1 }) end, "'error:golden'", "proxy_gain must not be NaN")
    H.raises(function() e:golden("x", { chi2 = 1 }) end, "'error:golden'", "proxy_gain must be a number")
    H.raises(function() ab.error.bounded { eps = 1 }:golden(1, { tv = 1.5 }) end, "tv must lie in [0, 1]")
    H.raises(function() ab.error.bounded { eps = 1 }:golden(1, { kl = 0 / 0 }) end, "kl must not be NaN")
    H.raises(function() ab.error.overestimation { rate = 1 }:golden(1, { tv = 0.1 }) end, "needs kl")
  end)
end)

-- E max of n standard normals: 1/sqrt(pi) for n = 2, 3/(2 sqrt(pi)) for n = 3
local EMAX2, EMAX3 = 1 / math.sqrt(math.pi), 1.5 / math.sqrt(math.pi)

describe("joint.gaussian", function()
  it("gives the exact gains of best-of-n: gold = rho sd_gold / sd_proxy proxy", function()
    local j = ab.joint.gaussian { rho = 0.6, sd_proxy = 2, sd_gold = 3 }
    local r = j:bon(2)
    H.close(r.proxy_gain, 2 * EMAX2, 1e-13, "proxy n=2")
    H.close(r.gold_gain, 0.6 * 3 * EMAX2, 1e-13, "gold n=2")
    H.close(r.kl, math.log(2) - 0.5, 1e-15, "kl n=2")
    assert.is_true(r.exact)
    assert.are.equal(0, r.proxy_se)
    r = j:bon(3)
    H.close(r.proxy_gain, 2 * EMAX3, 1e-13, "proxy n=3")
    H.close(r.gold_gain, 1.8 * EMAX3, 1e-13, "gold n=3")
    r = ab.joint.gaussian { rho = -0.5, sd_proxy = 1, sd_gold = 1 }:bon(1000)
    H.close(r.gold_gain, -0.5 * r.proxy_gain, 1e-15, "negative rho")
    assert.are.equal(0, j:bon(1).gold_gain)
  end)

  it("gives the exact tilt: proxy lambda sd^2, KL (lambda sd)^2 / 2", function()
    local k = ab.joint.gaussian { rho = 0.5, sd_proxy = 2, sd_gold = 1 }:tilt_kl(0.125)
    H.close(k.lambda, 0.25, 1e-15, "lambda = sqrt(2 kl) / sd")
    H.close(k.gold_gain, 0.25, 1e-15, "gold at the budget")
    local r = ab.joint.gaussian { rho = 0.5, sd_proxy = 2, sd_gold = 1 }:tilt(0.25)
    assert.are.equal(0.25, r.lambda)
    H.close(r.proxy_gain, 1, 1e-15, "proxy")
    H.close(r.gold_gain, 0.25, 1e-15, "gold")
    H.close(r.kl, 0.125, 1e-15, "kl")
    assert.are.equal(0, r.kl_se)
  end)

  it("has the Gaussian proxy law and a tostring", function()
    local j = ab.joint.gaussian { rho = 0.5, sd_proxy = 2, sd_gold = 1, mean_proxy = 1, mean_gold = -1 }
    assert.are.equal("gaussian(mean=1, sd=2)", tostring(j:proxy_law()))
    assert.are.equal("joint.gaussian(rho=0.5, sd_proxy=2, sd_gold=1, mean_proxy=1, mean_gold=-1)",
      tostring(j))
  end)

  it("rejects bad parameters", function()
    H.raises(function() ab.joint.gaussian { rho = 1.1, sd_proxy = 1, sd_gold = 1 } end,
      "'joint.gaussian'", "rho must lie in [-1, 1]")
    H.raises(function() ab.joint.gaussian { rho = 0 / 0, sd_proxy = 1, sd_gold = 1 } end, "rho must lie")
    H.raises(function() ab.joint.gaussian { rho = 0.5, sd_proxy = 0, sd_gold = 1 } end,
      "'joint.gaussian'", "sd_proxy must be positive")
    H.raises(function() ab.joint.gaussian { rho = 0.5, sd_proxy = 1 } end, "sd_gold is required")
    H.raises(function() ab.joint.gaussian { rho = 0.5, sd_proxy = 1, sd_gold = 1, sd = 1 } end,
      "unknown option 'sd'")
    local j = ab.joint.gaussian { rho = 0.5, sd_proxy = 1, sd_gold = 1 }
    H.raises(function() j:bon(0.5) end, "'joint:bon'", "n must be a number >= 1")
    H.raises(function() j:bon(2, { draws = 1 }) end, "'joint:bon'", "draws must be an integer >= 2")
    H.raises(function() j:bon(2, { samples = 10 }) end, "unknown option 'samples'")
    H.raises(function() j:tilt(-1) end, "'joint:tilt'", "lambda must be a number >= 0")
    H.raises(function() j:tilt(math.huge) end, "lambda must be a number >= 0 and finite")
  end)
end)

describe("joint.additive", function()
  local sg, se = 1.5, 2
  local gold, err = ab.tail.gaussian { sd = sg }, ab.tail.gaussian { mean = 0.5, sd = se }
  local add = ab.joint.additive { gold = gold, error = err }
  local sp = math.sqrt(sg ^ 2 + se ^ 2)
  local gx = ab.joint.gaussian { rho = sg / sp, sd_proxy = sp, sd_gold = sg }

  it("agrees with the exact jointly Gaussian model (rho = sd_gold / sd_proxy)", function()
    for _, n in ipairs { 2, 4, 16 } do
      local m, x = add:bon(n, { draws = 40000, seed = 7 }), gx:bon(n)
      assert.is_false(m.exact)
      assert(math.abs(m.proxy_gain - x.proxy_gain) < 4.5 * m.proxy_se + 1e-12, "bon proxy n=" .. n)
      assert(math.abs(m.gold_gain - x.gold_gain) < 4.5 * m.gold_se + 1e-12, "bon gold n=" .. n)
      H.close(m.kl, x.kl, 1e-15, "bon kl")
      -- the standard error is sd / sqrt(draws), the sd of the best of 2
      -- being sqrt(1 - 1/pi) sd_proxy
      if n == 2 then H.close(m.proxy_se, sp * math.sqrt(1 - 1 / math.pi) / math.sqrt(40000), 0.02, "se") end
    end
    for _, l in ipairs { 0.1, 0.3 } do
      local m, x = add:tilt(l, { draws = 100000, seed = 3 }), gx:tilt(l)
      assert(math.abs(m.proxy_gain - x.proxy_gain) < 4.5 * m.proxy_se, "tilt proxy l=" .. l)
      assert(math.abs(m.gold_gain - x.gold_gain) < 4.5 * m.gold_se, "tilt gold l=" .. l)
      assert(math.abs(m.kl - x.kl) < 4.5 * m.kl_se, "tilt kl l=" .. l)
    end
  end)

  it("tilts to a KL budget on its draws, in agreement with the exact model", function()
    for _, kl in ipairs { 0.05, 0.5 } do
      local m, x = add:tilt_kl(kl, { draws = 100000, seed = 4 }), gx:tilt_kl(kl)
      H.close(m.kl, kl, 1e-12, "the budget is met on the draws")
      assert(math.abs(m.proxy_gain - x.proxy_gain) < 4.5 * m.proxy_se, "tilt_kl proxy kl=" .. kl)
      assert(math.abs(m.gold_gain - x.gold_gain) < 4.5 * m.gold_se, "tilt_kl gold kl=" .. kl)
      assert(math.abs(m.lambda - x.lambda) < 0.05 * x.lambda, "lambda kl=" .. kl)
      -- the same lambda through tilt gives the same numbers
      local t = add:tilt(m.lambda, { draws = 100000, seed = 4 })
      H.close(t.gold_gain, m.gold_gain, 1e-12, "tilt(lambda) = tilt_kl")
    end
    assert.are.equal(0, add:tilt_kl(0).lambda)
    H.raises(function() add:tilt_kl(10, { draws = 1000 }) end, "'joint:tilt_kl'", "kl must be below log(draws)")
    H.raises(function() add:tilt_kl(-1) end, "'joint:tilt_kl'", "kl must be a number >= 0")
  end)

  it("has standard errors that match the spread over seeds", function()
    local xs, ses = {}, {}
    for seed = 1, 40 do
      local r = add:tilt(0.3, { draws = 2000, seed = seed })
      xs[seed], ses[seed] = r.gold_gain, r.gold_se
    end
    local m, v, s = 0, 0, 0
    for i = 1, #xs do m, s = m + xs[i] / #xs, s + ses[i] / #xs end
    for i = 1, #xs do v = v + (xs[i] - m) ^ 2 / (#xs - 1) end
    local ratio = math.sqrt(v) / s
    assert(ratio > 0.6 and ratio < 1.6, "spread / se = " .. ratio)
  end)

  it("is reproducible by seed", function()
    local a, b = add:bon(8, { draws = 1000, seed = 11 }), add:bon(8, { draws = 1000, seed = 11 })
    assert.are.same(a, b)
    local c = add:bon(8, { draws = 1000, seed = 12 })
    assert.are_not.equal(a.gold_gain, c.gold_gain)
    local l1, l2 = add:proxy_law { draws = 500, seed = 5 }, add:proxy_law { draws = 500, seed = 5 }
    assert.are.equal(l1:mean(), l2:mean())
    assert(tostring(l1):find("empirical(500 samples", 1, true))
  end)

  it("is exact at n = 1 and lambda = 0", function()
    local r = add:tilt(0)
    assert.are.equal(0, r.gold_gain)
    assert.is_true(r.exact)
    r = add:bon(1)
    assert.are.equal(0, r.proxy_gain)
    assert.are.equal(0, r.gold_gain)
    assert.is_true(r.exact)
  end)

  it("works on finite laws (ties of the proxy broken uniformly)", function()
    -- gold and error both Bernoulli(1/2): proxy in {0, 1, 2}; best of 2 by
    -- enumeration over the 16 equally likely pairs of pairs
    local b = ab.joint.additive { gold = ab.tail.bernoulli { p = 0.5 }, error = ab.tail.bernoulli { p = 0.5 } }
    local sum, cnt = 0, 0
    for g1 = 0, 1 do for e1 = 0, 1 do for g2 = 0, 1 do for e2 = 0, 1 do
      local p1, p2 = g1 + e1, g2 + e2
      if p1 > p2 then sum = sum + g1 elseif p2 > p1 then sum = sum + g2 else sum = sum + (g1 + g2) / 2 end
      cnt = cnt + 1
    end end end end
    local r = b:bon(2, { draws = 200000, seed = 2 })
    assert(math.abs(r.gold_gain - (sum / cnt - 0.5)) < 4.5 * r.gold_se, "bernoulli best of 2")
  end)

  it("rejects laws it cannot sample and a tilt that does not exist", function()
    H.raises(function() ab.joint.additive { gold = ab.tail.subgaussian { sigma = 1 }, error = err } end,
      "'joint.additive'", "gold must be an exact or finite law")
    H.raises(function() ab.joint.additive { gold = gold } end, "'joint.additive'", "error is required")
    H.raises(function() ab.joint.additive { gold = gold, error = 1 } end, "error must be an alignbound.tail")
    H.raises(function() add:bon(2.5) end, "'joint:bon'", "n must be an integer")
    H.raises(function() add:bon(1e8) end, "'joint:bon'", "n must be an integer up to 1e7")
    local ex = ab.joint.additive { gold = gold, error = ab.tail.exponential { rate = 2 } }
    H.raises(function() ex:tilt(3) end, "'joint:tilt'", "infinite")
    assert.is_true(ex:tilt(1, { draws = 100 }).proxy_gain == ex:tilt(1, { draws = 100 }).proxy_gain)
  end)
end)

describe("joint.samples", function()
  it("gives the exact best-of-n and tilt of the empirical law", function()
    local j = ab.joint.samples { proxy = PROXY, gold = GOLD }
    local mg = 0
    for i = 1, #GOLD do mg = mg + GOLD[i] / #GOLD end
    local u = {}
    for i = 1, #PROXY do u[i] = 1 / #PROXY end
    for _, n in ipairs { 1, 3, 7.5 } do
      local pol = ab.bon.policy(u, PROXY, n)
      local r = j:bon(n)
      H.close(r.gold_gain + 1, expect(pol.policy:totable(), GOLD) - mg + 1, 1e-14, "bon gold")
      H.close(r.kl + 1, pol.kl + 1, 1e-15, "bon kl")
      assert.is_true(r.exact)
    end
    local t = ab.tilt.policy(u, PROXY, { beta = 0.5 })
    local r = j:tilt(2)
    H.close(r.gold_gain, expect(t.policy:totable(), GOLD) - mg, 1e-13, "tilt gold")
    H.close(r.proxy_gain, t.gain, 1e-13, "tilt proxy")
    H.close(r.kl, t.kl, 1e-13, "tilt kl")
    local k = j:tilt_kl(t.kl)
    H.close(k.lambda, 2, 1e-9, "tilt_kl finds lambda")
    H.close(k.gold_gain, r.gold_gain, 1e-9, "tilt_kl gold")
    assert.are.equal(math.huge, j:tilt_kl(10).lambda)
    r = j:tilt(math.huge) -- the top proxy is outcome 8
    H.close(r.gold_gain, GOLD[8] - mg, 1e-14, "top")
    H.close(r.kl, math.log(8), 1e-15, "top kl")
    assert.are.equal("joint.samples(8 pairs)", tostring(j))
    local law = ab.joint.samples { proxy = ab.vector(PROXY), gold = GOLD }:proxy_law()
    assert.are.equal(#PROXY, #law:sample(8, ab.rng(1)))
  end)

  it("splits ties on the proxy evenly", function()
    local j = ab.joint.samples { proxy = { 1, 2, 3, 3 }, gold = { 0, 1, 2, 4 } }
    -- best of 2: P(top proxy) = 3/4 shared by golds 2 and 4, P(2) = 3/16, P(1) = 1/16
    H.close(j:bon(2).gold_gain, 0.75 * 3 + 3 / 16 - 1.75, 1e-15, "ties")
  end)

  it("matches the exact Gaussian model on many samples", function()
    local rng = ab.rng(42)
    local N = 100000
    local g = ab.tail.gaussian { sd = 1 }:sample(N, rng)
    local e = ab.tail.gaussian { sd = 1 }:sample(N, rng)
    local p = ab.vector(N)
    for i = 1, N do p[i] = g[i] + e[i] end
    local j = ab.joint.samples { proxy = p, gold = g }
    local x = ab.joint.gaussian { rho = 1 / math.sqrt(2), sd_proxy = math.sqrt(2), sd_gold = 1 }
    for _, n in ipairs { 4, 32 } do
      local a, b = j:bon(n), x:bon(n)
      assert(math.abs(a.gold_gain - b.gold_gain) < 0.03, "bon n=" .. n .. ": " .. a.gold_gain .. " vs " .. b.gold_gain)
      assert(math.abs(a.kl - b.kl) < 1e-3, "kl n=" .. n)
    end
    local a, b = j:tilt(0.5), x:tilt(0.5)
    assert(math.abs(a.gold_gain - b.gold_gain) < 0.03, "tilt gold")
    assert(math.abs(a.kl - b.kl) < 0.03, "tilt kl")
  end)

  it("rejects mismatched or bad columns", function()
    H.raises(function() ab.joint.samples { proxy = { 1, 2 }, gold = { 1 } } end,
      "'joint.samples'", "proxy and gold differ in length (2 and 1)")
    H.raises(function() ab.joint.samples { proxy = {}, gold = {} } end, "proxy is empty")
    H.raises(function() ab.joint.samples { proxy = { 1, 0 / 0 }, gold = { 1, 2 } } end, "proxy[2] must be finite")
    H.raises(function() ab.joint.samples { proxy = { 1 } } end, "gold is required")
    H.raises(function() ab.joint.samples { proxy = { 1 }, gold = { "a" } } end, "gold[1] must be a number")
  end)
end)

-- Heavy-tailed laws for errors: sampling works, no exponential moment.
describe("tail.student_t and tail.pareto", function()
  local function ecdf(x, v)
    local c = 0
    for i = 1, #x do if x[i] <= v then c = c + 1 end end
    return c / #x
  end

  it("have a gain bound of +inf for every KL > 0 and 0 at KL = 0", function()
    for _, t in ipairs { ab.tail.student_t { df = 3, scale = 2 }, ab.tail.pareto { xm = 1, alpha = 2.5 },
      ab.tail.student_t { df = 0.5, scale = 1 } } do
      assert.are.equal(0, t:gain(0))
      assert.are.equal(math.huge, t:gain(1e-12))
      assert.are.same({ 0, math.huge, math.huge }, t:gain { 0, 0.1, 10 })
      assert.are.equal(math.huge, t:gain(0.1, { numeric = true }))
      assert.are.equal(0, t:kl_needed(5))
      assert.are.equal(math.huge, t:variance_proxy())
      assert.are.equal(0, t:cumulant(0))
      assert.are.equal(math.huge, t:cumulant(1e-9))
      assert.are.equal(math.huge, t:tilt(0.5))
    end
    assert.are.equal(math.huge, ab.tail.student_t { df = 3, scale = 1 }:loss(0.1))
  end)

  it("have their means and a tostring", function()
    assert.are.equal(0, ab.tail.student_t { df = 3, scale = 2 }:mean())
    assert.is_nil(ab.tail.student_t { df = 1, scale = 2 }:mean())
    H.close(ab.tail.pareto { xm = 2, alpha = 3 }:mean(), 3, 1e-15, "pareto mean")
    assert.are.equal(math.huge, ab.tail.pareto { xm = 2, alpha = 1 }:mean())
    assert.are.equal("student_t(df=3, scale=2)", tostring(ab.tail.student_t { df = 3, scale = 2 }))
    assert.are.equal("pareto(xm=1, alpha=2.5)", tostring(ab.tail.pareto { xm = 1, alpha = 2.5 }))
  end)

  it("sample their laws (empirical CDF within 4 standard errors)", function()
    local N = 20000
    local x = ab.tail.student_t { df = 3, scale = 2 }:sample(N, ab.rng(3)):totable()
    -- P(T_3 <= t) from scipy.stats.t.cdf(t, 3) at t = 0.5, 1, 2.5
    for _, c in ipairs { { 0.5, 0.6742760175759246 }, { 1, 0.8044988905221148 }, { 2.5, 0.9561466764959673 } } do
      local F = c[2]
      assert(math.abs(ecdf(x, 2 * c[1]) - F) < 4 * math.sqrt(F * (1 - F) / N), "student_t at " .. c[1])
    end
    local y = ab.tail.pareto { xm = 2, alpha = 1.5 }:sample(N, ab.rng(4)):totable()
    for _, v in ipairs { 2.5, 4, 10 } do
      local F = 1 - (2 / v) ^ 1.5
      assert(math.abs(ecdf(y, v) - F) < 4 * math.sqrt(F * (1 - F) / N), "pareto at " .. v)
    end
    for i = 1, #y do assert(y[i] >= 2) end
  end)

  it("reject bad parameters", function()
    H.raises(function() ab.tail.student_t { df = 0, scale = 1 } end, "'tail.student_t'", "df must be positive")
    H.raises(function() ab.tail.student_t { df = 3, scale = -1 } end, "'tail.student_t'", "scale must be positive")
    H.raises(function() ab.tail.student_t { df = 3 } end, "scale is required")
    H.raises(function() ab.tail.student_t { df = 3, scale = 1, loc = 0 } end, "unknown option 'loc'")
    H.raises(function() ab.tail.pareto { xm = 0, alpha = 1 } end, "'tail.pareto'", "xm must be positive")
    H.raises(function() ab.tail.pareto { xm = 1, alpha = math.huge } end, "'tail.pareto'",
      "alpha must be positive and finite")
  end)

  it("make a proxy gain grow while the golden gain does not (heavy-tailed error)", function()
    local j = ab.joint.additive { gold = ab.tail.gaussian { sd = 1 },
      error = ab.tail.student_t { df = 2.5, scale = 1 } }
    local r4, r256 = j:bon(4, { draws = 4000, seed = 1 }), j:bon(256, { draws = 4000, seed = 1 })
    assert(r256.proxy_gain > 2 * r4.proxy_gain, "proxy grows")
    assert(r256.gold_gain < r4.gold_gain + 4 * (r4.gold_se + r256.gold_se), "gold stalls")
    H.raises(function() j:tilt(0.1) end, "'joint:tilt'", "infinite")
    H.raises(function()
      ab.joint.additive { gold = ab.tail.gaussian { sd = 1 }, error = ab.tail.student_t { df = 1, scale = 1 } }
    end,
      "error must be an exact or finite law with a finite mean")
  end)
end)
