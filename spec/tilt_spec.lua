-- The exact KL-regularised optimum: exponential tilting (DESIGN 3.1).
local ab = require "alignbound"
local H = require "helper"

-- the tilt of a discrete law, by hand: pi_i = p_i e^{l r_i} / Z
local function by_hand(p, r, l)
  local z, pi = 0, {}
  for i = 1, #p do z = z + p[i] * math.exp(l * r[i]) end
  local kl, mean, mref = 0, 0, 0
  for i = 1, #p do
    pi[i] = p[i] * math.exp(l * r[i]) / z
    if pi[i] > 0 then kl = kl + pi[i] * math.log(pi[i] / p[i]) end
    mean, mref = mean + pi[i] * r[i], mref + p[i] * r[i]
  end
  return pi, kl, mean - mref, math.log(z)
end

describe("tilt.policy", function()
  it("matches the tilt worked by hand for two and three outcomes", function()
    local cases = { { { 0.7, 0.3 }, { 0, 1 } }, { { 0.5, 0.3, 0.2 }, { -1, 0.5, 2 } },
      { { 0.2, 0.2, 0.6 }, { 3, 1, 2 } } }
    for _, c in ipairs(cases) do
      for _, beta in ipairs { 0.1, 0.5, 2, 40 } do
        local r = ab.tilt.policy(c[1], c[2], { beta = beta })
        local pi, kl, gain, logz = by_hand(c[1], c[2], 1 / beta)
        for i = 1, #pi do H.close(r.policy[i], pi[i], 1e-13, "pi[" .. i .. "] beta=" .. beta) end
        H.close(r.kl, kl, 1e-12, "kl")
        H.close(r.gain, gain, 1e-12, "gain")
        H.close(r.log_z, logz, 1e-13, "log_z")
        assert.are.equal(beta, r.beta)
      end
    end
    -- two outcomes {0, 1}: pi(1) = p e^l / (1 - p + p e^l), kl = kl_bin(q || p)
    local p, l = 0.3, 1.7
    local q = p * math.exp(l) / (1 - p + p * math.exp(l))
    local r = ab.tilt.policy({ 1 - p, p }, { 0, 1 }, { beta = 1 / l })
    H.close(r.policy[2], q, 1e-14, "q")
    H.close(r.kl, H.kl_bin(q, p), 1e-13, "kl_bin")
  end)

  it("solves a KL budget: its KL is the budget, its gain the frontier of the law", function()
    local probs, rewards = { 0.1, 0.25, 0.3, 0.2, 0.15 }, { 4, -1, 0.5, 2, 3 }
    local d = ab.tail.discrete { values = rewards, probs = probs }
    for _, k in ipairs { 1e-12, 1e-4, 0.05, 0.5, 1.5, 2.2 } do
      local r = ab.tilt.policy(probs, rewards, { kl = k })
      H.close(r.kl, k, 1e-10, "kl at budget " .. k)
      H.close(r.gain, d:gain(k), 1e-10, "the frontier from the cumulant engine")
      H.close(1 / r.beta, d:tilt(k), 1e-12, "beta = 1 / tail:tilt(kl)")
      H.close(ab.divergence(r.policy, probs, "kl"), k, 1e-9, "KL of the returned law")
    end
  end)

  it("saturates on the top reward once the budget reaches -log P(top)", function()
    local probs, rewards = { 0.5, 0.3, 0.2 }, { 0, 1, 2 }
    local r = ab.tilt.policy(probs, rewards, { kl = 5 })
    assert.are.same({ 0, 0, 1 }, r.policy:totable())
    assert.are.equal(0, r.beta)
    H.close(r.kl, -math.log(0.2), 1e-15, "kl")
    H.close(r.gain, 2 - 0.7, 1e-15, "gain")
    assert.are.equal(math.huge, r.log_z)
    -- tied top rewards share the mass in proportion to the reference
    local t = ab.tilt.policy({ 0.5, 0.2, 0.3 }, { 2, 0, 2 }, { kl = 10 })
    H.close(t.policy[1], 0.5 / 0.8, 1e-15, "tie")
    H.close(t.policy[3], 0.3 / 0.8, 1e-15, "tie")
  end)

  it("is stable for huge and tiny beta", function()
    local probs, rewards = { 0.5, 0.3, 0.2 }, { 0, 1e6, 2e6 }
    local hot = ab.tilt.policy(probs, rewards, { beta = 1e-300 })
    assert.are.same({ 0, 0, 1 }, hot.policy:totable())
    H.close(hot.kl, -math.log(0.2), 1e-12, "hot kl")
    local cold = ab.tilt.policy(probs, rewards, { beta = 1e300 })
    for i = 1, 3 do H.close(cold.policy[i], probs[i], 1e-15, "cold") end
    assert.is_true(cold.kl >= 0 and cold.kl < 1e-280)
    local same = ab.tilt.policy(probs, rewards, { beta = math.huge })
    assert.are.same(probs, same.policy:totable())
    assert.are.equal(0, same.kl)
  end)

  it("handles 10^6 outcomes in any order", function()
    local m = 1000000
    local probs, rewards = ab.vector(m, 1 / m), ab.vector(m)
    for i = 1, m do rewards[i] = ((i * 7919) % m) / m end
    local r = ab.tilt.policy(probs, rewards, { kl = 0.5 })
    H.close(r.kl, 0.5, 1e-10, "kl")
    local s = 0
    for i = 1, m do s = s + r.policy[i] end
    H.close(s, 1, 1e-12, "a law")
    -- nearly uniform rewards on [0, 1): close to the uniform law's frontier
    assert.is_true(math.abs(r.gain - ab.tail.uniform { lo = 0, hi = 1 }:gain(0.5)) < 1e-5)
  end)

  it("rejects bad input", function()
    H.raises(function() return ab.tilt.policy({ 1 }, { 1 }, { beta = 0 }) end,
      "bad argument #3 to 'tilt.policy'", "beta must be positive")
    H.raises(function() return ab.tilt.policy({ 1 }, { 1 }, { kl = -1 }) end, "kl must be a number >= 0")
    H.raises(function() return ab.tilt.policy({ 1 }, { 1 }, { kl = 1, beta = 1 }) end, "exactly one")
    H.raises(function() return ab.tilt.policy({ 1 }, { 1 }, {}) end, "exactly one")
    H.raises(function() return ab.tilt.policy({ 0.5 }, { 1 }, { kl = 1 }) end, "probs must sum to 1")
    H.raises(function() return ab.tilt.policy({ 1 }, { 1, 2 }, { kl = 1 }) end, "differ in length")
    H.raises(function() return ab.tilt.policy({ 1 }, { 1 }, { kl = 1, temp = 2 }) end, "unknown option 'temp'")
  end)
end)

-- The tilt p e^{r/beta} / Z of finite laws in 1200-digit mpmath arithmetic
-- (probabilities renormalised, lambda = 1/beta of the double beta): inputs,
-- the policy, KL, gain and log Z.  The first six are the reported cases
-- (an entry near 1e-167, a tilt that barely moves the law, tiny and huge
-- rewards); the rest are random laws (seed 9) with masses down to 1e-250.
-- Entries below the smallest normal double are listed as 0.
local MP_TILTS = {
    { { 1e-300, 1, 1e-10 }, { 1, 0, -0.5 }, 0.0014285714285714286,
      { 9.9990141295492616e-1, 9.8587045073839315e-5, 9.7892897596133724e-167 },
      6.9070641837485692e+2, 9.9990141300492616e-1, 9.2245706935913914 },
    { { 0.999999999999, 1e-12 }, { 0, 1 }, 1.0,
      { 9.9999999999728172e-1, 2.7182818284543743e-12 },
      9.9999999999680543e-13, 1.7182818284543744e-12, 1.7182818284575689e-12 },
    { { 0.5, 0.5 }, { 0, 1 }, 1e+45,
      { 5.0e-1, 5.0e-1 },
      1.2500000000000002e-91, 2.5000000000000002e-46, 5.0000000000000004e-46 },
    { { 3.666614898998637e-73, 1.0 }, { -0.0009322772175962428, -0.0011328175422160402 }, 2.918131847312564e+42,
      { 3.6666148989986368e-73, 1.0 },
      8.6582258401688939e-166, 5.0531689130842857e-123, -3.8819957475852294e-46 },
    { { 0.5, 0.5 }, { -1e+308, 1e+308 }, 1e+308,
      { 1.1920292202211756e-1, 8.8079707797788244e-1 },
      3.278133254727377e-1, 7.615941559557649e+307, 4.3378083048302719e-1 },
    { { 7.756664554538258e-243, 1.0 }, { 2.8881772362901716, -0.14701506379044277 }, 0.7568371010053401,
      { 4.2791152818620943e-241, 1.0 },
      1.2959261447402316e-240, 1.2752508069362689e-240, -1.9424928243496015e-1 },
    { { 0.3157202718953216, 0.10330034460430731, 0.0684606276877734, 0.3752533102976838, 0.13726544551491385 },
      { -5.071367, -38.532495, -0.008615, 0.009613, 0.038075 }, 7.48728e+19,
      { 3.1572027189532161e-1, 1.0330034460430732e-1, 6.8460627687773409e-2, 3.752533102976838e-1,
        1.3726544551491386e-1 },
      1.1633552825269731e-38, 1.742073347951711e-18, -7.4437038236614209e-20 },
    { { 6.176102764705094e-198, 1.0 }, { -27.260009, 0.198477 }, 0.0801361,
      { 0, 1.0 },
      6.1761027647050943e-198, 1.6958643129921613e-196, 2.4767489308813379 },
    { { 0.9740501785560528, 0.025949821443947304 }, { -0.006594, -0.054383 }, 7.89739e+16,
      { 9.740501785560527e-1, 2.5949821443947301e-2 },
      4.6277983115248687e-39, 7.3095056214906766e-22, -9.9198798805488872e-20 },
    { { 0.8677818135528634, 0.1322181864471366 }, { 36.829693, 1.507965 }, 1.3237e+16,
      { 8.6778181355286372e-1, 1.3221818644713628e-1 },
      4.0848535465512378e-31, 1.0814241279139751e-14, 2.429517124851625e-15 },
    { { 6.261603054817887e-153, 0.2242407952571638, 3.5878465344984414e-140, 0.41896361735654347,
      3.375218048718991e-69, 0.3567955873862928 }, { 162.845041, 71.955605, 0.095612, -0.066095, -0.947943,
      -0.032369 }, 608051000.0,
      { 6.2616045660126107e-153, 2.2424081585736166e-1, 3.5878464400862183e-140, 4.1896360622032407e-1,
        3.3752179541093221e-69, 3.5679557792231427e-1 },
      1.2197513896382279e-15, 1.4833420882952818e-6, 2.6471697790849947e-8 },
    { { 0.09559560058630114, 5.860956934092138e-30, 1.8141008421501651e-69, 0.616743522300248, 0.2876608771134509,
      4.2097900638013275e-131 }, { -0.015413, -0.488331, 0.210674, 0.004132, -4.966606, 1.526952 }, 3.67146e+28,
      { 9.5595600586301134e-2, 5.8609569340921382e-30, 1.8141008421501651e-69, 6.1674352230024797e-1,
        2.8766087711345089e-1, 4.2097900638013274e-131 },
      1.8760569046721591e-57, 1.3775735766455291e-28, -3.8884347616333006e-29 },
    { { 0.18426933386591526, 1.0322176318231397e-237, 0.07498644317489288, 0.7407442229591918, 7.090046052414285e-17,
      1.2491087020485398e-99 }, { 2.674882, 0.033419, -0.346525, 0.463475, 1.965777, 6.563328 }, 2.16538e+22,
      { 1.8426933386591525e-1, 1.0322176318231396e-237, 7.4986443174892874e-2, 7.407442229591918e-1,
        7.0900460524142842e-17, 1.2491087020485398e-99 },
      8.8517630818178731e-46, 3.8334861484213572e-23, 3.7417472952773139e-23 },
    { { 0.19678742151189949, 0.36006998898487336, 0.24139046732941835, 5.830102287199779e-34, 0.20175212217380878 },
      { 8.393633, 25.274332, 0.097458, -2.00698, 0.004748 }, 2138630000000000.0,
      { 1.9678742151189927e-1, 3.6006998898487581e-1, 2.4139046732941715e-1, 5.8301022871997441e-34,
        2.0175212217380777e-1 },
      1.3964235094515186e-29, 5.9728664200366005e-14, 5.0391012897361038e-15 },
    { { 0.33427330587925047, 0.0875561431782796, 0.32378903687362875, 0.0033343239766729957, 1.1289193606777704e-161,
      0.2510471900921683 }, { -3.813125, 0.039509, -0.313317, -3.680944, 0.399338, 14.527303 }, 102547.0,
      { 3.342535020027769e-1, 8.7554245255414629e-2, 3.2378090420441281e-1, 3.3341307337246901e-3,
        1.1288988507072744e-161, 2.5107721780367097e-1 },
      2.5106867781293995e-9, 5.1492075483179721e-4, 2.2062150446168195e-5 },
    { { 0.31629561281597307, 3.592279158500185e-48, 0.011823419011977001, 1.769326189101793e-17, 0.3063780197003022,
      0.3655029484717476 }, { -2.831227, -0.011004, 1.759364, -0.294871, 62.108016, -0.011532 }, 683617000.0,
      { 3.1629560310856715e-1, 3.5922790630695459e-48, 1.1823418728501333e-2, 1.7693261413640845e-17,
        3.0637803940122938e-1, 3.6550293876170212e-1 },
      9.1475388584651087e-16, 1.2506826069213951e-6, 2.6549388932274459e-8 },
}

describe("tilt.policy to full precision (issue 9)", function()
  it("matches 1200-digit references: every normal entry, the KL, the gain and log Z", function()
    for k, c in ipairs(MP_TILTS) do
      local r = ab.tilt.policy(c[1], c[2], { beta = c[3] })
      for i, v in ipairs(c[4]) do
        local got = r.policy[i]
        assert.is_true(got == got and got >= 0, "case " .. k .. " entry " .. i .. " is " .. tostring(got))
        if v == 0 then assert.is_true(got < 2.3e-308, "case " .. k .. " tiny entry " .. i)
        else H.close(got, v, 1e-13, "case " .. k .. " entry " .. i) end
      end
      H.close(r.kl, c[5], 1e-13, "case " .. k .. " kl")
      H.close(r.gain, c[6], 1e-13, "case " .. k .. " gain")
      H.close(r.log_z, c[7], 1e-13, "case " .. k .. " log_z")
    end
  end)

  it("gives tilt.kl of a finite law to full precision, however small", function()
    local d = ab.tail.discrete { values = { 0, 1 }, probs = { 1 - 1e-12, 1e-12 } }
    H.close(ab.tilt.kl(d, 1), 9.9999999999680543e-13, 1e-13, "tilt.kl")
    for k, c in ipairs(MP_TILTS) do
      if c[5] > 0 then
        local t = ab.tail.discrete { values = c[2], probs = c[1] }
        -- the tail centres its values, which rounds them: relative 1e-12
        H.close(ab.tilt.kl(t, c[3]), c[5], 1e-12, "case " .. k)
      end
    end
  end)

  it("meets a KL budget to full precision on a skewed law, where the cumulant engine loses digits", function()
    -- probs {1 - 1e-12, 1e-12}: at beta = 1 the KL is 9.9999999999680543e-13 (mpmath), so a
    -- budget of 1e-12 needs beta just below 1; the engine's KL there was 1e-4 off
    for _, k in ipairs { 1e-12, 1e-6, 0.01 } do
      local r = ab.tilt.policy({ 1 - 1e-12, 1e-12 }, { 0, 1 }, { kl = k })
      H.close(r.kl, k, 1e-10, "kl budget " .. k)
      -- the returned beta reproduces the returned law
      local again = ab.tilt.policy({ 1 - 1e-12, 1e-12 }, { 0, 1 }, { beta = r.beta })
      H.close(again.kl, r.kl, 1e-12, "kl of the returned beta")
      H.close(again.policy[2], r.policy[2], 1e-12, "policy of the returned beta")
    end
  end)

  it("takes beta = inf as the reference itself, and huge rewards without NaN", function()
    local r = ab.tilt.policy({ 0.5, 0.5 }, { -1e308, 1e308 }, { beta = math.huge })
    assert.are.same({ 0.5, 0.5 }, r.policy:totable())
    assert.are.equal(0, r.kl)
    assert.are.equal(0, r.gain)
    assert.are.equal(0, r.log_z)
    for _, beta in ipairs { 1e300, 1, 1e-300 } do
      local s = ab.tilt.policy({ 0.5, 0.5 }, { -1e308, 1e308 }, { beta = beta })
      assert.are.same({ 0, 1 }, s.policy:totable())
      H.close(s.kl, math.log(2), 1e-15, "beta=" .. beta)
      H.close(s.gain, 1e308, 1e-15, "beta=" .. beta)
    end
  end)

  it("keeps every entry, the KL and the gain in range on random laws", function()
    math.randomseed(17)
    for run = 1, 300 do
      local m = math.random(1, 8)
      local p, r, s = {}, {}, 0
      for i = 1, m do
        p[i] = -math.log(1 - math.random())
        if math.random() < 0.3 then p[i] = p[i] * 10 ^ (-300 * math.random()) end
        r[i] = (math.random() * 2 - 1) * 10 ^ (math.random(-300, 300))
        s = s + p[i]
      end
      for i = 1, m do p[i] = p[i] / s end
      local beta = 10 ^ (math.random() * 600 - 300)
      local t = ab.tilt.policy(p, r, { beta = beta })
      local total = 0
      for i = 1, m do
        local v = t.policy[i]
        assert.is_true(v == v and v >= 0, "run " .. run .. " entry " .. i)
        total = total + v
      end
      H.close(total, 1, 1e-13, "run " .. run .. " total")
      assert.is_true(t.kl >= 0 and t.kl == t.kl and t.gain == t.gain and t.log_z == t.log_z, "run " .. run)
      -- a tilt towards higher rewards never loses reward
      assert.is_true(t.gain >= -1e-15 * math.abs(t.gain), "run " .. run .. " gain " .. t.gain)
    end
  end)
end)

describe("KL penalty and budget", function()
  it("convert into each other for every law", function()
    local laws = { ab.tail.gaussian { sd = 2 }, ab.tail.gumbel { scale = 1 }, ab.tail.beta { a = 2, b = 3 },
      ab.tail.uniform { lo = 0, hi = 1 }, ab.tail.exponential { rate = 1 },
      ab.tail.empirical { 0, 1, 1, 4, 7 } }
    for _, t in ipairs(laws) do
      for _, k in ipairs { 1e-6, 0.1, 1 } do
        H.close(ab.tilt.kl(t, ab.tilt.beta(t, k)), k, 1e-10, tostring(t) .. " kl=" .. k)
      end
    end
    -- Gaussian: lambda = sqrt(2 kl) / sd
    H.close(ab.tilt.beta(ab.tail.gaussian { sd = 2 }, 0.5), 2, 1e-15, "gaussian beta")
    -- numbers, tables and vectors alike
    local g = ab.tail.gaussian { sd = 2 }
    local b = ab.tilt.beta(g, ab.vector { 0.5, 2 })
    H.close(b[2], 1, 1e-15, "vector")
    H.close(ab.tilt.kl(g, { 2, 1 })[2], 2, 1e-15, "table")
    H.raises(function() return ab.tilt.beta(g, { 0.5, -1 }) end, "bad argument #2 to 'tilt.beta'", "element 2")
    H.raises(function() return ab.tilt.kl(ab.tail.gaussian { sd = 1 }, 0) end, "beta must be positive")
    H.raises(function() return ab.tilt.kl(ab.tail.cumulant(function(l) return l * l end), 1) end,
      "needs a tail with a known cumulant")
  end)
end)

describe("best-of-n against the tilt", function()
  it("satisfies KL(bon || tilt) = (tilt gain - bon gain) / beta, by summation on finite laws", function()
    local laws = { ab.tail.discrete { values = { 0, 1, 2, 5 }, probs = { 0.4, 0.3, 0.2, 0.1 } },
      ab.tail.bernoulli { p = 0.3 }, ab.tail.empirical { 1, 1, 2, 3, 5, 8, 13 } }
    for _, t in ipairs(laws) do
      for _, n in ipairs { 2, 4, 16, 64 } do
        local c = ab.tilt.compare_bon(t, n)
        -- (on two atoms the tilt at best-of-n's KL is best-of-n: both sides
        -- vanish, so the tolerance is on the scale of the terms)
        local gap = (c.tilt_gain - c.bon_gain) / c.beta
        assert.is_true(math.abs(c.kl_bon_tilt - gap) <= 1e-9 * c.tilt_gain / c.beta,
          string.format("%s n=%d: %g vs %g", tostring(t), n, c.kl_bon_tilt, gap))
        assert.is_true(c.bon_gain <= c.tilt_gain * (1 + 1e-12), "the tilt is the limit")
        H.close(c.bon_gain, ab.bon.expected_gain(t, n), 1e-12, "bon gain")
      end
    end
  end)

  it("satisfies the identity for continuous laws, where best-of-n spends log n - (n-1)/n", function()
    for _, t in ipairs { ab.tail.gaussian { sd = 1 }, ab.tail.uniform { lo = 0, hi = 1 },
      ab.tail.gumbel { scale = 2 }, ab.tail.exponential { rate = 1 } } do
      for _, n in ipairs { 2, 8, 128, 1e6 } do
        local c = ab.tilt.compare_bon(t, n)
        H.close(c.kl, ab.bon.kl(n), 1e-15, "kl")
        H.close(c.kl_bon_tilt, (c.tilt_gain - c.bon_gain) / c.beta, 1e-8, tostring(t) .. " n=" .. n)
        assert.is_true(c.kl_bon_tilt >= 0)
        H.close(c.tilt_gain, t:gain(ab.bon.kl(n)), 1e-10, "the frontier")
      end
    end
    local one = ab.tilt.compare_bon(ab.tail.gaussian { sd = 1 }, 1)
    assert.are.equal(0, one.kl)
    assert.are.equal(0, one.kl_bon_tilt)
    H.raises(function() return ab.tilt.compare_bon(ab.tail.subgaussian { sigma = 1 }, 4) end,
      "needs an exact or finite law")
  end)
end)

-- Fuzz finding (fuzz_bon): with the top atoms tiny (S < 2^-900) the weights
-- are rescaled by 2^j, and e^{x + j ln 2} took its low part c = j ln2_lo
-- (~2e-7) as 1 + c: an error of c^2 / 2 ~ 1e-14, which put a policy entry at
-- 1.0000000000000024.
describe("tilt.policy with tiny top atoms and huge reward gaps", function()
  it("is a probability vector on the fuzzer's input", function()
    local r = ab.tilt.policy({ 1, 5.5626846462680041e-303 }, { -1e300, -5.1875000000000005e-17 },
      { kl = 7.6250000000000006e-15 })
    for i = 1, 2 do
      assert.is_true(r.policy[i] >= 0 and r.policy[i] <= 1, "entry " .. i .. ": " .. r.policy[i])
    end
    H.close(r.policy[1] + r.policy[2], 1, 2.3e-16, "sum")
    H.close(r.kl, 7.6250000000000006e-15, 1e-10, "kl")
  end)
  it("keeps every digit of the rescaled entries", function()
    -- pi = {e^-g, 2^-1000} / (e^-g + 2^-1000) at beta = 1; references by
    -- mpmath at 40 digits: 2^-1000 / (exp(-g) + 2^-1000)
    local cases = {
      { 600, 3.5212225787319794504e-41 },
      { 650, 1.8256502171337321899e-19 },
      { 640.5, 1.3665325948733776961e-23 },
    }
    for _, c in ipairs(cases) do
      local r = ab.tilt.policy({ 1, 2 ^ -1000 }, { -c[1], 0 }, { beta = 1 })
      H.close(r.policy[2], c[2], 2e-15, "entry 2 at gap " .. c[1])
      H.close(r.policy[1], 1 - c[2], 2.3e-16, "entry 1 at gap " .. c[1])
    end
  end)
  it("is a probability vector for huge gaps, tiny masses, tiny and huge budgets", function()
    local laws = {
      { { 1, 5.5626846462680041e-303 }, { -1e300, -5.1875e-17 } },
      { { 1, 2 ^ -1000 }, { -1e300, 1e300 } },
      { { 1 - 1e-12, 1e-12 - 5e-324, 5e-324 }, { 0, 1, 1e300 } },
      { { 0.5, 0.5 - 1e-300, 1e-300 }, { -1e308, 0, 1e-300 } },
      { { 1e-300, 1 - 2e-300, 1e-300 }, { -1e300, 0, 1e300 } },
      { { 1, 1e-310 }, { 0, 1 } },
    }
    for _, law in ipairs(laws) do
      for _, opt in ipairs { { kl = 1e-300 }, { kl = 1e-15 }, { kl = 0.3 }, { kl = 30 }, { kl = 1e300 },
        { beta = 1e-300 }, { beta = 1e-3 }, { beta = 1 }, { beta = 1e300 } } do
        local r = ab.tilt.policy(law[1], law[2], opt)
        local what = string.format("probs[2] %g, rewards[1] %g, %s %g", law[1][2], law[2][1],
          next(opt), opt.kl or opt.beta)
        local s = 0
        for i = 1, #law[1] do
          local x = r.policy[i]
          assert.is_true(x >= 0 and x <= 1, what .. ": entry " .. i .. " = " .. x)
          s = s + x
        end
        assert.is_true(math.abs(s - 1) <= 1e-15, what .. ": sum " .. s)
        assert.is_true(r.kl >= 0 and r.gain >= 0, what .. ": kl " .. r.kl .. ", gain " .. r.gain)
      end
    end
  end)
end)

-- Fuzz finding (fuzz_bon): at beta = 5e-324 (lambda = 1/beta = inf) the gain
-- is top - mean, and the rounded mean of {1e-6 (mass 1 - 5e-324), 0} came
-- out above the top: gain -2.1e-22.
describe("tilt.policy at an infinite lambda", function()
  it("has a gain >= 0 even where the mean rounds above the top", function()
    local p = { 9.9999900000100006e-07, 0.99999900000100006, 4.9406564584124654e-324 }
    local r = ab.tilt.policy(p, { 1e-6, 1e-6, 0 }, { beta = 4.9406564584124654e-324 })
    assert.is_true(r.gain >= 0, "gain " .. r.gain)
    -- exact: top - mean = 1e-6 * 5e-324 / total, below the smallest double
    assert.is_true(r.gain <= 1e-300, "gain " .. r.gain)
    assert.are.equal(0, r.policy[3])
  end)
end)

describe("tilt.divergence", function()
  -- e^x - 1 without cancellation, for the references (series below 1e-5)
  local function em1(x) return math.abs(x) < 1e-5 and x + x * x / 2 + x * x * x / 6 or math.exp(x) - 1 end

  it("matches the Gaussian closed forms (the tilt of N(0, s2) by l is N(l s2, s2))", function()
    for _, sd in ipairs { 0.3, 1, 4 } do
      local g = ab.tail.gaussian { mean = 2, sd = sd }
      for _, l in ipairs { 1e-6, 0.1, 0.7 } do
        local x = (l * sd) ^ 2
        H.close(ab.tilt.divergence(g, l, "kl"), x / 2, 1e-12, "kl")
        H.close(ab.tilt.divergence(g, l, "reverse_kl"), x / 2, 1e-12, "reverse kl")
        H.close(ab.tilt.divergence(g, l, "chi2"), em1(x), 1e-12, "chi2")
        H.close(ab.tilt.divergence(g, l, "hellinger"), -em1(-x / 8), 1e-12, "hellinger")
        H.close(ab.tilt.divergence(g, l, "renyi", { alpha = 3 }), 3 * x / 2, 1e-12, "renyi 3")
        H.close(ab.tilt.divergence(g, l, "alpha", { alpha = 0.5 }),
          em1(0.5 * -0.5 * x / 2) / (0.5 * -0.5), 1e-12, "alpha 1/2")
      end
    end
  end)

  it("equals the divergence of the exact tilt of a finite law", function()
    local probs, rewards = { 0.1, 0.25, 0.4, 0.25 }, { -1, 0, 0.5, 2 }
    local t = ab.tail.discrete { values = rewards, probs = probs }
    for _, l in ipairs { 0.05, 0.8, 3 } do
      local pol = ab.tilt.policy(probs, rewards, { beta = 1 / l }).policy
      for _, f in ipairs { { "chi2" }, { "hellinger" }, { "reverse_kl" }, { "renyi", 2.5 }, { "alpha", -0.5 } } do
        local opts = f[2] and { alpha = f[2] } or nil
        H.close(ab.tilt.divergence(t, l, f[1], opts), ab.divergence(pol, probs, f[1], opts), 1e-10,
          f[1] .. " at l = " .. l)
      end
    end
  end)

  it("is +inf where the moment leaves the domain, and refuses what has no closed form", function()
    -- exponential(1): E g^2 needs psi(2 l), finite only for 2 l < 1
    assert.are.equal(math.huge, ab.tilt.divergence(ab.tail.exponential { rate = 1 }, 0.6, "chi2"))
    assert.is_true(ab.tilt.divergence(ab.tail.exponential { rate = 1 }, 0.4, "chi2") < math.huge)
    local g = ab.tail.gaussian { sd = 1 }
    H.raises(function() return ab.tilt.divergence(g, 0.5, "tv") end, "bad argument #1 to 'tilt.divergence'",
      "power form")
    H.raises(function() return ab.tilt.divergence(ab.tail.subgaussian { sigma = 1 }, 0.5, "chi2") end,
      "bad argument #1 to 'tilt.divergence'")
    H.raises(function() return ab.tilt.divergence(g, 0.5, ab.fdiv(function(x) return (x - 1) ^ 2 end)) end,
      "bad argument #3 to 'tilt.divergence'", "named family")
    H.raises(function() return ab.tilt.divergence(g, 0 / 0, "chi2") end, "bad argument #2 to 'tilt.divergence'")
  end)
end)

describe("tilt.policy of a constant law at the largest rewards", function()
  it("is the reference, with gain and KL 0 (found by the fuzzer: the mean overflowed, gain NaN)", function()
    local M = 1.7976931348623157e308
    local p = { 0.14285714285714285, 0.11428571428571428, 0, 0.37142857142857144, 0.37142857142857144 }
    local r = ab.tilt.policy(p, { M, M, M, M, M }, { beta = M })
    assert.are.equal(0, r.gain)
    assert.are.equal(0, r.kl)
    for i = 1, 5 do H.close(r.policy[i], p[i], 1e-15, "entry " .. i) end
  end)
end)
