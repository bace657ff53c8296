-- GRPO on a verifiable (binary) reward (issue 12, DESIGN 3.8): the step
-- against the closed-form recurrence written out here, fixed points against
-- bisection of h(x) - x on a fine grid, limits and cycles against plain
-- iteration, binary best-of-n against enumeration of the n draws and against
-- ab.bon.policy, and extreme values against mpmath.
local ab = require "alignbound"
local H = require "helper"

local exp, log, sqrt = math.exp, math.log, math.sqrt

-- log-odds and back, in plain Lua (moderate arguments only)
local function logit(p) return log(p) - H.log1p(-p) end
local function sigmoid(x) return 1 / (1 + exp(-x)) end

-- The recurrence of DESIGN 3.8 in log-odds, written out independently of
-- the core: Omega(p) = (p (1-p) + eps)^(-1/2).
local function omega(x, eps)
  local e = exp(-math.abs(x)) -- p (1-p) = e^-|x| / (1 + e^-|x|)^2, no 1 - p
  return 1 / sqrt(e / (1 + e) ^ 2 + eps)
end
local function lua_step(x, o)
  local xr = o.p_ref and logit(o.p_ref)
  local eps, beta, v = o.eps or 1e-5, o.beta, o.variant or "grpo"
  if v == "grpo" then return xr + omega(x, eps) / beta end
  if v == "dr_grpo" then return xr + 1 / beta end
  if v == "mirror" then return x + omega(x, eps) / beta end
  local a = o.alpha or 0.5
  return a * xr + (1 - a) * x + omega(x, eps) / beta
end

-- seeded uniforms
local function uniform(a, b) return a + (b - a) * math.random() end
local function loguniform(a, b) return 10 ^ uniform(a, b) end

describe("grpo.step", function()
  it("is the closed-form recurrence of each variant", function()
    math.randomseed(12)
    for _, v in ipairs { "grpo", "dr_grpo", "mirror", "two_kl" } do
      for _ = 1, 200 do
        local o = { p_ref = uniform(0.001, 0.999), beta = loguniform(-1, 1.5), eps = loguniform(-8, -1),
          variant = v, alpha = v == "two_kl" and uniform(0, 1) or nil }
        local p = uniform(0.001, 0.999)
        local want = lua_step(logit(p), o)
        local pn, xn = ab.grpo.step(p, o)
        H.close(xn, want, 1e-13, v .. " log-odds")
        H.close(pn, sigmoid(want), 1e-13, v .. " p")
      end
    end
  end)

  it("maps over tables and vectors, and takes log-odds with logit=true", function()
    local o = { p_ref = 0.2, beta = 2, eps = 1e-3 }
    local ps = { 0.1, 0.5, 0.9 }
    local t, tx = ab.grpo.step(ps, o)
    local v, vx = ab.grpo.step(ab.vector(ps), o)
    assert.are.equal("table", type(t))
    assert.are.equal("userdata", type(v))
    for i, p in ipairs(ps) do
      local want = lua_step(logit(p), o)
      H.close(t[i], sigmoid(want), 1e-13, "table")
      H.close(v[i], sigmoid(want), 1e-13, "vector")
      H.close(tx[i], want, 1e-13, "table logit")
      H.close(vx[i], want, 1e-13, "vector logit")
    end
    local lx = select(2, ab.grpo.step({ logit(0.1), 3 }, { p_ref = 0.2, beta = 2, eps = 1e-3, logit = true }))
    H.close(lx[1], tx[1], 1e-13, "from log-odds")
    H.close(lx[2], lua_step(3, o), 1e-13, "from log-odds 3")
  end)

  it("keeps success probabilities within e^-700 of 1 in log-odds", function()
    -- mpmath (40 digits): logit(1/2) + (u + 1e-3)^(-1/2) / 2 at x = 705,
    -- u = e^-705 / (1 + e^-705)^2
    local _, x = ab.grpo.step(705, { p_ref = 0.5, beta = 2, eps = 1e-3, logit = true })
    H.close(x, 15.81138830084189649542415, 1e-14, "grpo from 705")
    -- mirror, eps = 0: 705 + e^{352.5} (1 + e^-705) / 1000 (mpmath)
    local _, y = ab.grpo.step(705, { beta = 1000, eps = 0, variant = "mirror", logit = true })
    H.close(y, 1.226887864909908571319331e+150, 1e-13, "mirror from 705")
    -- a previous policy within e^-745 of 1 steps to the same place as p = 1
    local p, z = ab.grpo.step(1, { p_ref = 0.5, beta = 2, eps = 1e-3 })
    H.close(z, 0.5 / sqrt(1e-3), 1e-14, "from p = 1")
    assert.are.equal(sigmoid(z), p)
  end)

  it("keeps p_ref = 0 and 1 absorbing", function()
    for _, v in ipairs { "grpo", "dr_grpo", "two_kl" } do
      assert.are.equal(0, (ab.grpo.step(0.7, { p_ref = 0, beta = 1, variant = v })))
      assert.are.equal(1, (ab.grpo.step(0.7, { p_ref = 1, beta = 1, variant = v })))
    end
    -- mirror and two_kl keep the previous policy's support
    assert.are.equal(0, (ab.grpo.step(0, { beta = 1, variant = "mirror", eps = 0 })))
    assert.are.equal(1, (ab.grpo.step(1, { beta = 1, variant = "mirror" })))
    assert.are.equal(0, (ab.grpo.step(0, { p_ref = 0.5, beta = 1, variant = "two_kl", eps = 0 })))
  end)
end)

describe("grpo.trajectory", function()
  it("is the step iterated from p_ref, each step the closed form of the one before", function()
    for _, v in ipairs { "grpo", "dr_grpo", "mirror", "two_kl" } do
      local o = { beta = 3, eps = 1e-4, variant = v, alpha = v == "two_kl" and 0.3 or nil, steps = 40 }
      local p, x = ab.grpo.trajectory(0.05, o)
      assert.are.equal(40, #p)
      assert.are.equal(40, #x)
      o.p_ref = 0.05
      local prev = logit(0.05)
      for n = 1, 40 do
        if x[n] > 30 then break end -- beyond, p rounds to 1 and logit(p) is not the log-odds
        H.close(x[n], lua_step(prev, o), 1e-12, v .. " step " .. n)
        H.close(p[n], sigmoid(x[n]), 1e-15, v .. " p " .. n)
        prev = x[n]
      end
    end
  end)

  it("stays at p_ref = 0 and 1", function()
    for _, pr in ipairs { 0, 1 } do
      local p = ab.grpo.trajectory(pr, { beta = 1, steps = 5 })
      for n = 1, 5 do assert.are.equal(pr, p[n]) end
    end
  end)
end)

-- Every root of h(x) - x on a fine grid in log-odds, by bisection of each
-- sign change: the independent count.  Grid: 2 x 10^4 points uniform in
-- log-odds over [xr, xr + eps^(-1/2) / b + 1], the interval every fixed
-- point lies in.
local function grid_roots(o)
  local xr = logit(o.p_ref)
  local b = o.beta * (o.variant == "two_kl" and o.alpha or 1)
  local g = function(x) return xr + omega(x, o.eps) / b - x end
  local hi = xr + 1 / sqrt(o.eps) / b + 1
  local N, roots = 20000, {}
  local x0, g0 = xr, g(xr)
  for i = 1, N do
    local x1 = xr + (hi - xr) * i / N
    local g1 = g(x1)
    if (g0 > 0) ~= (g1 > 0) then
      -- g decreasing through the root or increasing: bisect on the sign
      local sgn = g0 > 0 and -1 or 1
      roots[#roots + 1] = H.bisect(function(x) return sgn * g(x) end, x0, x1)
    end
    x0, g0 = x1, g1
  end
  return roots
end

describe("grpo.fixed_points", function()
  it("finds every sign change of h(x) - x that bisection on a fine grid finds, and no other", function()
    math.randomseed(1212)
    local cases = {
      { p_ref = 0.001, beta = 5, eps = 1e-5 }, -- three fixed points (DESIGN 3.8's example)
      { p_ref = 0.3, beta = 1, eps = 1e-5 },
      { p_ref = 0.05, beta = 40, eps = 1e-3 },
    }
    for _ = 1, 40 do
      local v = math.random() < 0.7 and "grpo" or "two_kl"
      cases[#cases + 1] = { p_ref = loguniform(-4, -0.01), beta = loguniform(-0.5, 1.5), eps = loguniform(-6, -2),
        variant = v, alpha = v == "two_kl" and uniform(0.2, 1) or nil }
    end
    local total = 0
    for _, o in ipairs(cases) do
      local fp = ab.grpo.fixed_points(o.p_ref, { beta = o.beta, eps = o.eps, variant = o.variant, alpha = o.alpha })
      local want = grid_roots(o)
      local what = string.format("p_ref %.6g beta %.6g eps %.3g %s", o.p_ref, o.beta, o.eps, o.variant or "grpo")
      assert.are.equal(#want, #fp, what .. ": number of fixed points")
      for i, f in ipairs(fp) do
        total = total + 1
        assert(math.abs(f.logit - want[i]) <= 1e-9 * (1 + math.abs(want[i])),
          string.format("%s: fixed point %d at %.17g, bisection %.17g", what, i, f.logit, want[i]))
        -- every fixed point lies above the reference (DESIGN 3.8)
        assert(f.p > o.p_ref and f.gain > 0, what .. ": p* > p_ref")
        -- slope against a central difference of the map written here
        local ho = { p_ref = o.p_ref, beta = o.beta, eps = o.eps, variant = o.variant, alpha = o.alpha }
        local hstep = 1e-5 * (1 + math.abs(f.logit))
        local slope = (lua_step(f.logit + hstep, ho) - lua_step(f.logit - hstep, ho)) / (2 * hstep)
        assert(math.abs(f.slope - slope) <= 1e-6 * (1 + math.abs(slope)), what .. ": slope")
        assert.are.equal(math.abs(f.slope) < 1, f.attracting)
        if f.logit < 30 then
          H.close(f.kl, H.kl_bin(f.p, o.p_ref), 1e-10, what .. ": kl")
          H.close(f.gain, f.p - o.p_ref, 1e-10, what .. ": gain")
        end
      end
    end
    assert(total >= #cases, "the cases have fixed points")
  end)

  it("gives the fixed points of DESIGN 3.8's example to mpmath's digits", function()
    -- mpmath findroot of logit(0.001) + (u + 1e-5)^(-1/2) / 5 = x, 40 digits
    local fp = ab.grpo.fixed_points(0.001, { beta = 5, eps = 1e-5 })
    assert.are.equal(3, #fp)
    local want = { -4.7447749710148471746, 8.7889063066672816836, 56.338798424719030554 }
    local kl = { 0.010981743676752351975, 6.9052109931259319816, 6.9077552789821370312 }
    for i = 1, 3 do
      H.close(fp[i].logit, want[i], 1e-14, "logit " .. i)
      H.close(fp[i].kl, kl[i], 1e-13, "kl " .. i)
    end
    H.close(fp[1].gain, 0.0076220328842755090969, 1e-13, "gain 1")
    assert.is_false(fp[1].attracting) -- slope -1.06: the two-cycle is born here
    assert.is_false(fp[2].attracting)
    assert.is_true(fp[3].attracting)
  end)

  it("finds fixed points far out in log-odds and far below", function()
    -- eps = 1e-7: x* = 3161.43..., 1 - p* = 1.0e-1373 (mpmath)
    local fp = ab.grpo.fixed_points(0.3, { beta = 1, eps = 1e-7 })
    assert.are.equal(1, #fp)
    H.close(fp[1].logit, 3161.4303623079921999, 1e-14, "logit far out")
    H.close(fp[1].kl, 1.2039728043259360296, 1e-14, "kl = -log 0.3 to 1e-1373")
    -- p_ref = 1e-300 (mpmath: x* = -58.31999586453786465, p* = 4.6983742908068166926e-26)
    fp = ab.grpo.fixed_points(1e-300, { beta = 0.5, eps = 1e-5 })
    assert.are.equal(1, #fp)
    H.close(fp[1].logit, -58.31999586453786465, 1e-14, "logit from 1e-300")
    H.close(fp[1].p, 4.6983742908068166926e-26, 1e-12, "p* from 1e-300")
    H.close(fp[1].kl, 2.9668144374947628482e-23, 1e-12, "kl from 1e-300")
  end)

  it("has dr_grpo's one point, none for mirror and for p_ref = 0 or 1", function()
    local fp = ab.grpo.fixed_points(0.2, { beta = 4, variant = "dr_grpo" })
    assert.are.equal(1, #fp)
    H.close(fp[1].logit, logit(0.2) + 0.25, 1e-15, "dr_grpo")
    assert.are.equal(0, fp[1].slope)
    assert.are.equal(0, #ab.grpo.fixed_points(0.2, { beta = 4, variant = "mirror" }))
    assert.are.equal(0, #ab.grpo.fixed_points(0, { beta = 4 }))
    assert.are.equal(0, #ab.grpo.fixed_points(1, { beta = 4 }))
  end)

  it("with eps = 0: two fixed points for a large beta, none for a small one", function()
    -- G(x) = xr + Omega(x)/beta - x -> +inf at both ends when eps = 0
    local o = { p_ref = 0.01, beta = 50, eps = 0 }
    local fp = ab.grpo.fixed_points(0.01, { beta = 50, eps = 0 })
    assert.are.equal(2, #fp)
    for _, f in ipairs(fp) do
      H.close(lua_step(f.logit, o), f.logit, 1e-13, "a fixed point of the map")
    end
    assert.are.equal(0, #ab.grpo.fixed_points(0.3, { beta = 1, eps = 0 }))
  end)
end)

-- Plain iteration of the Lua map: the last two iterates.
local function iterate(o, n)
  local x = logit(o.p_ref)
  local prev
  for _ = 1, n do prev, x = x, lua_step(x, o) end
  return x, prev
end

describe("grpo.limit", function()
  it("finds the documented two-cycle at p_ref = 0.001, beta = 5, eps = 1e-5", function()
    local l = ab.grpo.limit(0.001, { beta = 5, eps = 1e-5 })
    assert.are.equal("cycle", l.kind)
    assert.are.equal(2, #l.points)
    -- mpmath findroot of h(h(x)) = x (40 digits)
    H.close(l.points[1].logit, -6.0561007395973108865, 1e-13, "a")
    H.close(l.points[2].logit, -2.7745369597228063602, 1e-13, "b")
    H.close(l.points[1].p, 0.0023380418435693430641, 1e-12, "p(a)")
    H.close(l.points[2].p, 0.0587157611757188709, 1e-12, "p(b)")
    -- the same cycle by plain iteration
    local x, prev = iterate({ p_ref = 0.001, beta = 5, eps = 1e-5 }, 2000)
    local lo, hi = math.min(x, prev), math.max(x, prev)
    H.close(l.points[1].logit, lo, 1e-10, "iteration a")
    H.close(l.points[2].logit, hi, 1e-10, "iteration b")
    H.close(l.slope, l.points[1].slope * l.points[2].slope, 1e-15, "multiplier")
    assert.is_true(l.attracting)
    H.close(l.p, 0.5 * (l.points[1].p + l.points[2].p), 1e-15, "average p")
    H.close(l.kl, 0.5 * (H.kl_bin(l.points[1].p, 0.001) + H.kl_bin(l.points[2].p, 0.001)), 1e-12, "average kl")
  end)

  it("agrees with plain iteration on random parameters, cycles included", function()
    math.randomseed(2026)
    local kinds = {}
    for _ = 1, 60 do
      local o = { p_ref = loguniform(-4, -0.05), beta = loguniform(-0.3, 1.5), eps = loguniform(-6, -2) }
      local l = ab.grpo.limit(o.p_ref, { beta = o.beta, eps = o.eps })
      kinds[l.kind] = (kinds[l.kind] or 0) + 1
      local x, prev = iterate(o, 20000)
      local what = string.format("p_ref %.6g beta %.6g eps %.3g", o.p_ref, o.beta, o.eps)
      if l.kind == "fixed_point" then
        assert(math.abs(x - l.logit) <= 1e-8 * (1 + math.abs(x)), what .. ": fixed point " .. l.logit .. " vs " .. x)
        H.close(lua_step(l.logit, o), l.logit, 1e-12, what .. ": a fixed point")
      elseif l.kind == "cycle" then
        local lo, hi = math.min(x, prev), math.max(x, prev)
        assert(math.abs(l.points[1].logit - lo) <= 1e-8 * (1 + math.abs(lo)), what .. ": cycle a")
        assert(math.abs(l.points[2].logit - hi) <= 1e-8 * (1 + math.abs(hi)), what .. ": cycle b")
      elseif l.kind == "periodic" then
        -- the plain iteration repeats itself after `period` steps
        local y = x
        for _ = 1, l.period do y = lua_step(y, o) end
        assert(math.abs(y - x) <= 1e-6 * (1 + math.abs(x)), what .. ": period " .. l.period)
        assert(l.p_min < l.p and l.p < l.p_max, what .. ": average inside the cycle")
      elseif l.kind == "irregular" then
        -- chaos: the plain iteration wanders over a wide range too
        local lo, hi = math.huge, -math.huge
        local y = x
        for _ = 1, 1000 do
          y = lua_step(y, o)
          lo, hi = math.min(lo, sigmoid(y)), math.max(hi, sigmoid(y))
        end
        assert(hi - lo > 0.1 * (l.p_max - l.p_min), what .. ": irregular, plain iteration " .. lo .. " .. " .. hi)
        assert(l.p_max - l.p_min > 1e-3, what .. ": irregular but narrow")
      else
        error(what .. ": unexpected kind " .. l.kind)
      end
    end
    assert(kinds.cycle and kinds.fixed_point, "both kinds met")
  end)

  it("goes to certainty for mirror, and for grpo with eps = 0 and no fixed point", function()
    local l = ab.grpo.limit(0.2, { beta = 2, variant = "mirror" })
    assert.are.equal("certainty", l.kind)
    assert.are.equal(1, l.p)
    H.close(l.kl, -log(0.2), 1e-15, "kl_bin(1 || 0.2)")
    H.close(l.gain, 0.8, 1e-15, "gain")
    local p = ab.grpo.trajectory(0.2, { beta = 2, variant = "mirror", steps = 50 })
    for n = 2, 50 do assert(p[n] >= p[n - 1], "mirror climbs") end
    l = ab.grpo.limit(0.3, { beta = 1, eps = 0 })
    assert.are.equal("certainty", l.kind)
    local x = logit(0.3)
    for _ = 1, 20 do x = lua_step(x, { p_ref = 0.3, beta = 1, eps = 0 }) end
    assert(x > 700, "plain iteration climbs past p = 1 - e^-700")
  end)

  it("says p_ref = 0 and 1 are absorbing without iterating", function()
    for _, v in ipairs { "grpo", "dr_grpo", "mirror", "two_kl" } do
      for _, pr in ipairs { 0, 1 } do
        local l = ab.grpo.limit(pr, { beta = 1, variant = v })
        assert.are.equal("absorbing", l.kind)
        assert.are.equal(pr, l.p)
        assert.are.equal(0, l.kl)
        assert.are.equal(0, l.steps)
      end
    end
  end)

  it("gives dr_grpo's fixed point in one step and two_kl's by iteration", function()
    local l = ab.grpo.limit(0.1, { beta = 2, variant = "dr_grpo" })
    assert.are.equal("fixed_point", l.kind)
    H.close(l.logit, logit(0.1) + 0.5, 1e-15, "dr_grpo")
    H.close(l.kl, H.kl_bin(sigmoid(logit(0.1) + 0.5), 0.1), 1e-13, "dr_grpo kl")
    local o = { p_ref = 0.1, beta = 2, eps = 1e-3, variant = "two_kl", alpha = 0.4 }
    l = ab.grpo.limit(0.1, { beta = 2, eps = 1e-3, variant = "two_kl", alpha = 0.4 })
    assert.are.equal("fixed_point", l.kind)
    local x = iterate(o, 5000)
    assert(math.abs(l.logit - x) <= 1e-9 * (1 + math.abs(x)), "two_kl against iteration")
    H.close(l.slope, 0.6 + (lua_step(l.logit + 1e-6, o) - lua_step(l.logit - 1e-6, o)) / 2e-6 - 0.6, 1e-6,
      "two_kl slope")
  end)
end)

-- h'(p) = dp_next/dp of the standard map (DESIGN 3.8), in plain Lua:
-- -h (1 - h) (1 - 2p) / (2 beta (p (1-p) + eps)^(3/2)) with h = p_next.
local function dp_slope(p, o)
  local h = sigmoid(lua_step(logit(p), o))
  return -h * (1 - h) * (1 - 2 * p) / (2 * o.beta * (p * (1 - p) + o.eps) ^ 1.5)
end

-- Plain iteration in log-odds until the orbit repeats: "certainty" when it
-- climbs past any double (eps = 0), period 1 when a step moves less than
-- 1e-12 (1 + |x| + |logit p_ref|) (the rounding of a step), period k when
-- lag k does (looked at every 32 steps) and every shorter lag moves more
-- than 1e-6 (1 + |x|); nil after maxn steps.  Returns the period, the iterates and their count.
local function settle(o, maxn)
  local h, x, xr = {}, logit(o.p_ref), math.abs(logit(o.p_ref))
  for n = 1, maxn do
    x = lua_step(x, o)
    h[n] = x
    if x ~= x or x == math.huge or (o.eps == 0 and x > 700) then return "certainty", h, n end
    local tiny = 1e-12 * (1 + math.abs(x) + xr)
    if n > 1 and math.abs(x - h[n - 1]) <= tiny then return 1, h, n end
    if n > 128 and n % 32 == 0 then
      local near = math.abs(x - h[n - 1])
      for k = 2, 64 do
        local d = math.abs(x - h[n - k])
        if d <= tiny and near > 1e-6 * (1 + math.abs(x)) then return k, h, n end
        near = math.min(near, d)
      end
    end
  end
  return nil, h, maxn
end

describe("grpo.limit tells slow fixed points from cycles (in log-odds)", function()
  it("converges to an attracting fixed point of slope -0.96, not a period-4 cycle", function()
    -- was periodic, period 4, p_max - p_min ~ 6e-12
    local o = { p_ref = 0.00046255487944387824, beta = 6.698585817421249, eps = 0.0005411529495100676 }
    local l = ab.grpo.limit(o.p_ref, { beta = o.beta, eps = o.eps })
    assert.are.equal("fixed_point", l.kind)
    assert.are.equal(1, l.period)
    local x = iterate(o, 3000)
    H.close(l.logit, x, 1e-12, "plain iteration")
    H.close(lua_step(l.logit, o), l.logit, 1e-14, "h(x*) = x*")
    H.close(l.slope, dp_slope(l.p, o), 1e-12, "slope h'(p*)")
    assert(l.slope > -0.96 and l.slope < -0.959, "slope " .. l.slope)
    local fp = ab.grpo.fixed_points(o.p_ref, { beta = o.beta, eps = o.eps })
    local found
    for _, f in ipairs(fp) do if math.abs(f.logit - l.logit) <= 1e-13 * math.abs(l.logit) then found = f end end
    assert(found and found.attracting, "an attracting fixed point of fixed_points")
    -- steps: the plain iteration is within 1e-12 (1 + |x*|) after l.steps, not yet after 0.8 l.steps
    local y = logit(o.p_ref)
    for n = 1, l.steps do
      y = lua_step(y, o)
      if n == math.floor(0.8 * l.steps) then
        assert(math.abs(y - l.logit) > 1e-12 * (1 + math.abs(l.logit)), "steps overestimated")
      end
    end
    assert(math.abs(y - l.logit) <= 2e-12 * (1 + math.abs(l.logit)), "steps underestimated")
  end)

  it("keeps distinct log-odds apart where p rounds to 1 (two_kl, small alpha)", function()
    -- was periodic, period 3, p_min = p_max = 1, logit = 0
    local o = { p_ref = 0.23957219943261943, beta = 0.26410071785866812, eps = 1e-5, variant = "two_kl",
      alpha = 0.011554051456020079 }
    local l = ab.grpo.limit(o.p_ref, { beta = o.beta, eps = o.eps, variant = o.variant, alpha = o.alpha })
    assert.are.equal("fixed_point", l.kind)
    assert.are.equal(1, l.p)
    -- there Omega = eps^(-1/2) in doubles (u = e^-103631), so alpha x* = alpha logit p_ref + eps^(-1/2)/beta
    -- and h' = 1 - alpha
    H.close(l.logit, logit(o.p_ref) + 1 / sqrt(o.eps) / (o.alpha * o.beta), 1e-13, "x*")
    H.close(l.slope, 1 - o.alpha, 1e-13, "slope 1 - alpha")
    H.close(l.logit, iterate(o, 6000), 1e-12, "plain iteration in log-odds")
  end)

  it("gives a longer cycle's points in orbit order, their slopes h'(p) and its multiplier", function()
    local o = { p_ref = 0.00045875747711638965, beta = 3.3037811854702968, eps = 3.4071873620309489e-05 }
    local l = ab.grpo.limit(o.p_ref, { beta = o.beta, eps = o.eps })
    assert.are.equal("periodic", l.kind)
    assert.are.equal(4, l.period)
    assert.are.equal(4, #l.points)
    assert.is_nil(l.logit) -- a cycle has its points' log-odds, no single one
    local x = iterate(o, 2000)
    local mult, sum, lo, hi = 1, 0, math.huge, -math.huge
    for i, pt in ipairs(l.points) do
      local nxt = l.points[i % 4 + 1]
      H.close(lua_step(pt.logit, o), nxt.logit, 1e-13, "h maps point " .. i .. " to the next")
      assert(pt.logit >= l.points[1].logit, "starts at the lowest")
      H.close(pt.p, sigmoid(pt.logit), 1e-14, "p of point " .. i)
      H.close(pt.slope, dp_slope(pt.p, o), 1e-12, "h'(p) at point " .. i)
      assert.is_nil(pt.attracting)
      mult, sum = mult * pt.slope, sum + pt.p
      lo, hi = math.min(lo, pt.p), math.max(hi, pt.p)
      H.close(pt.kl, H.kl_bin(pt.p, o.p_ref), 1e-12, "kl of point " .. i)
      -- the plain iteration goes round the same four points
      local y = x
      for _ = 1, i - 1 do y = lua_step(y, o) end
      local m = math.huge
      for _, q in ipairs(l.points) do m = math.min(m, math.abs(q.logit - y)) end
      assert(m <= 1e-12 * (1 + math.abs(y)), "plain iteration meets the cycle")
    end
    H.close(l.slope, mult, 1e-13, "multiplier = product of h'(p)")
    assert(math.abs(l.slope) < 1 and l.attracting)
    H.close(l.p, sum / 4, 1e-15, "average p")
    assert.are.equal(lo, l.p_min)
    assert.are.equal(hi, l.p_max)
  end)

  it("gives a two-cycle's slopes as h'(p), their product the multiplier", function()
    local o = { p_ref = 0.001, beta = 5, eps = 1e-5 }
    local l = ab.grpo.limit(0.001, { beta = 5, eps = 1e-5 })
    assert.are.equal("cycle", l.kind)
    -- was -2.0477 and -0.3753 (d logit h / d logit p)
    H.close(l.points[1].slope, dp_slope(l.points[1].p, o), 1e-12, "h'(a)")
    H.close(l.points[2].slope, dp_slope(l.points[2].p, o), 1e-12, "h'(b)")
    H.close(l.slope, dp_slope(l.points[1].p, o) * dp_slope(l.points[2].p, o), 1e-12, "multiplier")
    assert.is_nil(l.points[1].attracting)
    assert.is_nil(l.points[2].attracting)
  end)

  it("agrees with long plain iteration in log-odds and with fixed_points on a random sweep", function()
    math.randomseed(4242)
    local cases = {}
    for _ = 1, 120 do
      cases[#cases + 1] = { p_ref = loguniform(-4, -0.05), beta = loguniform(-0.3, 1.5), eps = loguniform(-6, -2) }
    end
    -- an attracting fixed point x* of slope s in (-0.995, -0.9) by construction (then 40 just past the
    -- flip, s in (-1.05, -1.003)): h'(x*) = Omega'(x*)/beta with Omega' = -(1 - 2p) u (u + eps)^(-3/2) / 2,
    -- u = p (1-p), then logit p_ref = x* - Omega(x*)/beta
    for i = 1, 160 do
      local xs, eps = uniform(-9, -0.5), loguniform(-6, -2)
      local s = i <= 120 and uniform(-0.995, -0.9) or uniform(-1.05, -1.003)
      local p = sigmoid(xs)
      local u = p * (1 - p)
      local beta = -0.5 * (1 - 2 * p) * u * (u + eps) ^ -1.5 / s
      cases[#cases + 1] = { p_ref = sigmoid(xs - omega(xs, eps) / beta), beta = beta, eps = eps }
    end
    -- two_kl with a small alpha (slope about 1 - alpha, p* rounding to 1), and with any alpha
    for _ = 1, 60 do
      cases[#cases + 1] = { p_ref = uniform(0.01, 0.9), beta = loguniform(-1, 0.5), eps = loguniform(-6, -3),
        variant = "two_kl", alpha = loguniform(-2.5, -1) }
    end
    for _ = 1, 30 do
      cases[#cases + 1] = { p_ref = loguniform(-4, -0.05), beta = loguniform(-0.5, 1.5), eps = loguniform(-6, -2),
        variant = "two_kl", alpha = uniform(0.05, 1) }
    end
    local kinds = {}
    for _, o in ipairs(cases) do
      local opts = { beta = o.beta, eps = o.eps, variant = o.variant, alpha = o.alpha }
      local l = ab.grpo.limit(o.p_ref, opts)
      local k, h, n = settle(o, math.min(300000, math.max(60000, l.steps + 1000)))
      local x = h[n]
      local what = string.format("limit(%.17g, {beta=%.17g, eps=%.17g, variant=%s, alpha=%s})", o.p_ref, o.beta,
        o.eps, tostring(o.variant), tostring(o.alpha))
      kinds[l.kind] = (kinds[l.kind] or 0) + 1
      if k == 1 then
        assert(l.kind == "fixed_point", what .. ": plain iteration settles, got " .. l.kind)
        assert(math.abs(l.logit - x) <= 1e-9 * (1 + math.abs(x)), what .. ": " .. l.logit .. " vs " .. x)
        local found
        for _, f in ipairs(ab.grpo.fixed_points(o.p_ref, opts)) do
          if math.abs(f.logit - x) <= 1e-9 * (1 + math.abs(x)) then found = f end
        end
        assert(found and found.attracting and l.attracting, what .. ": not an attracting fixed point")
      elseif k then
        assert(l.kind == (k == 2 and "cycle" or "periodic") and l.period == k and #l.points == k,
          what .. ": plain iteration has period " .. k .. ", got " .. l.kind .. " " .. l.period)
        for j = 0, k - 1 do
          local y, m = h[n - j], math.huge
          for _, pt in ipairs(l.points) do m = math.min(m, math.abs(pt.logit - y)) end
          assert(m <= 1e-8 * (1 + math.abs(y)), what .. ": cycle point " .. y)
        end
      else
        assert(l.kind == "irregular", what .. ": plain iteration unsettled, got " .. l.kind)
      end
    end
    assert(kinds.fixed_point and kinds.cycle and kinds.periodic, "fixed points, two-cycles and longer cycles met")
  end)
end)

-- Best-of-n of a binary reward by enumerating the 2^n outcomes of the n
-- draws and an independent reference draw: P(best succeeds) and P(best
-- beats the reference) + P(tie) / 2.
local function enumerate(p, n)
  local pass, win = 0, 0
  for mask = 0, 2 ^ n - 1 do
    local k, best = 0, 0
    for i = 0, n - 1 do
      if (mask >> i) & 1 == 1 then k, best = k + 1, 1 end
    end
    local pr = p ^ k * (1 - p) ^ (n - k)
    pass = pass + pr * best
    -- against a reference draw r: best > r, or a tie
    local beat = best == 1 and (1 - p) or 0
    local tie = best == 1 and p or (1 - p)
    win = win + pr * (beat + 0.5 * tie)
  end
  return pass, win
end

describe("bon.binary", function()
  it("matches enumeration of the n draws, bon.policy and the tilt at the same success rate", function()
    for _, p in ipairs { 0.01, 0.2, 0.5, 0.9 } do
      for n = 1, 8 do
        local b = ab.bon.binary(p, n)
        local pass, win = enumerate(p, n)
        H.close(b.pass, pass, 1e-13, "pass@" .. n)
        H.close(b.win_rate, win, 1e-13, "win rate")
        H.close(b.fail, (1 - p) ^ n, 1e-13, "fail")
        -- the law of the selected sample: q on a success, 1 - q on a failure
        local want_kl = H.kl_bin(pass, p)
        if n == 1 then assert.are.equal(0, b.kl) else H.close(b.kl, want_kl, 1e-12, "kl") end
        local law = ab.bon.policy({ 1 - p, p }, { 0, 1 }, n)
        H.close(b.pass, law.policy[2], 1e-13, "bon.policy pass")
        if n > 1 then H.close(b.kl, law.kl, 1e-12, "bon.policy kl") end
        H.close(b.win_rate, law.win_rate, 1e-13, "bon.policy win rate")
        -- the tilt logit q - logit p has the same success rate and KL: on the frontier
        if n > 1 then
          local t = ab.tilt.policy({ 1 - p, p }, { 0, 1 }, { beta = 1 / b.tilt })
          H.close(t.policy[2], b.pass, 1e-12, "tilt's success rate")
          H.close(t.kl, b.kl, 1e-11, "tilt's KL")
          H.close(ab.tail.bernoulli { p = p }:kl_needed(b.pass - p), b.kl, 1e-10, "frontier KL at that gain")
        end
      end
    end
  end)

  it("keeps its digits at p = 1e-300, n = 1e15 and near n = 1 (mpmath)", function()
    -- mpmath, 50 digits: q = -expm1(n log1p(-p)), kl = q log(q/p) +
    -- (1-q) (n-1) log1p(-p), tilt = log q - log(1-q) - log p + log1p(-p)
    local b = ab.bon.binary(1e-300, 1e15)
    H.close(b.pass, 1.0000000000000000251e-285, 1e-14, "pass")
    H.close(b.kl, 3.3538776394910687101e-284, 1e-13, "kl")
    H.close(b.tilt, 34.53877639491068526, 1e-14, "tilt")
    assert.are.equal(0.5, b.win_rate)
    b = ab.bon.binary(0.3, 1 + 1e-10)
    H.close(b.kl, 1.4841987612562915893e-21, 1e-9, "kl near n = 1") -- n itself is 1 + 1e-10 to 1e-6
    H.close(b.tilt, 1.1889165781176919207e-10, 1e-6, "tilt near n = 1")
    b = ab.bon.binary(1e-10, 1e15)
    H.close(b.kl, 23.025850929940456804, 1e-14, "kl at pass = 1")
    H.close(b.tilt, 100023.0258559298441, 1e-14, "tilt at pass = 1")
    H.close(b.win_rate, 0.99999999995, 1e-15, "win rate")
    b = ab.bon.binary(0.9, 2.5)
    H.close(b.pass, 0.99683772233983162242, 1e-15, "pass, real n")
    H.close(b.kl, 0.090947943971223583095, 1e-14, "kl, real n")
    H.close(b.tilt, 3.5560708669227378115, 1e-14, "tilt, real n")
    b = ab.bon.binary(1 - 1e-12, 3)
    H.close(b.kl, 9.9997787828037847384e-13, 1e-10, "kl near p = 1") -- p is 1 - 1e-12 to 1e-4
  end)

  it("maps over tables and vectors of p", function()
    local t = ab.bon.binary({ 0.1, 0.5 }, 4)
    local v = ab.bon.binary(ab.vector { 0.1, 0.5 }, 4)
    for i, p in ipairs { 0.1, 0.5 } do
      local b = ab.bon.binary(p, 4)
      for _, k in ipairs { "pass", "fail", "kl", "win_rate", "tilt" } do
        assert.are.equal(b[k], t[k][i])
        assert.are.equal(b[k], v[k][i])
      end
    end
    assert.are.equal("userdata", type(v.kl))
  end)
end)

describe("policy.grpo", function()
  it("runs in a scenario on a binary reference: the limit law, its exact KL and gain", function()
    local betas = { 0.5, 1, 2, 5 }
    local rows = ab.scenario { reference = ab.tail.bernoulli { p = 0.2 },
      policy = ab.policy.grpo { beta = betas, eps = 1e-5 }, divergences = { "kl" } }:run()
    for i, r in ipairs(rows) do
      local l = ab.grpo.limit(0.2, { beta = betas[i], eps = 1e-5 })
      H.close(r.kl, H.kl_bin(l.p, 0.2), 1e-10, "kl")
      H.close(r.proxy_exact, l.p - 0.2, 1e-12, "gain")
      -- on the frontier: the largest gain at that KL
      H.close(r.proxy_exact, ab.tail.bernoulli { p = 0.2 }:gain(r.kl), 1e-9, "frontier")
    end
  end)

  it("scales the gain by the reward range and averages a two-cycle", function()
    local ref = { values = { -1, 2, 2 }, probs = { 0.999, 0.0004, 0.0006 } }
    local r = ab.scenario { reference = ref, policy = ab.policy.grpo { beta = 5 } }:run()[1]
    local l = ab.grpo.limit(0.001, { beta = 5 })
    assert.are.equal("cycle", l.kind)
    H.close(r.proxy_exact, 3 * (l.p - 0.001), 1e-10, "gain of the average policy")
    H.close(r.kl, H.kl_bin(l.p, 0.001), 1e-10, "kl of the average policy")
    assert(r.kl < l.kl, "the average policy spends less than the cycle's average KL")
    local law = ab.policy.grpo { beta = 5 }:law(ref.probs, ref.values)
    H.close(law.policy[2] + law.policy[3], l.p, 1e-13, "law's success rate")
    H.close(law.policy[2] / law.policy[3], 0.0004 / 0.0006, 1e-13, "within the top reward, as the reference")
  end)

  it("has the family's methods", function()
    local fam = ab.policy.grpo { beta = 2 }
    local ref = ab.tail.bernoulli { p = 0.3 }
    local l = ab.grpo.limit(0.3, { beta = 2 })
    H.close(fam:kl { reference = ref }, l.kl, 1e-15, "kl")
    H.close(fam:win_rate { reference = ref }, 0.5 * (1 + l.p - 0.3), 1e-15, "win rate")
    H.close(fam:gain(ref), l.gain, 1e-15, "gain")
    H.close(fam:divergence("kl", { reference = ref }), l.kl, 1e-12, "divergence")
    local draws = fam:sample(ref, 20000, ab.rng(7))
    local m = ab.estimate.mean(draws)
    assert(math.abs(m - l.p) < 5 * sqrt(l.p * (1 - l.p) / 20000), "sample mean")
  end)

  it("refuses a reference that is not binary and bad options", function()
    H.raises(function()
      return ab.scenario { reference = ab.tail.gaussian { sd = 1 }, policy = ab.policy.grpo { beta = 1 } }
    end, "policy grpo needs a binary reference law")
    H.raises(function() return ab.scenario { reference = { values = { 0, 1, 2 }, probs = { 0.2, 0.3, 0.5 } },
      policy = ab.policy.grpo { beta = 1 } } end, "two values")
    H.raises(function() return ab.policy.grpo { beta = { 1, -1 } } end, "bad argument #1 to 'policy.grpo'", "beta[2]")
    H.raises(function() return ab.policy.grpo { beta = 1, variant = "ppo" } end, "'policy.grpo'", "variant")
    H.raises(function() return ab.policy.grpo { beta = 1, alpha = 0.5 } end, "'policy.grpo'", "two_kl")
    H.raises(function() return ab.policy.grpo { beta = 1, gamma = 0.5 } end, "unknown option 'gamma'")
  end)
end)

describe("bad input", function()
  local o = { p_ref = 0.2, beta = 1 }
  it("names the function and the field", function()
    H.raises(function() return ab.grpo.step(1.5, o) end, "bad argument #1 to 'grpo.step'", "p must lie in [0, 1]")
    H.raises(function() return ab.grpo.step({ 0.5, -0.1 }, o) end, "element 2: p must lie in [0, 1]")
    H.raises(function() return ab.grpo.step(0 / 0, o) end, "p must lie in [0, 1]")
    H.raises(function() return ab.grpo.step(0 / 0, { p_ref = 0.2, beta = 1, logit = true }) end, "NaN")
    H.raises(function() return ab.grpo.step(0.5, { p_ref = 1.2, beta = 1 }) end, "bad argument #2 to 'grpo.step'",
      "p_ref must lie in [0, 1]")
    H.raises(function() return ab.grpo.step(0.5, { beta = 1 }) end, "p_ref is required")
    for _, b in ipairs { 0, -1, math.huge, 0 / 0 } do
      H.raises(function() return ab.grpo.step(0.5, { p_ref = 0.2, beta = b }) end, "beta must be a finite number > 0")
    end
    H.raises(function() return ab.grpo.step(0.5, { p_ref = 0.2 }) end, "beta is required")
    H.raises(function() return ab.grpo.step(0.5, { p_ref = 0.2, beta = 1, eps = -1e-9 }) end,
      "eps must be a finite number >= 0")
    H.raises(function() return ab.grpo.step(0.5, { p_ref = 0.2, beta = 1, variant = "two_kl", alpha = 1.5 }) end,
      "alpha must lie in [0, 1]")
    H.raises(function() return ab.grpo.step(0.5, { p_ref = 0.2, beta = 1, variant = "grpo2" }) end,
      "variant must be \"grpo\", \"dr_grpo\", \"mirror\" or \"two_kl\", got grpo2")
    H.raises(function() return ab.grpo.step(0.5, { p_ref = 0.2, beta = 1, betta = 1 }) end, "unknown option 'betta'")
    H.raises(function() return ab.grpo.step(0, { p_ref = 1, beta = 1, variant = "two_kl" }) end,
      "grpo.step: the reference and the previous policy put all their mass on opposite outcomes")
    H.raises(function() return ab.grpo.trajectory(0.2, { beta = 1 }) end, "bad argument #2 to 'grpo.trajectory'",
      "steps is required")
    H.raises(function() return ab.grpo.trajectory(-0.2, { beta = 1, steps = 3 }) end,
      "bad argument #1 to 'grpo.trajectory'", "p_ref must lie in [0, 1]")
    H.raises(function() return ab.grpo.fixed_points(0.2, { beta = 1, p_ref = 0.2 }) end, "unknown option 'p_ref'")
    H.raises(function() return ab.grpo.limit(2, { beta = 1 }) end, "bad argument #1 to 'grpo.limit'", "p_ref")
    H.raises(function() return ab.grpo.limit(0.5, { beta = -2 }) end, "bad argument #2 to 'grpo.limit'", "beta")
    H.raises(function() return ab.bon.binary(0.5, 0.5) end, "bad argument #2 to 'bon.binary'", "n must be")
    H.raises(function() return ab.bon.binary(1.5, 2) end, "bad argument #1 to 'bon.binary'", "p must lie in [0, 1]")
    H.raises(function() return ab.bon.binary({ 0.5, 2 }, 2) end, "element 2")
  end)
end)

describe("the README's GRPO example", function()
  it("prints what the README says it prints", function()
    local text = assert(H.slurp("README.md"))
    local sec = text:match("\n## Verifiable rewards: GRPO and pass@n\n.-```lua\n(.-)```")
    assert.truthy(sec, "no GRPO example in the README")
    local out = {}
    local env = setmetatable({ print = function(...)
      local t = table.pack(...)
      for i = 1, t.n do t[i] = tostring(t[i]) end
      out[#out + 1] = table.concat(t, "\t")
    end, require = function() return ab end }, { __index = _G })
    assert(load(sec, "README example", "t", env))()
    local want = {}
    for line in sec:gmatch("%-%-> ([^\n]*)") do want[#want + 1] = line end
    assert.are.equal(#want, #out)
    for i = 1, #want do assert.are.equal(want[i], out[i]) end
  end)
end)

describe("extreme parameters", function()
  it("finds both fixed points with eps = 0 and a huge beta (Omega / beta through logarithms)", function()
    -- was "numerical solve did not converge": Omega overflowed before / beta
    local fp = ab.grpo.fixed_points(0.75, { beta = 2e237, eps = 0 })
    assert.are.equal(2, #fp)
    -- the far one: log(x - xr) = x/2 + log1p(e^-x) - log beta (u = e^-x (1 + e^-x)^-2)
    local xr, x = logit(0.75), fp[2].logit
    H.close(log(x - xr), x / 2 + H.log1p(exp(-x)) - log(2e237), 1e-13, "far fixed point")
    H.close(fp[1].gain, 0.75 * 0.25 * (1 / sqrt(0.1875)) / 2e237, 1e-12, "near one: gain p(1-p) Omega / beta")
  end)

  it("never returns NaN or a negative KL, and fails only where log-odds overflow", function()
    math.randomseed(99)
    local variants = { "grpo", "dr_grpo", "mirror", "two_kl" }
    for _ = 1, 400 do
      local v = variants[math.random(4)]
      local pr = ({ 0, 1, loguniform(-320, 0), 1 - loguniform(-16, 0), math.random() })[math.random(5)]
      local o = { beta = loguniform(-300, 300), eps = ({ 0, loguniform(-320, 300), loguniform(-8, 0) })[math.random(3)],
        variant = v, alpha = v == "two_kl" and ({ 0, 1, math.random() })[math.random(3)] or nil }
      local what = string.format("%s p_ref %.17g beta %.17g eps %.17g", v, pr, o.beta, o.eps)
      local ok, l = pcall(ab.grpo.limit, pr, o)
      if ok then
        assert(l.p == l.p and l.kl == l.kl and l.gain == l.gain, what .. ": NaN")
        assert(l.kl >= 0 and l.p >= 0 and l.p <= 1, what .. ": out of range")
      else
        assert(tostring(l):find("log-odds overflow a double", 1, true), what .. ": " .. tostring(l))
      end
      local ok2, fp = pcall(ab.grpo.fixed_points, pr, o)
      assert.are.equal(ok, ok2, what)
      for _, f in ipairs(ok2 and fp or {}) do
        assert(f.kl >= 0 and f.logit == f.logit and f.slope == f.slope, what .. ": fixed point")
      end
      local p, x = ab.grpo.step(math.random(), { p_ref = pr, beta = o.beta, eps = o.eps, variant = v, alpha = o.alpha })
      assert(p == p and x == x, what .. ": step")
    end
    for _ = 1, 2000 do
      local p = ({ loguniform(-320, 0), 1 - loguniform(-16, 0), math.random() })[math.random(3)]
      local n = 1 + loguniform(-15, 15)
      local b = ab.bon.binary(p, n)
      for k, v in pairs(b) do assert(v == v, k .. " NaN") end
      assert(b.kl >= 0 and b.pass >= p * (1 - 1e-15) and b.pass <= 1 and b.win_rate >= 0.5 and b.win_rate <= 1,
        string.format("bon.binary(%.17g, %.17g)", p, n))
    end
  end)
end)
