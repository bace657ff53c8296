-- Tail classes, exact laws and the transport bound (DESIGN 3.1).
local ab = require "alignbound"
local H = require "helper"

local KLS = { 1e-300, 1e-200, 1e-100, 1e-30, 1e-12, 1e-6, 1e-3, 0.05, 0.5, 1, 3, 10, 100, 1e3, 1e6 }

-- The exact laws and a quadrature description of each (unnormalised density
-- on a finite range wide enough for the tilts tested).
local LAWS = {
  { name = "gaussian", opts = { mean = 1.5, sd = 2 },
    density = function(x) return math.exp(-0.5 * ((x - 1.5) / 2) ^ 2) end, range = { -60, 60 },
    lambdas = { -0.8, -0.1, 0.3, 1.2 } },
  { name = "uniform", opts = { lo = -1, hi = 3 },
    density = function() return 1 end, range = { -1, 3 }, lambdas = { -2, -0.2, 0.4, 3 } },
  { name = "exponential", opts = { rate = 2 },
    density = function(x) return math.exp(-2 * x) end, range = { 0, 400 },
    lambdas = { -3, -0.5, 0.4, 1.5 } },
  { name = "gamma", opts = { shape = 3, scale = 0.5 },
    density = function(x) return x * x * math.exp(-2 * x) end, range = { 0, 400 },
    lambdas = { -2, -0.3, 0.5, 1.5 } },
  { name = "gumbel", opts = { loc = 0.5, scale = 1.5 },
    density = function(x)
      local z = (x - 0.5) / 1.5
      return math.exp(-(z + math.exp(-z)))
    end, range = { -12, 400 }, lambdas = { -1, -0.2, 0.2, 0.5 } },
  { name = "logistic", opts = { loc = -1, scale = 0.7 },
    density = function(x)
      local z = (x + 1) / 0.7
      local e = math.exp(-math.abs(z))
      return e / (1 + e) ^ 2
    end, range = { -400, 400 }, lambdas = { -1, -0.3, 0.3, 1.2 } },
  { name = "beta", opts = { a = 2.5, b = 4 },
    density = function(x) return x ^ 1.5 * (1 - x) ^ 3 end, range = { 0, 1 },
    lambdas = { -30, -1.5, -0.5, 0.7, 1.3, 8, 40 } },
}

local function make(law) return ab.tail[law.name](law.opts) end

describe("closed-form bounds", function()
  local classes = {
    { "subgaussian", { sigma = 1.7 } },
    { "subgaussian", { variance = 1e-8 } },
    { "subgamma", { v = 2, c = 0.5 } },
    { "subgamma", { v = 1, c = 0 } },
    { "subexponential", { nu = 1.3, b = 0.4 } },
    { "bounded", { lo = -2, hi = 5 } },
    { "gaussian", { mean = 3, sd = 0.2 } },
  }
  for _, c in ipairs(classes) do
    local t = ab.tail[c[1]](c[2])
    it(tostring(t) .. " agrees with the generic engine from kl = 1e-300 to 1e6", function()
      local closed = t:gain(KLS)
      local numeric = t:gain(KLS, { numeric = true })
      for i, k in ipairs(KLS) do
        H.close(numeric[i], closed[i], 1e-10, string.format("gain at kl=%g", k))
      end
    end)
    it(tostring(t) .. " inverts: kl_needed closed = numeric = the kl that gives the gain", function()
      local g = t:gain(KLS)
      local closed = t:kl_needed(g)
      local numeric = t:kl_needed(g, { numeric = true })
      for i, k in ipairs(KLS) do
        H.close(numeric[i], closed[i], 1e-10, string.format("kl_needed at kl=%g", k))
        if not (c[1] == "bounded" and k >= 2) then -- saturated: the inverse is the edge
          H.close(closed[i], k, 1e-12, string.format("round trip at kl=%g", k))
        end
      end
    end)
  end

  it("sub-Gaussian is sqrt(2 s2 kl) and its inverse g^2/(2 s2)", function()
    local t = ab.tail.subgaussian { sigma = 3 }
    for _, k in ipairs(KLS) do H.close(t:gain(k), 3 * math.sqrt(2 * k), 1e-15, "gain") end
    H.close(t:kl_needed(6), 2, 1e-15, "kl_needed")
  end)

  it("sub-exponential switches from sqrt(2 nu^2 kl) to b kl + nu^2/(2b) at nu^2/(2b^2)", function()
    local nu, b = 2, 0.5
    local t = ab.tail.subexponential { nu = nu, b = b }
    local k0 = nu ^ 2 / (2 * b ^ 2)
    H.close(t:gain(k0 * 0.9), nu * math.sqrt(2 * k0 * 0.9), 1e-15, "below")
    H.close(t:gain(k0 * 1.1), b * k0 * 1.1 + nu ^ 2 / (2 * b), 1e-15, "above")
    H.close(t:gain(k0), nu * math.sqrt(2 * k0), 1e-15, "continuous at the switch")
  end)

  it("bounded without the mean is Hoeffding, capped at hi - lo", function()
    local t = ab.tail.bounded { lo = 1, hi = 4 }
    H.close(t:gain(0.3), 3 * math.sqrt(0.15), 1e-15, "Hoeffding")
    assert.are.equal(3, t:gain(5))
    assert.are.equal(math.huge, t:kl_needed(3.5))
    assert.are.equal(0.25 * 9, t:variance_proxy())
  end)
end)

describe("exact laws: the tilting frontier", function()
  for _, law in ipairs(LAWS) do
    local t = make(law)

    it(tostring(t) .. " has the cumulant of its density (quadrature)", function()
      for _, l in ipairs(law.lambdas) do
        local q = H.cumulant_by_quadrature(law.density, law.range[1], law.range[2], l, 4000)
        H.close(t:cumulant(l), q, 1e-9, string.format("psi(%g)", l))
      end
    end)

    it(tostring(t) .. " has derivatives that match finite differences of psi", function()
      for _, l in ipairs(law.lambdas) do
        for _, s in ipairs { 1e-3, 0.37 } do
          local x = l * s
          local h = 1e-4 * math.max(1, math.abs(x))
          local d1 = (t:cumulant(x - 2 * h) - 8 * t:cumulant(x - h) + 8 * t:cumulant(x + h)
            - t:cumulant(x + 2 * h)) / (12 * h)
          local d2 = (t:cumulant(x, { derivative = 1 } ) - t:cumulant(x - h, { derivative = 1 })) / h
          H.close(t:cumulant(x, { derivative = 1 }), d1, 1e-7, string.format("psi'(%g)", x))
          H.close(t:cumulant(x - h / 2, { derivative = 2 }), d2, 1e-5, string.format("psi''(%g)", x))
        end
      end
    end)

    it(tostring(t) .. " satisfies the tilting identity at l* = tilt(kl)", function()
      for _, k in ipairs { 1e-200, 1e-8, 0.01, 0.3, 2, 9 } do
        local l = t:tilt(k)
        local psi = t:cumulant(l)
        local d = t:cumulant(l, { derivative = 1 })
        H.close(l * d - psi, k, 1e-10, string.format("KL(l*) at kl=%g", k))
        H.close(t:gain(k), d, 1e-10, string.format("gain = psi'(l*) at kl=%g", k))
      end
    end)

    it(tostring(t) .. " is finite, increasing and concave in kl from 1e-300 to 1e6", function()
      local g = t:gain(KLS)
      local sup = t:gain(math.huge)
      for i = 1, #KLS do
        assert.is_true(g[i] > 0 and g[i] <= sup, "gain in (0, sup] at kl=" .. KLS[i])
        if i > 1 then assert.is_true(g[i] >= g[i - 1], "monotone at kl=" .. KLS[i]) end
      end
      -- concavity on a fine grid (the frontier is the inverse of a convex phi*)
      local ks = H.logspace(-4, 1.5, 60)
      local gs = t:gain(ks)
      for i = 2, #ks - 1 do
        local chord = gs[i - 1] + (gs[i + 1] - gs[i - 1]) * (ks[i] - ks[i - 1]) / (ks[i + 1] - ks[i - 1])
        assert.is_true(gs[i] >= chord * (1 - 1e-12), "concave at kl=" .. ks[i])
      end
    end)

    it(tostring(t) .. " inverts: kl_needed(gain(kl)) = kl wherever the inverse is well conditioned", function()
      local ks = { 1e-300, 1e-100, 1e-12, 1e-4, 0.1, 1, 5 }
      local g = t:gain(ks)
      local back = t:kl_needed(g)
      for i, k in ipairs(ks) do H.close(back[i], k, 1e-10, "round trip at kl=" .. k) end
    end)

    it(tostring(t) .. " has a loss bound from the left tail that matches the reflected tilt", function()
      for _, k in ipairs { 1e-10, 0.2, 3 } do
        local l = t:tilt(k, { side = "loss" })
        local psi = t:cumulant(-l)
        local d = t:cumulant(-l, { derivative = 1 })
        H.close(-l * d - psi, k, 1e-10, "KL of the downward tilt")
        H.close(t:loss(k), -d, 1e-10, "loss = -psi'(-l*)")
      end
    end)
  end

  it("the Gaussian frontier is sd sqrt(2 kl) (engine, not the closed form)", function()
    local t = ab.tail.gaussian { mean = -4, sd = 0.3 }
    for _, k in ipairs(KLS) do
      H.close(t:gain(k, { numeric = true }), 0.3 * math.sqrt(2 * k), 1e-12, "kl=" .. k)
    end
  end)

  it("the exponential frontier is the tilt to Exp(rate v): KL = log(v/r) + r/v - 1", function()
    local r = 2
    local t = ab.tail.exponential { rate = r }
    for _, k in ipairs { 1e-6, 0.1, 1, 10, 1000 } do
      -- independent: bisection on the tilted rate v in (0, r)
      local v = H.bisect(function(v) return -(math.log(v / r) + r / v - 1 - k) end, 1e-300, r)
      H.close(t:gain(k), 1 / v - 1 / r, 1e-9, "kl=" .. k)
    end
  end)

  it("the Bernoulli frontier is q - p with kl_bin(q || p) = kl, saturating at -log p", function()
    for _, p in ipairs { 1e-6, 0.01, 0.3, 0.5, 0.9 } do
      local t = ab.tail.bernoulli { p = p }
      local sat = -math.log(p)
      for _, k in ipairs { 1e-9, 0.01, 0.2, 1, 4 } do
        if k < sat then
          local q = H.bisect(function(q) return H.kl_bin(q, p) - k end, p, 1)
          H.close(t:gain(k), q - p, 1e-9, string.format("p=%g kl=%g", p, k))
        else
          assert.are.equal(1 - p, t:gain(k))
        end
      end
      H.close(t:kl_needed(1 - p), sat, 1e-15, "kl_needed at the top atom")
      assert.are.equal(math.huge, t:kl_needed(1 - p + 1e-9))
    end
  end)

  it("bounded with a mean is the two-point law on {lo, hi}, scaled", function()
    local lo, hi, m = -1, 3, 0.2
    local t = ab.tail.bounded { lo = lo, hi = hi, mean = m }
    local b = ab.tail.bernoulli { p = (m - lo) / (hi - lo) }
    for _, k in ipairs { 1e-12, 0.1, 1, 5 } do
      H.close(t:gain(k), (hi - lo) * b:gain(k), 1e-12, "gain at kl=" .. k)
      H.close(t:loss(k), (hi - lo) * b:loss(k), 1e-12, "loss at kl=" .. k)
    end
    -- and it is never looser than Hoeffding
    local hoeffding = ab.tail.bounded { lo = lo, hi = hi }
    for _, k in ipairs(H.logspace(-6, 1, 30)) do
      assert.is_true(t:gain(k) <= hoeffding:gain(k) * (1 + 1e-12), "below Hoeffding at kl=" .. k)
    end
  end)

  it("a sub-Gaussian bound with a law's own variance proxy dominates that law's exact frontier", function()
    math.randomseed(7)
    for _, law in ipairs(LAWS) do
      local t = make(law)
      local s2 = t:variance_proxy()
      if s2 < math.huge then
        local sg = ab.tail.subgaussian { variance = s2 }
        for _ = 1, 20 do
          local k = 10 ^ (math.random() * 8 - 6)
          assert.is_true(sg:gain(k) >= t:gain(k) * (1 - 1e-12), tostring(t) .. " at kl=" .. k)
        end
      end
    end
  end)

  it("symmetric laws lose what they gain; skewed ones do not", function()
    for _, t in ipairs { ab.tail.gaussian { sd = 2 }, ab.tail.uniform { lo = 0, hi = 1 },
      ab.tail.logistic { scale = 1 }, ab.tail.bernoulli { p = 0.5 } } do
      for _, k in ipairs { 1e-8, 0.3, 4 } do H.close(t:loss(k), t:gain(k), 1e-12, tostring(t)) end
    end
    local e = ab.tail.exponential { rate = 1 }
    assert.is_true(e:loss(1) < e:gain(1))
    H.close(e:loss(1e6), 1, 1e-12, "the loss of Exp(1) tends to its mean")
    H.close(ab.tail.bernoulli { p = 0.2 }:loss(10), 0.2, 1e-15, "Bernoulli loss saturates at p")
  end)
end)

describe("finite laws", function()
  it("match direct log-sum-exp at every tilt, including huge ones", function()
    local values, probs = { -3, 0.5, 2, 2, 7 }, { 0.1, 0.4, 0.2, 0.2, 0.1 }
    local t = ab.tail.discrete { values = values, probs = probs }
    local m = 0
    for i = 1, #values do m = m + values[i] * probs[i] end
    for _, l in ipairs { -500, -3, -0.7, 0.4, 2, 600 } do
      local top = -math.huge
      for i = 1, #values do top = math.max(top, l * (values[i] - m)) end
      local s = 0
      for i = 1, #values do s = s + probs[i] * math.exp(l * (values[i] - m) - top) end
      H.close(t:cumulant(l), top + math.log(s), 1e-13, "psi(" .. l .. ")")
    end
  end)

  it("an empirical sample equals the discrete law of its frequencies", function()
    math.randomseed(11)
    local atoms, counts, samples = { 0.1, 0.4, 1.3, 2.2 }, { 5, 17, 9, 1 }, {}
    for i, a in ipairs(atoms) do for _ = 1, counts[i] do samples[#samples + 1] = a end end
    local e = ab.tail.empirical(samples)
    local probs = {}
    for i = 1, #counts do probs[i] = counts[i] / #samples end
    local d = ab.tail.discrete { values = atoms, probs = probs }
    for _, k in ipairs { 1e-250, 1e-5, 0.2, 1, 3, 100 } do
      H.close(e:gain(k), d:gain(k), 1e-12, "gain at kl=" .. k)
      H.close(e:loss(k), d:loss(k), 1e-12, "loss at kl=" .. k)
    end
    H.close(e:kl_needed(2.2 - e:mean()), -math.log(1 / 32), 1e-14, "top atom")
  end)

  it("drop atoms of probability zero and saturate at the top atom of positive probability", function()
    local t = ab.tail.discrete { values = { 0, 1, 100 }, probs = { 0.5, 0.5, 0 } }
    H.close(t:gain(50), 0.5, 1e-15, "the atom at 100 has no mass")
  end)

  it("keep full precision for tiny kl and tiny probabilities", function()
    local t = ab.tail.bernoulli { p = 1e-300 }
    -- the top atom is reached only once kl >= -log p ~ 690.8
    assert.is_true(t:gain(690) < 1)
    assert.are.equal(1 - 1e-300, t:gain(691))
    local e = ab.tail.empirical { 1, 2, 3, 4 }
    H.close(e:gain(1e-300), math.sqrt(2 * 1.25 * 1e-300), 1e-12, "small-kl limit sqrt(2 var kl)")
  end)

  it("handle 10^7 samples", function()
    local n = 10000000
    local v = ab.vector(n)
    for i = 1, n do v[i] = (i % 1000) / 1000 end
    local e = ab.tail.empirical(v)
    local g = e:gain(0.5)
    assert.is_true(g > 0.2 and g < 0.5)
    -- the same frequencies as a 1000-atom discrete law
    local atoms, probs = {}, {}
    for j = 0, 999 do atoms[j + 1], probs[j + 1] = j / 1000, 1 / 1000 end
    H.close(g, ab.tail.discrete { values = atoms, probs = probs }:gain(0.5), 1e-11, "10^7 samples")
  end)

  it("approach the law they are drawn from", function()
    math.randomseed(3)
    local n = 200000
    local v = ab.vector(n)
    for i = 1, n do v[i] = math.random() end
    local e, u = ab.tail.empirical(v), ab.tail.uniform { lo = 0, hi = 1 }
    for _, k in ipairs { 0.01, 0.1, 1 } do
      assert.is_true(math.abs(e:gain(k) - u:gain(k)) < 0.01, "kl=" .. k)
    end
  end)
end)

describe("variance proxy", function()
  it("is the Kearns-Saul value for Bernoulli, by closed form and by maximisation", function()
    for _, p in ipairs { 1e-4, 0.1, 0.3, 0.5, 0.77 } do
      local t = ab.tail.bernoulli { p = p }
      local closed = p == 0.5 and 0.25 or (1 - 2 * p) / (2 * math.log((1 - p) / p))
      -- (the reference itself carries ~1e-14 from log of a rounded ratio)
      H.close(t:variance_proxy(), closed, 1e-13, "closed p=" .. p)
      H.close(t:variance_proxy { numeric = true }, closed, 1e-9, "numeric p=" .. p)
    end
  end)

  it("bounds the cumulant: psi(l) <= s2 l^2 / 2 at random l", function()
    math.randomseed(5)
    for _, t in ipairs { ab.tail.beta { a = 2, b = 7 }, ab.tail.bernoulli { p = 0.1 },
      ab.tail.uniform { lo = 0, hi = 2 }, ab.tail.discrete { values = { 0, 1, 5 }, probs = { 0.7, 0.2, 0.1 } } } do
      local s2 = t:variance_proxy()
      assert.is_true(s2 >= t:cumulant(0, { derivative = 2 }) * (1 - 1e-12), "at least the variance")
      for _ = 1, 200 do
        local l = (math.random() - 0.5) * 40
        assert.is_true(t:cumulant(l) <= s2 * l * l / 2 * (1 + 1e-9), tostring(t) .. " at l=" .. l)
      end
    end
  end)

  it("is the variance for Gaussian and uniform laws and infinite for heavier tails", function()
    assert.are.equal(4, ab.tail.gaussian { sd = 2 }:variance_proxy())
    H.close(ab.tail.uniform { lo = 0, hi = 3 }:variance_proxy(), 9 / 12, 1e-15, "uniform")
    H.close(ab.tail.uniform { lo = 0, hi = 3 }:variance_proxy { numeric = true }, 9 / 12, 1e-12, "uniform numeric")
    for _, t in ipairs { ab.tail.exponential { rate = 1 }, ab.tail.gumbel { scale = 1 },
      ab.tail.logistic { scale = 1 }, ab.tail.subgamma { v = 1, c = 0.1 }, ab.tail.subexponential { nu = 1, b = 1 } } do
      assert.are.equal(math.huge, t:variance_proxy(), tostring(t))
    end
    assert.are.equal(2, ab.tail.subgamma { v = 2, c = 0 }:variance_proxy())
  end)
end)

describe("user cumulants", function()
  -- log(1 - l) + l without cancellation, for an accurate exponential cumulant
  local function log1mx_plus_x(l)
    if math.abs(l) < 0.1 then
      local s, p = 0, l
      for k = 2, 40 do p = p * l; s = s - p / k end
      return s
    end
    return math.log(1 - l) + l
  end

  it("reproduce the closed sub-Gaussian bound", function()
    local c = ab.tail.cumulant(function(l) return 1.44 * l * l / 2 end)
    local s = ab.tail.subgaussian { sigma = 1.2 }
    for _, k in ipairs { 1e-200, 1e-6, 0.5, 30, 1e5 } do
      H.close(c:gain(k), s:gain(k), 1e-10, "gain at kl=" .. k)
      H.close(c:kl_needed(s:gain(k)), k, 1e-10, "kl_needed at kl=" .. k)
    end
    H.close(c:variance_proxy(), 1.44, 1e-9, "variance proxy")
  end)

  it("reproduce an exact law through lambda_max", function()
    local c = ab.tail.cumulant(function(l) return -log1mx_plus_x(l) end, { lambda_max = 1 })
    local e = ab.tail.exponential { rate = 1 }
    for _, k in ipairs { 1e-100, 1e-4, 0.5, 20 } do
      H.close(c:gain(k), e:gain(k), 1e-10, "kl=" .. k)
    end
    assert.are.equal(math.huge, c:cumulant(1.5))
  end)

  it("carry a Lua error in the function out as a clean error, and stay usable", function()
    local calls = 0
    local c = ab.tail.cumulant(function(l)
      calls = calls + 1
      if calls == 3 then error("boom") end
      return l * l / 2
    end)
    H.raises(function() return c:gain(1) end, "boom", "cumulant function failed")
    H.close(c:gain(0.5), 1, 1e-10, "after the error")
    H.raises(function() return ab.tail.cumulant(function() return 0 / 0 end):gain(1) end,
      "must return a number, got nan")
    H.raises(function() return ab.tail.cumulant(function() return "x" end):gain(1) end,
      "must return a number, got string")
    H.raises(function() return ab.tail.cumulant(function() return 1 end):loss(1) end,
      "not defined")
  end)

  it("may call the library, even the same tail, from inside the function", function()
    local s = ab.tail.subgaussian { sigma = 1 }
    local c
    c = ab.tail.cumulant(function(l)
      if l > 1e6 then return c:cumulant(1) * 0 + l * l / 2 end
      return s:cumulant(l)
    end)
    H.close(c:gain(0.5), 1, 1e-10, "nested")
  end)

  it("a constant finite law gains and loses exactly 0 (found by the fuzzer: loss was -2.8e-14)", function()
    local v, p = {}, {}
    for i = 1, 9 do v[i], p[i] = 100, 1 / 9 end
    local t = ab.tail.discrete { values = v, probs = p }
    assert.are.equal(100, t:mean())
    assert.are.equal(0, t:gain(10))
    assert.are.equal(0, t:loss(10))
    assert.are.equal(0, t:variance_proxy())
    -- and a law with weights that do not sum to 1 exactly keeps its mean inside its range
    local u = ab.tail.discrete { values = { 1, 1 + 2 ^ -52 }, probs = { 1 / 3, 2 / 3 } }
    assert.is_true(u:gain(1) >= 0 and u:loss(1) >= 0)
  end)
end)

describe("one-sided variance proxy sup 2 psi(l) / l^2 (interior maxima)", function()
  -- the right-tail proxy through renyi.gain at alpha = 1: gain = sqrt(2 s2 d), d = 1/2
  local function right(t)
    return ab.renyi.gain { reference = t, aligned = { variance = 1 }, divergence = 0.5, alpha = 1 } ^ 2
  end
  local function mirror(values, probs)
    local v = {}
    for i, x in ipairs(values) do v[i] = -x end
    return ab.tail.discrete { values = v, probs = probs }
  end

  it("finds the maximum near l = 5.69 that a coarse scan took for a dip (verifier reproducer)", function()
    local r = ab.tail.discrete { values = { 2.082, 0.918, -0.308, 1.052, -2.732, 0.057 },
      probs = { 0.039770565013613944, 0.08375276673182282, 0.003388809184067649, 0.847612246997369,
        0.007022171300206831, 0.018453440772919685 } }
    -- mpmath (40 digits): sqrt(2 r(l*)), l* = 5.690914446151 the root of r'(l) = 0,
    -- r(l) = 2 psi(l) / l^2 of the centred law: r(l*) = 0.17360534846246929
    H.close(ab.renyi.gain { reference = r, aligned = { variance = 1 }, divergence = 1.0, alpha = 1 },
      0.5892458713685982, 1e-10, "renyi.gain")
    H.close(right(r), 0.17360534846246929, 1e-10, "right proxy")
  end)

  it("is >= 2 psi(l) / l^2 on a dense grid, and the two-sided proxy is the larger side (50 random laws)", function()
    math.randomseed(20261127)
    for law = 1, 50 do
      local k = math.random(2, 8)
      local values, probs = {}, {}
      for i = 1, k do
        values[i] = math.floor((math.random() * 6 - 3) * 1000) / 1000
        probs[i] = math.random() ^ 3 + 1e-3
      end
      local sum = 0
      for i = 1, k do sum = sum + probs[i] end
      for i = 1, k do probs[i] = probs[i] / sum end
      local t = ab.tail.discrete { values = values, probs = probs }
      local m = mirror(values, probs)
      local sr, sl = right(t), right(m)
      for i = 0, 600 do
        local l = 10 ^ (-3 + i * 0.01) -- 1e-3 .. 1e3, 100 a decade
        local what = string.format("law %d (%d atoms) at l = %.4g", law, k, l)
        local rr, rl = 2 * t:cumulant(l) / l ^ 2, 2 * t:cumulant(-l) / l ^ 2
        assert(sr >= rr * (1 - 1e-12), what .. string.format(": right %.17g < %.17g", sr, rr))
        assert(sl >= rl * (1 - 1e-12), what .. string.format(": left %.17g < %.17g", sl, rl))
      end
      H.close(t:variance_proxy(), math.max(sr, sl), 1e-12, "law " .. law .. " two-sided proxy")
    end
  end)
end)

-- Fuzz finding (fuzz_tail): the numeric inverse of subexponential{nu=1e-16,
-- b=1e-300} at gain = DBL_MAX was end g - psi(end) = inf - inf = NaN; and the
-- closed forms formed sqrt(2 kl), infinite for kl > DBL_MAX / 2.
describe("sub-exponential and sub-gamma closed forms at extreme parameters", function()
  local DMAX = 1.7976931348623157e308
  local PAR = { 5e-324, 1e-300, 1e-160, 1e-16, 1, 1e16, 1e150, 1e300, DMAX }
  local GAINS = { 0, 5e-324, 1e-300, 1e-16, 1, 1e16, 1e300, 1e308, DMAX, math.huge }
  local function tails()
    local out = {}
    for _, a in ipairs(PAR) do
      for _, b in ipairs(PAR) do
        local ok, t = pcall(ab.tail.subexponential, { nu = a, b = b })
        if ok then out[#out + 1] = t end
        t = ab.tail.subgamma { v = a, c = b }
        out[#out + 1] = t
      end
    end
    return out
  end
  it("kl_needed and gain are never NaN, monotone, and invert each other", function()
    for _, t in ipairs(tails()) do
      local prev_k, prev_g = -1, -1
      for _, g in ipairs(GAINS) do
        local k = t:kl_needed(g)
        local what = string.format("%s at gain %.17g", tostring(t), g)
        assert.is_true(k == k and k >= prev_k, what .. ": kl_needed " .. k)
        prev_k = k
        local back = t:gain(k)
        assert.is_true(back == back and back >= prev_g, what .. ": gain " .. back)
        prev_g = back
        -- the round trip wherever the KL is a normal number (a subnormal
        -- KL carries fewer digits) and the gain is finite
        if g > 0 and g < math.huge and k >= 2.2250738585072014e-308 and k < math.huge
            and g <= 1e308 then
          H.close(back, g, 1e-13, what .. ": gain(kl_needed(g))")
        end
      end
      for _, k in ipairs(GAINS) do
        local g = t:gain(k)
        assert.is_true(g == g and g >= 0, tostring(t) .. ": gain at kl " .. k)
      end
    end
  end)
  it("sqrt(2 kl) does not overflow at kl near DBL_MAX", function()
    -- sd sqrt(2 kl) = 1e-100 sqrt(2e308) = 1.4142135623730950e54
    H.close(ab.tail.subgaussian { sigma = 1e-100 }:gain(1e308), math.sqrt(2) * 1e154 * 1e-100, 1e-13)
    -- sqrt(v) sqrt(2 kl) + c kl with v = 1e-200, c = 1e-300: 1.4142135623730950e54 + 1e8
    H.close(ab.tail.subgamma { v = 1e-200, c = 1e-300 }:gain(1e308), math.sqrt(2) * 1e54 + 1e8, 1e-13)
    H.close(ab.tail.subexponential { nu = 1e-100, b = 1e-300 }:gain(1e308), math.sqrt(2) * 1e54, 1e-13)
  end)
  it("the numeric inverse at the end of the domain is +inf, not NaN", function()
    local t = ab.tail.subexponential { nu = 1e-16, b = 1e-300 }
    for _, g in ipairs { 1e300, DMAX } do
      assert.are.equal(math.huge, t:kl_needed(g, { numeric = true }))
    end
    -- below the overflow: end g - psi(end) = 1e300 (1e60 - 1e268 / 2) + ... : KL = g/b - nu^2/(2 b^2)
    local t2 = ab.tail.subexponential { nu = 1, b = 1e-3 }
    H.close(t2:kl_needed(5e3, { numeric = true }), (5e3 - 0.5 / 1e-3) / 1e-3, 1e-10)
  end)
end)

-- Fuzz finding (fuzz_tail): logistic{loc=-5.125e-8, scale=1e-320} was
-- accepted with lambda_max = 1/scale = inf, and tilt.compare_bon(t, 1e308)
-- returned tilt_gain NaN (the cumulant at lambda = inf); gains were wrong
-- (logistic{scale=1e-310}:gain(1) was 9.9e-305, not 2.8e-310).
describe("gumbel and logistic with a subnormal scale", function()
  for _, k in ipairs { "gumbel", "logistic" } do
    it(k .. " refuses a scale below DBL_MIN and scales down to it", function()
      H.raises(function() return ab.tail[k] { loc = -5.125e-8, scale = 1e-320 } end, "tail." .. k, "scale")
      H.raises(function() return ab.tail[k] { loc = 0, scale = 1e-310 } end, "tail." .. k, "scale")
      local DMIN = 2.2250738585072014e-308
      local small, unit = ab.tail[k] { loc = 0, scale = DMIN }, ab.tail[k] { loc = 0, scale = 1 }
      H.close(small:gain(1) / DMIN, unit:gain(1), 1e-13, k .. " gain scales")
      local cs, cu = ab.tilt.compare_bon(small, 1e308), ab.tilt.compare_bon(unit, 1e308)
      H.close(cs.tilt_gain / DMIN, cu.tilt_gain, 1e-10, k .. " compare_bon tilt_gain scales")
      assert.is_true(cs.kl_bon_tilt == cs.kl_bon_tilt and cs.kl_bon_tilt >= 0)
    end)
  end
end)

describe("exponential and gamma laws with a subnormal scale", function()
  it("are refused (found by the fuzzer: exponential{rate=DBL_MAX}:cumulant(1e308) was -inf)", function()
    H.raises(function() return ab.tail.exponential { rate = 1.7976931348623157e308 } end, "tail.exponential")
    H.raises(function() return ab.tail.gamma { shape = 2, scale = 1e-310 } end, "tail.gamma")
    -- Beta beyond the checked range [1e-8, 1e15] likewise (beta{1e300, 100}:cumulant(-1e300) was < 0)
    H.raises(function() return ab.tail.beta { a = 1e300, b = 100 } end, "tail.beta")
    -- the largest accepted rate still has an exact, nonnegative cumulant
    local t = ab.tail.exponential { rate = 4e307 }
    local c = t:cumulant(2e307) -- l / rate = 1/2: -log(1/2) - 1/2
    H.close(c, math.log(2) - 0.5, 1e-12, "psi at half the rate")
  end)
end)
