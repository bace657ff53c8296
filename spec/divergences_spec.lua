-- f-divergence families, Renyi divergences, and divergences between two
-- discrete laws (README conventions).
local ab = require "alignbound"
local H = require "helper"

local FAMILIES = {
  { "kl" }, { "reverse_kl" }, { "chi2" }, { "hellinger" }, { "tv" }, { "js" },
  { "alpha", { alpha = -0.7 } }, { "alpha", { alpha = 0.3 } }, { "alpha", { alpha = 2.5 } },
}

-- the generators as written in the README, evaluated naively (fine away
-- from t = 1)
local NAIVE = {
  kl = function(t) return t * math.log(t) end,
  reverse_kl = function(t) return -math.log(t) end,
  chi2 = function(t) return (t - 1) ^ 2 end,
  hellinger = function(t) return (math.sqrt(t) - 1) ^ 2 / 2 end,
  tv = function(t) return math.abs(t - 1) / 2 end,
  js = function(t) return (t * math.log(t) - (1 + t) * math.log((1 + t) / 2)) / 2 end,
  alpha = function(t, a) return (t ^ a - a * t - (1 - a)) / (a * (a - 1)) end,
}

local function random_law(n)
  local p, s = {}, 0
  for i = 1, n do
    p[i] = math.random() + 0.05
    s = s + p[i]
  end
  for i = 1, n do p[i] = p[i] / s end
  return p
end

-- sum_i q_i f(p_i / q_i), naively
local function naive(p, q, f, a)
  local s = 0
  for i = 1, #p do s = s + q[i] * f(p[i] / q[i], a) end
  return s
end

describe("generators", function()
  it("match the README formulas and vanish at t = 1", function()
    for _, fam in ipairs(FAMILIES) do
      local name, opts = fam[1], fam[2]
      local a = opts and opts.alpha
      assert.are.equal(0, ab.generator(name, 1, opts), name)
      for _, t in ipairs { 0.01, 0.3, 2, 17, 400 } do
        H.close(ab.generator(name, t, opts), NAIVE[name](t, a), 1e-12, name .. " at t=" .. t)
      end
    end
  end)

  it("are convex (midpoint test on a random grid)", function()
    math.randomseed(21)
    for _, fam in ipairs(FAMILIES) do
      for _ = 1, 200 do
        local x, y = math.random() * 5, math.random() * 5
        local fm = ab.generator(fam[1], (x + y) / 2, fam[2])
        local avg = (ab.generator(fam[1], x, fam[2]) + ab.generator(fam[1], y, fam[2])) / 2
        assert.is_true(fm <= avg + 1e-12, fam[1])
      end
    end
  end)

  it("keep their digits next to t = 1, where they are O((t-1)^2)", function()
    local d = 1e-7
    H.close(ab.generator("kl", 1 + d), d + d * d / 2 - d ^ 3 / 6, 1e-9, "kl")
    H.close(ab.generator("js", 1 + d), d * d / 8, 1e-6, "js")
    H.close(ab.generator("alpha", 1 + d, { alpha = 3 }), d * d / 2, 1e-6, "alpha")
  end)
end)

describe("divergence between discrete laws", function()
  it("equals the naive sum for every family on random laws", function()
    math.randomseed(1)
    for _ = 1, 20 do
      local n = math.random(2, 30)
      local p, q = random_law(n), random_law(n)
      for _, fam in ipairs(FAMILIES) do
        local a = fam[2] and fam[2].alpha
        H.close(ab.divergence(p, q, fam[1], fam[2]), naive(p, q, NAIVE[fam[1]], a), 1e-11, fam[1])
      end
    end
  end)

  it("satisfies the identities between families", function()
    math.randomseed(2)
    local p, q = random_law(12), random_law(12)
    local chi2, hel = ab.divergence(p, q, "chi2"), ab.divergence(p, q, "hellinger")
    H.close(ab.divergence(p, q, "alpha", { alpha = 2 }), chi2 / 2, 1e-12, "alpha 2 = chi2/2")
    H.close(ab.divergence(p, q, "alpha", { alpha = 0.5 }), 4 * hel, 1e-12, "alpha 1/2 = 4 hellinger")
    H.close(ab.divergence(p, q, "renyi", { alpha = 2 }), math.log(1 + chi2), 1e-12, "renyi 2")
    H.close(ab.divergence(p, q, "renyi", { alpha = 0.5 }), -2 * math.log(1 - hel), 1e-12, "renyi 1/2")
    H.close(ab.divergence(p, q, "renyi", { alpha = 1 }), ab.divergence(p, q, "kl"), 0, "renyi 1")
    H.close(ab.divergence(p, q, "alpha", { alpha = 1 }), ab.divergence(p, q, "kl"), 1e-15, "alpha 1")
    H.close(ab.divergence(p, q, "alpha", { alpha = 0 }), ab.divergence(p, q, "reverse_kl"), 1e-15, "alpha 0")
    H.close(ab.divergence(p, q, "reverse_kl"), ab.divergence(q, p, "kl"), 1e-12, "reverse")
  end)

  it("is continuous in the order through a = 1 and a = 0", function()
    math.randomseed(3)
    local p, q = random_law(8), random_law(8)
    local kl, rkl = ab.divergence(p, q, "kl"), ab.divergence(p, q, "reverse_kl")
    for _, e in ipairs { 1e-3, 1e-6, 1e-9 } do
      H.close(ab.divergence(p, q, "renyi", { alpha = 1 - e }), kl, 3 * e, "renyi 1-e")
      H.close(ab.divergence(p, q, "renyi", { alpha = 1 + e }), kl, 3 * e, "renyi 1+e")
      H.close(ab.divergence(p, q, "alpha", { alpha = 1 + e }), kl, 3 * e, "alpha 1+e")
      H.close(ab.divergence(p, q, "alpha", { alpha = e }), rkl, 3 * e, "alpha e")
    end
  end)

  it("has Renyi divergences nondecreasing in the order, up to log max p/q", function()
    math.randomseed(4)
    for _ = 1, 10 do
      local p, q = random_law(10), random_law(10)
      local prev = 0
      for _, a in ipairs { 0.01, 0.2, 0.5, 0.9, 1, 1.1, 2, 5, 50 } do
        local d = ab.divergence(p, q, "renyi", { alpha = a })
        assert.is_true(d >= prev * (1 - 1e-12), "order " .. a)
        prev = d
      end
      local m = 0
      for i = 1, #p do m = math.max(m, p[i] / q[i]) end
      H.close(ab.divergence(p, q, "renyi", { alpha = math.huge }), math.log(m), 1e-14, "order inf")
      assert.is_true(prev <= math.log(m))
    end
  end)

  it("never grows when outcomes are merged (data processing)", function()
    math.randomseed(5)
    local user = ab.fdiv(function(t) return (t - 1) ^ 4 / (1 + t) end)
    for _ = 1, 20 do
      local n = math.random(3, 20)
      local p, q = random_law(n), random_law(n)
      -- merge outcomes into k random groups
      local k = math.random(1, n - 1)
      local pm, qm = {}, {}
      for j = 1, k do pm[j], qm[j] = 0, 0 end
      for i = 1, n do
        local j = (i <= k) and i or math.random(1, k)
        pm[j], qm[j] = pm[j] + p[i], qm[j] + q[i]
      end
      local fams = { { "renyi", { alpha = 0.4 } }, { "renyi", { alpha = 3 } }, { user } }
      for _, f in ipairs(FAMILIES) do fams[#fams + 1] = f end
      for _, f in ipairs(fams) do
        assert.is_true(ab.divergence(pm, qm, f[1], f[2]) <= ab.divergence(p, q, f[1], f[2]) * (1 + 1e-12) + 1e-15,
          tostring(f[1]))
      end
    end
  end)

  it("is infinite where P is not << Q for unbounded generators, finite for bounded ones", function()
    local p, q = { 0.5, 0.5 }, { 1, 0 }
    assert.are.equal(math.huge, ab.divergence(p, q, "kl"))
    assert.are.equal(math.huge, ab.divergence(p, q, "chi2"))
    assert.are.equal(math.huge, ab.divergence(p, q, "renyi", { alpha = 2 }))
    H.close(ab.divergence(p, q, "tv"), 0.5, 1e-15, "tv")
    H.close(ab.divergence(p, q, "hellinger"), 1 - math.sqrt(0.5), 1e-15, "hellinger")
    H.close(ab.divergence({ 1, 0 }, { 0, 1 }, "js"), math.log(2), 1e-15, "js of disjoint laws")
    H.close(ab.divergence({ 1, 0 }, { 0, 1 }, "hellinger"), 1, 1e-15, "hellinger of disjoint laws")
    -- 0 log 0 = 0: Q-mass where P = 0 costs nothing in KL
    H.close(ab.divergence({ 1, 0 }, { 0.5, 0.5 }, "kl"), math.log(2), 1e-15, "0 log 0")
    assert.are.equal(0, ab.divergence({ 0.3, 0.7 }, { 0.3, 0.7 }, "kl"))
  end)

  it("takes a user f as ab.fdiv and agrees with the named family", function()
    math.randomseed(6)
    local p, q = random_law(9), random_law(9)
    local f = ab.fdiv(function(t) return t * math.log(t) end)
    H.close(ab.divergence(p, q, f), ab.divergence(p, q, "kl"), 1e-12, "user kl")
    local sq = ab.fdiv(function(t) return (t - 1) ^ 2 end)
    H.close(ab.divergence(p, q, sq), ab.divergence(p, q, "chi2"), 1e-12, "user chi2")
    assert.truthy(tostring(f):find("fdiv(", 1, true))
    H.raises(function() return ab.divergence(p, q, ab.fdiv(function() error("bad f") end)) end, "bad f")
    H.raises(function() return ab.divergence(p, q, ab.fdiv(function() return 0 / 0 end)) end,
      "f must return a number, got nan")
  end)

  it("rejects bad input by name", function()
    H.raises(function() return ab.divergence({ 0.5, 0.5 }, { 0.5, 0.6 }, "kl") end,
      "bad argument #2 to 'divergence'", "q must sum to 1")
    H.raises(function() return ab.divergence({ 0.5, 0.5 }, { 1 }, "kl") end, "differ in length (2 and 1)")
    H.raises(function() return ab.divergence({ -0.5, 1.5 }, { 0.5, 0.5 }, "kl") end, "p[1] must be a probability")
    H.raises(function() return ab.divergence({}, {}, "kl") end, "p is empty")
    H.raises(function() return ab.divergence({ 1 }, { 1 }, "kld") end, "bad argument #3", "unknown family 'kld'")
    H.raises(function() return ab.divergence({ 1 }, { 1 }, 3) end, "family must be a name")
    H.raises(function() return ab.divergence({ 1 }, { 1 }, "alpha") end, "bad argument #4", "needs {alpha=}")
    H.raises(function() return ab.divergence({ 1 }, { 1 }, "kl", { alpha = 2 }) end, "takes no alpha")
    H.raises(function() return ab.divergence({ 1 }, { 1 }, "renyi", { alpha = 0 }) end, "alpha must be positive")
    H.raises(function() return ab.divergence({ 1 }, { 1 }, "renyi", { alpha = -1 }) end, "alpha must be positive")
    H.raises(function() return ab.divergence({ 1 }, { 1 }, "alpha", { alpha = 0 / 0 }) end, "alpha must be a finite")
    H.raises(function() return ab.divergence({ 1 }, { 1 }, "alpha", { alpha = 1, beta = 2 }) end,
      "unknown option 'beta'")
    H.raises(function() return ab.generator("kl", -1) end, "bad argument #2 to 'generator'")
  end)
end)

-- Reproducers from issue 9.  References by mpmath at 50 digits from the exact
-- double inputs, each law divided by its exact sum (the library renormalises
-- probabilities that sum to 1 within 1e-9): D_f = sum q f(p/q) with the
-- README generator, Renyi = log(sum q (p/q)^a) / (a - 1).
describe("divergence between discrete laws at extreme masses (issue 9)", function()
  local cases = {
    { { 0.5, 0.5 }, { 1 - 1e-300, 1e-300 }, "chi2", nil, 2.4999999999999999e+299 },
    { { 0.5, 0.5 }, { 1 - 1e-307, 1e-307 }, "kl", nil, 352.75366459402607 },
    { { 0.5, 0.5 }, { 1, 5e-324 }, "kl", nil, 371.52688878013069 },
    { { 1e-16, 1 - 1e-16 }, { 1 - 1e-16, 1e-16 }, "reverse_kl", nil, 36.841361487904723 },
    { { 1e-20, 1 - 1e-20 }, { 1 - 1e-20, 1e-20 }, "reverse_kl", nil, 46.051701859880914 },
    { { 0.5, 0.5 }, { 1e-200, 1 }, "chi2", nil, 2.5e+199 },
    { { 1e-20, 1 - 1e-20 }, { 1 - 1e-20, 1e-20 }, "alpha", { alpha = 1e-6 }, 46.050687547223607 },
    { { 0.5 + 1e-5, 0.5 - 1e-5 }, { 0.5, 0.5 }, "renyi", { alpha = 2 }, 3.9999999991857967e-10 },
    { { 0.5 + 1e-5, 0.5 - 1e-5 }, { 0.5, 0.5 }, "renyi", { alpha = 0.5 }, 1.0000000001464492e-10 },
    { { 0.5 + 1e-5, 0.5 - 1e-5 }, { 0.5, 0.5 }, "renyi", { alpha = 50 }, 9.9999983019649444e-9 },
    { { 0.5 + 1e-5, 0.5 - 1e-5 }, { 0.5, 0.5 }, "kl", nil, 2.0000000001262317e-10 },
    { { 0.5 + 1e-5, 0.5 - 1e-5 }, { 0.5, 0.5 }, "hellinger", nil, 5.0000000006072459e-11 },
    { { 1e-300, 1 }, { 1, 1e-300 }, "hellinger", nil, 1 },
  }
  for _, c in ipairs(cases) do
    local p, q, fam, opts, ref = c[1], c[2], c[3], c[4], c[5]
    local what = string.format("%s%s of {%.17g, %.17g} from {%.17g, %.17g}", fam,
      opts and ("(" .. opts.alpha .. ")") or "", p[1], p[2], q[1], q[2])
    it("gets " .. what .. " to 1e-13", function()
      H.close(ab.divergence(p, q, fam, opts), ref, 1e-13, what)
    end)
  end

  it("is +inf, not NaN, where the generator is infinite at t = 0", function()
    assert.are.equal(math.huge, ab.divergence({ 1, 0 }, { 0.5, 0.5 }, "reverse_kl"))
    assert.are.equal(math.huge, ab.divergence({ 1, 0 }, { 0.5, 0.5 }, "alpha", { alpha = -1 }))
    assert.are.equal(math.huge, ab.divergence({ 1, 0 }, { 0.5, 0.5 }, "alpha", { alpha = 0 }))
  end)

  it("keeps Renyi of order inf finite when p/q overflows", function()
    -- log max p/q = log(0.5) - log(5e-324 / (1 + 5e-324))
    H.close(ab.divergence({ 0.5, 0.5 }, { 1, 5e-324 }, "renyi", { alpha = math.huge }),
      math.log(0.5) - math.log(5e-324), 1e-15, "renyi inf")
  end)
end)
