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
    -- tv far below the renormalisation's rounding of the outcome of mass 1
    -- (mpmath at 750 digits)
    { { 4.4831322576266331e-23, 1, 7.7743656649108569e-159, 4.0502462456675256e-21 },
      { 4.4831322287538899e-23, 1, 7.7743650978468924e-159, 4.0502462456919036e-21 }, "tv", nil,
      2.8872743212940926e-31 },
  }
  for _, c in ipairs(cases) do
    local p, q, fam, opts, ref = c[1], c[2], c[3], c[4], c[5]
    local what = string.format("%s%s of {%.17g, %.17g%s} from {%.17g, %.17g%s}", fam,
      opts and ("(" .. opts.alpha .. ")") or "", p[1], p[2], #p > 2 and ", ..." or "", q[1], q[2],
      #q > 2 and ", ..." or "")
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

-- Randomised laws with tiny masses, exact zeros and nearly equal pairs: every
-- family is finite or +inf, never NaN, >= 0 and in its range; Renyi is
-- nondecreasing in its order; and families that are computed by different
-- routes agree where an identity ties them.
describe("divergence between random extreme laws", function()
  local function normalise(v)
    local s = 0
    for i = 1, #v do s = s + v[i] end
    for i = 1, #v do v[i] = v[i] / s end
    return v
  end

  -- masses spread over 10^-300 .. 1, some exactly 0
  local function extreme_law(n, zeros)
    local v = {}
    for i = 1, n do
      local r = math.random()
      if zeros and r < 0.2 then v[i] = 0
      elseif r < 0.5 then v[i] = 10 ^ (-math.random() * 300)
      else v[i] = math.random() end
    end
    if v[1] + (v[2] or 0) == 0 then v[1] = 1 end
    return normalise(v)
  end

  -- q a relative perturbation of p of size about 10^-k
  local function near_pair(n, k)
    local p, q = extreme_law(n, false), {}
    for i = 1, n do q[i] = p[i] * (1 + (2 * math.random() - 1) * 10 ^ -k) end
    return p, normalise(q)
  end

  local pairs_ = {}
  math.randomseed(9)
  for _ = 1, 60 do
    local n = math.random(2, 12)
    local kind = math.random(1, 3)
    if kind == 1 then pairs_[#pairs_ + 1] = { extreme_law(n, false), extreme_law(n, false) }
    elseif kind == 2 then pairs_[#pairs_ + 1] = { extreme_law(n, true), extreme_law(n, true) }
    else pairs_[#pairs_ + 1] = { near_pair(n, math.random(3, 12)) } end
  end

  local NAMED = {
    { "kl" }, { "reverse_kl" }, { "chi2" }, { "tv", nil, 1 }, { "hellinger", nil, 1 },
    { "js", nil, math.log(2) },
  }
  for _, a in ipairs { -1e300, -3, -0.5, 1e-9, 1e-3, 0.5, 0.999999, 1, 1.000001, 2, 7, 60, 1e10, 1e300 } do
    NAMED[#NAMED + 1] = { "alpha", { alpha = a } }
  end
  local ORDERS = { 1e-300, 1e-9, 1e-3, 0.3, 0.5, 0.999999, 1, 1.000001, 2, 3.5, 60, 1e4, 1e10, 1e300, math.huge }

  local function show(v)
    local t = {}
    for i = 1, #v do t[i] = string.format("%.17g", v[i]) end
    return "{" .. table.concat(t, ", ") .. "}"
  end

  it("are never NaN, never negative, and within their ranges", function()
    for k, pq in ipairs(pairs_) do
      local p, q = pq[1], pq[2]
      for _, fam in ipairs(NAMED) do
        local d = ab.divergence(p, q, fam[1], fam[2])
        local what = string.format("pair %d, %s %s: %s from %s", k, fam[1],
          fam[2] and fam[2].alpha or "", show(p), show(q))
        assert(d == d, what .. " is NaN")
        assert(d >= 0, what .. " is negative: " .. d)
        if fam[3] then assert(d <= fam[3], what .. " exceeds its maximum: " .. d) end
      end
    end
  end)

  it("has Renyi divergences nondecreasing in the order", function()
    for k, pq in ipairs(pairs_) do
      local p, q = pq[1], pq[2]
      local prev = 0
      for _, a in ipairs(ORDERS) do
        local d = ab.divergence(p, q, "renyi", { alpha = a })
        assert(d == d and d >= 0, string.format("pair %d order %g: %s", k, a, d))
        -- (values below the smallest normal double have no relative digits)
        assert(d >= prev * (1 - 1e-12) - 1e-300, string.format("pair %d: order %g gives %.17g < %.17g (%s from %s)",
          k, a, d, prev, show(p), show(q)))
        prev = d
      end
    end
  end)

  -- relative agreement (with an absolute slack atol), +inf equal to +inf
  local function agree(a, b, rtol, what, atol)
    if a == math.huge or b == math.huge then
      assert(a == b, what .. ": " .. a .. " vs " .. b)
    elseif atol and math.abs(a - b) <= atol then
      return
    else
      H.close(a, b, rtol, what)
    end
  end

  it("agrees with the identities between families", function()
    for k, pq in ipairs(pairs_) do
      local p, q = pq[1], pq[2]
      local w = " (pair " .. k .. ": " .. show(p) .. " from " .. show(q) .. ")"
      local kl, chi2, hel = ab.divergence(p, q, "kl"), ab.divergence(p, q, "chi2"), ab.divergence(p, q, "hellinger")
      agree(ab.divergence(p, q, "alpha", { alpha = 2 }), chi2 / 2, 1e-13, "alpha 2 = chi2 / 2" .. w)
      agree(ab.divergence(p, q, "alpha", { alpha = 0.5 }), 4 * hel, 1e-13, "alpha 1/2 = 4 hellinger" .. w)
      agree(ab.divergence(p, q, "alpha", { alpha = 1 }), kl, 0, "alpha 1 = kl" .. w)
      agree(ab.divergence(p, q, "reverse_kl"), ab.divergence(q, p, "kl"), 1e-13, "reverse_kl(p, q) = kl(q, p)" .. w)
      agree(ab.divergence(p, q, "alpha", { alpha = -1 }), ab.divergence(q, p, "alpha", { alpha = 2 }), 1e-13,
        "alpha -1 (p, q) = alpha 2 (q, p)" .. w)
      -- Amari duality D_a(P||Q) = D_{1-a}(Q||P): the two sides take different
      -- branches (near KL / near reverse KL, t^a by pow or by e^{a l}); each
      -- 1 - a is exact
      for _, a in ipairs { 1 - 2 ^ -20, 2 ^ -30, 0.375, 7, 60, -1e300 } do
        agree(ab.divergence(p, q, "alpha", { alpha = a }), ab.divergence(q, p, "alpha", { alpha = 1 - a }), 1e-12,
          "alpha " .. a .. " duality" .. w, 1e-300)
      end
      -- and for Renyi of order a in (0, 1): (1 - a) D_a(P||Q) = a D_{1-a}(Q||P)
      for _, a in ipairs { 2 ^ -10, 0.375 } do
        local lhs = (1 - a) * ab.divergence(p, q, "renyi", { alpha = a })
        local rhs = a * ab.divergence(q, p, "renyi", { alpha = 1 - a })
        agree(lhs, rhs, 1e-12, "renyi " .. a .. " duality" .. w, 1e-300)
      end
      agree(ab.divergence(p, q, "js"), ab.divergence(q, p, "js"), 1e-13, "js is symmetric" .. w)
      agree(ab.divergence(p, q, "renyi", { alpha = 2 }), math.log(1 + chi2) == math.huge and math.huge
        or (chi2 < 1 and H.log1p(chi2) or math.log(1 + chi2)), 1e-13, "renyi 2 = log(1 + chi2)" .. w)
      -- renyi 1/2 = -2 log(1 - H^2) = -2 log(sum sqrt(p q)): the Bhattacharyya
      -- coefficient as a plain sum of positive terms where H^2 is not small
      local bc = 0
      for i = 1, #p do bc = bc + math.sqrt(p[i] * q[i]) end
      local r12 = hel < 0.5 and -2 * H.log1p(-hel) or -2 * math.log(bc)
      agree(ab.divergence(p, q, "renyi", { alpha = 0.5 }), r12, 1e-12, "renyi 1/2 from hellinger" .. w)
      -- order inf: log max p/q, by logarithms; the library divides each law by
      -- its exact sum, which differs from 1 by an ulp here: hence the
      -- absolute slack of a few ulps of 1
      local m = 0
      for i = 1, #p do
        if p[i] > 0 then
          local l = q[i] == 0 and math.huge or math.abs(p[i] - q[i]) < 0.5 * q[i] and H.log1p((p[i] - q[i]) / q[i])
            or math.log(p[i]) - math.log(q[i])
          m = math.max(m, l)
        end
      end
      agree(ab.divergence(p, q, "renyi", { alpha = math.huge }), m, 1e-13, "renyi inf" .. w, 1e-15)
    end
  end)

  it("takes a user f that agrees with the named family on well-conditioned laws", function()
    local fkl = ab.fdiv(function(t) return t * math.log(t) end)
    local fchi = ab.fdiv(function(t) return (t - 1) ^ 2 end)
    math.randomseed(10)
    for _ = 1, 30 do
      local n = math.random(2, 10)
      local p, q = random_law(n), random_law(n)
      H.close(ab.divergence(p, q, fkl), ab.divergence(p, q, "kl"), 1e-12, "user kl")
      H.close(ab.divergence(p, q, fchi), ab.divergence(p, q, "chi2"), 1e-12, "user chi2")
    end
    -- and stays a number on the extreme laws
    for k, pq in ipairs(pairs_) do
      local d = ab.divergence(pq[1], pq[2], fchi)
      assert(d == d and d >= 0, "user chi2 on pair " .. k .. ": " .. d)
    end
  end)

  it("the reverse KL generator -log t is -inf at t = inf (found by the fuzzer: it was NaN)", function()
    assert.are.equal(-math.huge, ab.generator("reverse_kl", math.huge))
    assert.are.equal(math.huge, ab.generator("reverse_kl", 0))
    H.close(ab.generator("reverse_kl", 2), -math.log(2), 1e-15, "-log 2")
  end)

  it("the alpha generator near order 1 overflows to +inf at the largest t (found by the fuzzer: NaN)", function()
    local big = 1.7976931348623157e308
    for _, a in ipairs { 1 - 2 ^ -53, 1 - 1e-12, 1 + 1e-15 } do
      assert.are.equal(math.huge, ab.generator("alpha", big, { alpha = a }))
      -- below the overflow the two forms agree: t (log t - 1) + 1 for a -> 1
      local t = 1e300
      H.close(ab.generator("alpha", t, { alpha = a }), t * (math.log(t) - 1) + 1, 1e-9, "alpha=" .. a)
    end
  end)
end)
