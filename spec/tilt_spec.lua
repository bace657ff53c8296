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
