-- Goodhart fits: gold = alpha d - beta d^2 ("bon") or alpha d - beta d log d
-- ("rl") in d = sqrt(KL), by least squares (DESIGN 3.4).
local ab = require "alignbound"
local H = require "helper"

local function regressor(form, d)
  if form == "bon" then return -d * d end
  return d == 0 and 0 or -d * math.log(d)
end

-- the weighted least-squares solution by the 2x2 normal equations, written
-- out: an independent route to the estimates and their errors
local function normal_equations(kl, gold, form, se)
  local a11, a12, a22, b1, b2, sw, swy = 0, 0, 0, 0, 0, 0, 0
  for i = 1, #kl do
    local d = math.sqrt(kl[i])
    local x1, x2, w = d, regressor(form, d), se and 1 / se[i] ^ 2 or 1
    a11, a12, a22 = a11 + w * x1 * x1, a12 + w * x1 * x2, a22 + w * x2 * x2
    b1, b2 = b1 + w * x1 * gold[i], b2 + w * x2 * gold[i]
    sw, swy = sw + w, swy + w * gold[i]
  end
  local det = a11 * a22 - a12 * a12
  local alpha, beta = (a22 * b1 - a12 * b2) / det, (a11 * b2 - a12 * b1) / det
  local rss, tot, mean = 0, 0, swy / sw
  for i = 1, #kl do
    local d = math.sqrt(kl[i])
    local w = se and 1 / se[i] ^ 2 or 1
    rss = rss + w * (gold[i] - alpha * d - beta * regressor(form, d)) ^ 2
    tot = tot + w * (gold[i] - mean) ^ 2
  end
  local s2 = se and 1 or rss / (#kl - 2)
  return alpha, beta, math.sqrt(s2 * a22 / det), math.sqrt(s2 * a11 / det), 1 - rss / tot
end

-- a fixed pseudo-random noise in [-1, 1] (no dependence on math.random)
local function noise(i) return math.sin(12.9898 * i + 78.233 * i * i) end

describe("goodhart.fit", function()
  local kl = {}
  for i = 1, 12 do kl[i] = 0.25 * i * i end

  it("is exact on noiseless data, with its peak", function()
    local g = {}
    for i, k in ipairs(kl) do local d = math.sqrt(k); g[i] = 1.2 * d - 0.15 * d * d end
    local f = ab.goodhart.fit(kl, g, "bon")
    H.close(f.alpha, 1.2, 1e-13, "alpha")
    H.close(f.beta, 0.15, 1e-13, "beta")
    H.close(f.r2, 1, 1e-15, "r2")
    H.close(f.peak_kl, (1.2 / 0.3) ^ 2, 1e-12, "peak kl = (alpha / 2 beta)^2")
    H.close(f.peak_gain, 1.2 ^ 2 / (4 * 0.15), 1e-12, "peak gain = alpha^2 / 4 beta")
    assert(f.alpha_se < 1e-12 and f.beta_se < 1e-12)
    assert.are.equal("bon", f.form)
    for i, k in ipairs(kl) do local d = math.sqrt(k); g[i] = 0.8 * d - 0.4 * d * math.log(d) end
    f = ab.goodhart.fit(kl, g, "rl")
    H.close(f.alpha, 0.8, 1e-12, "rl alpha")
    H.close(f.beta, 0.4, 1e-12, "rl beta")
    local ds = math.exp(0.8 / 0.4 - 1)
    H.close(f.peak_kl, ds * ds, 1e-11, "rl peak kl")
    H.close(f.peak_gain, 0.4 * ds, 1e-11, "rl peak gain = beta d*")
  end)

  it("agrees with the normal equations, weighted or not", function()
    for _, form in ipairs { "bon", "rl" } do
      local g, se = {}, {}
      for i, k in ipairs(kl) do
        local d = math.sqrt(k)
        g[i] = 1.0 * d - 0.2 * regressor(form, d) * -1 + 0.05 * noise(i)
        se[i] = 0.02 + 0.01 * i
      end
      for _, w in ipairs { false, true } do
        local f = ab.goodhart.fit(kl, g, form, w and { se = se } or nil)
        local a, b, sa, sb, r2 = normal_equations(kl, g, form, w and se or nil)
        H.close(f.alpha, a, 1e-10, form .. " alpha")
        H.close(f.beta, b, 1e-10, form .. " beta")
        H.close(f.alpha_se, sa, 1e-9, form .. " alpha_se")
        H.close(f.beta_se, sb, 1e-9, form .. " beta_se")
        H.close(f.r2, r2, 1e-10, form .. " r2")
      end
    end
  end)

  it("recovers known alpha, beta from noisy data within its standard errors", function()
    local rng = ab.rng(17)
    local hits, runs = 0, 200
    for _ = 1, runs do
      local e = ab.tail.gaussian { sd = 0.05 }:sample(#kl, rng)
      local g = {}
      for i, k in ipairs(kl) do local d = math.sqrt(k); g[i] = 1.5 * d - 0.25 * d * d + e[i] end
      local f = ab.goodhart.fit(kl, g, "bon", { se = ab.vector(#kl, 0.05) })
      if math.abs(f.alpha - 1.5) < 2 * f.alpha_se then hits = hits + 1 end
    end
    -- 2 standard errors cover about 95% of the runs
    assert(hits > 0.9 * runs and hits < 0.99 * runs, hits .. " of " .. runs)
  end)

  it("has no peak when beta <= 0", function()
    local g = {}
    for i, k in ipairs(kl) do local d = math.sqrt(k); g[i] = d + 0.1 * d * d end
    local f = ab.goodhart.fit(kl, g, "bon")
    assert.are.equal(math.huge, f.peak_kl)
    assert.is_nil(f.peak_gain)
    H.close(f.beta, -0.1, 1e-12, "negative beta")
    -- alpha <= 0 < beta: the best is not to move (d* = 0)
    for i, k in ipairs(kl) do local d = math.sqrt(k); g[i] = -d - 0.1 * d * d end
    f = ab.goodhart.fit(kl, g, "bon")
    assert.are.equal(0, f.peak_kl)
    assert.are.equal(0, f.peak_gain)
  end)

  it("accepts vectors and a zero KL", function()
    local k, g = ab.vector { 0, 1, 4, 9 }, ab.vector { 0, 0.9, 1.6, 2.1 }
    local f = ab.goodhart.fit(k, g, "rl")
    assert(f.r2 > 0.9 and f.r2 <= 1)
  end)

  it("rejects bad input, naming goodhart.fit", function()
    H.raises(function() ab.goodhart.fit({ 1, 2, 3 }, { 1, 2, 3 }, "exp") end,
      "'goodhart.fit'", "form must be \"bon\" or \"rl\", got exp")
    H.raises(function() ab.goodhart.fit({ 1, 2, 3 }, { 1, 2, 3 }) end, "form must be", "got nil")
    H.raises(function() ab.goodhart.fit({ 1, 2, 3 }, { 1, 2 }, "bon") end,
      "'goodhart.fit'", "kl and gold differ in length (3 and 2)")
    H.raises(function() ab.goodhart.fit({ 1, 2 }, { 1, 2 }, "bon") end, "needs at least 3 points")
    H.raises(function() ab.goodhart.fit({ 1, -2, 3 }, { 1, 2, 3 }, "bon") end, "kl[2] must be >= 0")
    H.raises(function() ab.goodhart.fit({ 1, 2, 3 }, { 1, 0 / 0, 3 }, "bon") end, "gold[2] must be finite")
    H.raises(function() ab.goodhart.fit({ 1, 1, 0 }, { 1, 2, 3 }, "bon") end, "two distinct positive kl")
    H.raises(function() ab.goodhart.fit({ 1, 2, 3 }, { 1, 2, 3 }, "bon", { se = { 1, 0, 1 } }) end,
      "se[2] must be positive")
    H.raises(function() ab.goodhart.fit({ 1, 2, 3 }, { 1, 2, 3 }, "bon", { se = { 1, 1 } }) end,
      "se and kl differ in length")
    H.raises(function() ab.goodhart.fit({ 1, 2, 3 }, { 1, 2, 3 }, "bon", { weights = { 1, 1, 1 } }) end,
      "unknown option 'weights'")
    H.raises(function() ab.goodhart.fit("x", { 1, 2, 3 }, "bon") end, "kl must be a table")
  end)
end)
