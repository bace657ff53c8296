-- Selection rules in quantile space (DESIGN 3.6): best-of-Poisson, top
-- fraction, win-rate tilt and soft best-of-n beside best-of-n, each checked
-- against a route the library does not take (enumeration, mixtures of
-- best-of-n laws, quadrature, bisection, KS at fixed seeds).
local ab = require "alignbound"
local helper = require "spec.helper"
local close, raises = helper.close, helper.raises

local P = ab.policy

-- q(u) and G(u) of each rule, written naively (moderate parameters only)
local Q = {
  best_of_poisson = function(mu, u) return (1 + mu * u) * math.exp(mu * (u - 1)) end,
  top_fraction = function(eps, u) return u >= 1 - eps and 1 / eps or 0 end,
  win_rate_tilt = function(c, u) return c * math.exp(c * u) / (math.exp(c) - 1) end,
}
local G = {
  best_of_poisson = function(mu, u) return u * math.exp(mu * (u - 1)) end,
  top_fraction = function(eps, u) return math.max(0, u - (1 - eps)) / eps end,
  win_rate_tilt = function(c, u) return (math.exp(c * u) - 1) / (math.exp(c) - 1) end,
}
local function family(name, v) return P[name] { [({ best_of_poisson = "mu", top_fraction = "eps",
  win_rate_tilt = "c" })[name]] = v } end
local CASES = { { "best_of_poisson", 3 }, { "top_fraction", 0.3 }, { "win_rate_tilt", 4 } }

local function poisson(mu, k)
  local lp = -mu
  for i = 1, k do lp = lp + math.log(mu / i) end
  return math.exp(lp)
end

describe("rule laws on a discrete reference", function()
  local probs = { 0.1, 0.2, 0.05, 0.3, 0.15, 0.2 }
  local rewards = { 1, 2, 2, 3, 5, 5 } -- ties
  -- F< and F<= of each outcome, and the mass of its tie group
  local function cdfs(i)
    local lt, le = 0, 0
    for j = 1, #probs do
      if rewards[j] < rewards[i] then lt = lt + probs[j] end
      if rewards[j] <= rewards[i] then le = le + probs[j] end
    end
    return lt, le, le - lt
  end

  for _, case in ipairs(CASES) do
    local name, v = case[1], case[2]
    it(name .. " is ref(y)/q(y) (G(F<=) - G(F<)), with its KL, win rate and mean", function()
      local law = family(name, v):law(probs, rewards)
      local kl, win, mean = 0, 0, 0
      for i = 1, #probs do
        local lt, le, q = cdfs(i)
        local want = probs[i] / q * (G[name](v, le) - G[name](v, lt))
        close(law.policy[i], want, 1e-13, name .. " policy[" .. i .. "]")
        if want > 0 then kl = kl + want * math.log(want / probs[i]) end
        win = win + want * (lt + 0.5 * q)
        mean = mean + want * rewards[i]
      end
      close(law.kl, kl, 1e-12, "kl")
      close(law.win_rate, win, 1e-13, "win rate")
      close(law.mean, mean, 1e-13, "mean")
    end)
  end

  it("best-of-Poisson is the Poisson mixture of best-of-n laws", function()
    local mu = 2.5
    local law = P.best_of_poisson { mu = mu }:law(probs, rewards)
    local mix = {}
    for i = 1, #probs do mix[i] = 0 end
    for k = 0, 80 do
      local b = ab.bon.policy(probs, rewards, k + 1)
      for i = 1, #probs do mix[i] = mix[i] + poisson(mu, k) * b.policy[i] end
    end
    for i = 1, #probs do close(law.policy[i], mix[i], 1e-13, "policy[" .. i .. "]") end
  end)

  it("soft best-of-n equals the enumeration of all n-tuples", function()
    local n, tau = 3, 0.7
    local law = P.soft_best_of_n { n = n, temperature = tau }:law(probs, rewards)
    local want = {}
    for i = 1, #probs do want[i] = 0 end
    local m = #probs
    for a = 1, m do for b = 1, m do for c = 1, m do
      local t = { a, b, c }
      local pr, W = probs[a] * probs[b] * probs[c], 0
      for _, i in ipairs(t) do W = W + math.exp(rewards[i] / tau) end
      for _, i in ipairs(t) do want[i] = want[i] + pr * math.exp(rewards[i] / tau) / W end
    end end end
    for i = 1, m do close(law.policy[i], want[i], 1e-12, "policy[" .. i .. "]") end
  end)

  it("soft best-of-n tends to best-of-n as temperature -> 0 and to the reference as it -> inf", function()
    local bon = ab.bon.policy(probs, rewards, 5)
    local cold = P.soft_best_of_n { n = 5, temperature = 1e-4 }:law(probs, rewards)
    local hot = P.soft_best_of_n { n = 5, temperature = 1e8 }:law(probs, rewards)
    for i = 1, #probs do
      close(cold.policy[i], bon.policy[i], 1e-12, "cold policy[" .. i .. "]")
      close(hot.policy[i], probs[i], 1e-6, "hot policy[" .. i .. "]")
    end
    close(cold.kl, bon.kl, 1e-12, "cold kl")
    assert.is_true(hot.kl < 1e-12)
    -- and far below the representable weights (rewards 1e4 temperatures apart)
    -- weights e^{-10^4} apart: each reward a level of its own
    local far = P.soft_best_of_n { n = 3, temperature = 1e-4 }:law({ 0.5, 0.25, 0.25 }, { 0, 1, 2 })
    local b3 = ab.bon.policy({ 0.5, 0.25, 0.25 }, { 0, 1, 2 }, 3)
    for i = 1, 3 do close(far.policy[i], b3.policy[i], 1e-12, "far policy[" .. i .. "]") end
  end)

  it("soft best-of-n with rewards 700 to 745 temperatures apart (subnormal weights) is best-of-n", function()
    -- (the range of t ran to 80 / w_min = +inf there: the walk never ended)
    local two = P.soft_best_of_n { n = 2, temperature = 1 / 740 }:law({ 0.5, 0.5 }, { 0, 1 })
    close(two.policy[1], 0.25, 1e-12, "low")
    close(two.policy[2], 0.75, 1e-12, "high")
    local three = P.soft_best_of_n { n = 3, temperature = 1 / 701 }:law({ 0.25, 0.25, 0.5 }, { 0, 1, 2 })
    close(three.policy[1], 1 / 64, 1e-12, "lowest")
    close(three.policy[2], 7 / 64, 1e-12, "middle")
  end)

  it("a soft best-of-n family maps over n or over the temperature", function()
    local fam = P.soft_best_of_n { n = { 1, 2, 8 }, temperature = 1 }
    assert.are.equal("n", fam.param)
    local d = ab.tail.discrete { values = rewards, probs = probs }
    local kl = fam:kl { reference = d }
    assert.are.equal(3, #kl)
    assert.are.equal(0, kl[1])
    assert.is_true(kl[2] < kl[3])
    local g = fam:gain(d)
    close(g[3], fam:law(probs, rewards)[3].mean - d:mean(), 1e-13, "gain")
    close(fam:divergence("kl", { reference = d })[3], kl[3], 1e-12, "divergence kl")
  end)
end)

describe("rule divergences for a continuous reward", function()
  local families = {
    { "kl", function(t) return t > 0 and t * math.log(t) or 0 end },
    { "chi2", function(t) return (t - 1) ^ 2 end },
    { "hellinger", function(t) return (math.sqrt(t) - 1) ^ 2 / 2 end },
    { "tv", function(t) return math.abs(t - 1) / 2 end },
    { "reverse_kl", function(t) return -math.log(t) end },
  }
  for _, case in ipairs(CASES) do
    local name, v = case[1], case[2]
    it(name .. " equals the integral of f(q(u)) over (0, 1)", function()
      local p = family(name, v)
      for _, f in ipairs(families) do
        if not (name == "top_fraction" and f[1] == "reverse_kl") then
          local a, b = 0, 1
          local want
          if name == "top_fraction" then
            want = v * f[2](1 / v) + (1 - v) * f[2](0)
          elseif f[1] == "tv" then
            -- the mass above the crossing q(u*) = 1: u* - G(u*) (bisection)
            local us = helper.bisect(function(u) return Q[name](v, u) - 1 end, 0, 1)
            want = us - G[name](v, us)
          else
            want = helper.integrate(function(u) return f[2](Q[name](v, u)) end, a, b, 400)
          end
          close(p:divergence(f[1]), want, 1e-10, name .. " " .. f[1])
        end
      end
      if name ~= "top_fraction" then
        local m = helper.integrate(function(u) return Q[name](v, u) ^ 2.5 end, 0, 1, 400)
        close(p:divergence("renyi", { alpha = 2.5 }), math.log(m) / 1.5, 1e-10, name .. " renyi 2.5")
        local r = p:divergence("renyi", { alpha = math.huge })
        close(r, math.log(Q[name](v, 1)), 1e-13, name .. " renyi inf")
      else
        close(p:divergence("renyi", { alpha = 3 }), -math.log(v), 1e-15, "top renyi")
      end
      close(p:kl(), p:divergence("kl"), 1e-15, "kl")
    end)
  end

  it("the win-rate tilt's KL and win rate keep their digits near c = 0 and at large c", function()
    -- series: KL = c^2/24 - c^4/960 + ..., win = 1/2 + c/12 - c^3/720
    for _, c in ipairs { 1e-8, 1e-4 } do
      local p = P.win_rate_tilt { c = c }
      close(p:kl(), c * c / 24 - c ^ 4 / 960, 1e-13, "kl at " .. c)
      close(p:win_rate(), 0.5 + c / 12 - c ^ 3 / 720, 1e-15, "win at " .. c)
    end
    -- large c: KL = log c - 1 + O(c e^{-c}), win = 1 - 1/c
    close(P.win_rate_tilt { c = 1e6 }:kl(), math.log(1e6) - 1, 1e-15, "kl at 1e6")
    close(P.win_rate_tilt { c = 1e6 }:win_rate(), 1 - 1e-6, 1e-15, "win at 1e6")
  end)

  it("total variation keeps its digits near the reference (c/8 and mu/4 at first order)", function()
    -- q - 1 ~ c (u - 1/2) for the tilt and mu (2u - 1) for best-of-Poisson;
    -- the next terms are O(c^2), O(mu) relative
    close(P.win_rate_tilt { c = 1e-12 }:divergence("tv"), 1e-12 / 8, 1e-11, "tilt")
    close(P.best_of_poisson { mu = 1e-12 }:divergence("tv"), 1e-12 / 4, 1e-10, "poisson")
  end)

  it("win rates equal the integral of u q(u)", function()
    for _, case in ipairs(CASES) do
      local name, v = case[1], case[2]
      local want = helper.integrate(function(u) return u * Q[name](v, u) end, 0, 1, 400)
      close(family(name, v):win_rate(), want, 1e-12, name)
    end
  end)
end)

describe("rule gains", function()
  it("on Uniform(0, 1) the gain is the win rate minus 1/2", function()
    local u = ab.tail.uniform { lo = 0, hi = 1 }
    for _, case in ipairs(CASES) do
      local p = family(case[1], case[2])
      close(p:gain(u), p:win_rate() - 0.5, 1e-10, case[1])
    end
  end)

  it("top fraction: the mean of the top eps of the law", function()
    -- Exp(1): E[X | X > -log eps] - 1 = -log eps; Gaussian: phi(z)/eps, z = 0 at eps = 1/2
    close(P.top_fraction { eps = 0.01 }:gain(ab.tail.exponential { rate = 1 }), -math.log(0.01), 1e-10, "exp")
    close(P.top_fraction { eps = 0.5 }:gain(ab.tail.gaussian { sd = 1 }), 2 / math.sqrt(2 * math.pi),
      1e-10, "gauss")
  end)

  it("best-of-Poisson is the Poisson mixture of best-of-n gains, below best-of-(1 + mu)", function()
    local g = ab.tail.gaussian { mean = 1, sd = 2 }
    for _, mu in ipairs { 0.5, 3, 12 } do
      local want, win = 0, 0
      for k = 0, 150 do
        local w = poisson(mu, k)
        want = want + w * ab.bon.expected_gain(g, k + 1)
        win = win + w * (k + 1) / (k + 2)
      end
      local p = P.best_of_poisson { mu = mu }
      close(p:gain(g), want, 1e-10, "gain at " .. mu)
      close(p:win_rate(), win, 1e-13, "win rate at " .. mu)
      -- equal mean sample count: a concave gain in n gives less (Jensen),
      -- and the mixture spends less KL
      assert.is_true(p:gain(g) < ab.bon.expected_gain(g, 1 + mu))
      assert.is_true(p:kl() < ab.bon.kl(1 + mu))
    end
  end)

  it("a finite law's gain is its exact law's mean minus the mean", function()
    local d = ab.tail.discrete { values = { 0, 1, 1, 4 }, probs = { 0.4, 0.1, 0.2, 0.3 } }
    for _, case in ipairs(CASES) do
      local p = family(case[1], case[2])
      close(p:gain(d), p:law({ 0.4, 0.1, 0.2, 0.3 }, { 0, 1, 1, 4 }).mean - d:mean(), 1e-13, case[1])
    end
  end)
end)

describe("rule samplers", function()
  -- KS distance of k draws on Uniform(0, 1) from the CDF G of the rule
  local function ks(x, cdf)
    local t = x:totable()
    table.sort(t)
    local d = 0
    for i, v in ipairs(t) do
      local F = cdf(v)
      d = math.max(d, math.abs(i / #t - F), math.abs((i - 1) / #t - F))
    end
    return d
  end
  local u = ab.tail.uniform { lo = 0, hi = 1 }
  for _, case in ipairs(CASES) do
    local name, v = case[1], case[2]
    it(name .. " draws Q(V), V ~ q (KS at fixed seeds)", function()
      for seed = 1, 3 do
        local k = 4000
        local d = ks(family(name, v):sample(u, k, ab.rng(seed)), function(x) return G[name](v, x) end)
        assert.is_true(d < 1.63 / math.sqrt(k), string.format("%s seed %d: KS %.4f", name, seed, d))
      end
    end)
  end

  it("a finite law is sampled by its exact law with ties", function()
    local probs, values = { 0.3, 0.2, 0.1, 0.4 }, { 0, 1, 1, 2 }
    local d = ab.tail.discrete { values = values, probs = probs }
    for _, case in ipairs(CASES) do
      local p = family(case[1], case[2])
      local law = p:law(probs, values)
      local x, k = p:sample(d, 20000, ab.rng(7)), 20000
      local top = 0
      for i = 1, k do if x[i] == 2 then top = top + 1 end end
      local want = law.policy[4]
      assert.is_true(math.abs(top / k - want) < 4 * math.sqrt(want * (1 - want) / k) + 1e-12, case[1])
    end
  end)

  it("soft best-of-n draws by its definition (its mean within 4 standard errors of the exact law)", function()
    local d = ab.tail.empirical { 0, 1, 2, 3, 4, 5 }
    local p = P.soft_best_of_n { n = 4, temperature = 1.5 }
    local x = p:sample(d, 20000, ab.rng(3))
    local m, se = ab.estimate.mean(x)
    assert.is_true(math.abs(m - d:mean() - p:gain(d)) < 4 * se)
  end)
end)

describe("soft best-of-n on a continuous reference (the Laplace form on the quantile)", function()
  local g, e = ab.tail.gaussian { sd = 1 }, ab.tail.exponential { rate = 1 }
  it("matches 20-digit references for n = 2", function()
    -- mpmath, 20 digits: the pick is sigma((r1 - r2)/tau), so for a Gaussian
    -- gain = E[D sigma(D/tau)], D ~ N(0, 2); q(r) = 2 E sigma((r - X)/tau),
    -- kl = E[q log q], win rate = E[Phi(X) q(X)]; exponential(1): gain =
    -- int (r - 1) q(r) e^-r dr with q(r) = 2 int sigma(r - x) e^-x dx
    local p = P.soft_best_of_n { n = 2, temperature = 1 }
    close(p:gain(g), 0.36316184603163054549, 1e-10, "gaussian gain")
    close(p:kl { reference = g }, 0.070749861500789093392, 1e-10, "gaussian kl")
    close(p:win_rate { reference = g }, 0.60446700601920282028, 1e-10, "gaussian win rate")
    close(p:gain(e), 0.32246703342411321824, 1e-10, "exponential gain")
  end)

  it("has renyi(2) = log(1 + chi2) and renyi(1) = kl, and lies below best-of-n", function()
    local p = P.soft_best_of_n { n = 8, temperature = 0.4 }
    local chi2 = p:divergence("chi2", { reference = g })
    close(p:divergence("renyi", { reference = g, alpha = 2 }), math.log(1 + chi2), 1e-10, "renyi 2")
    close(p:divergence("renyi", { reference = g, alpha = 1 }), p:kl { reference = g }, 1e-12, "renyi 1")
    local bon = P.best_of_n { n = 8 }
    assert.is_true(p:kl { reference = g } < bon:kl() and p:gain(g) < bon:gain(g))
    assert.is_true(p:win_rate { reference = g } < bon:win_rate())
  end)

  it("tends to best-of-n as the temperature falls, and to a fine discretisation", function()
    local cold = P.soft_best_of_n { n = 4, temperature = 0.03 }
    local bon = P.best_of_n { n = 4 }
    close(cold:gain(g), bon:gain(g), 0.05, "cold gain")
    -- the midpoint quantiles -log(1 - u) of 4000 atoms of the exponential law
    local v = {}
    for i = 1, 4000 do v[i] = -math.log(1 - (i - 0.5) / 4000) end
    local d, p = ab.tail.empirical(v), P.soft_best_of_n { n = 4, temperature = 0.5 }
    close(p:gain(e), p:gain(d), 2e-3, "discretised gain")
    close(p:kl { reference = e }, p:kl { reference = d }, 2e-3, "discretised kl")
  end)

  it("on Exponential(1) with n = 2, T = 1: quadrature of q(r) = 2 (1 - e^-r log(1 + e^r)), and KS", function()
    -- the pick is sigma(r1 - r2), and E sigma(r - X) = int_0^1 y / (y + e^-r) dy
    -- = 1 - e^-r log(1 + e^r) in closed form: q(r) on a grid, integrated by
    -- Simpson's rule in Lua (step 1/256 on [0, 60]), is an independent route
    local p = P.soft_best_of_n { n = 2, temperature = 1 }
    local function q(r) return 2 * (1 - math.exp(-r) * (r + math.log(1 + math.exp(-r)))) end
    local h, N = 1 / 256, 60 * 256
    local gain, win, kl, cdf = 0, 0, 0, { [0] = 0 }
    local function f(r) local d = q(r) * math.exp(-r) return d, (r - 1) * d, (1 - math.exp(-r)) * d end
    for i = 0, N - 1, 2 do
      local a, b, c = i * h, (i + 1) * h, (i + 2) * h
      local da, ga, wa = f(a)
      local db, gb, wb = f(b)
      local dc, gc, wc = f(c)
      gain = gain + h / 3 * (ga + 4 * gb + gc)
      win = win + h / 3 * (wa + 4 * wb + wc)
      local function k(r) return q(r) * math.log(q(r)) * math.exp(-r) end
      kl = kl + h / 3 * (k(a) + 4 * k(b) + k(c))
      cdf[i + 1] = cdf[i] + h / 2 * (da + db)
      cdf[i + 2] = cdf[i + 1] + h / 2 * (db + dc)
    end
    close(p:gain(e), gain, 1e-10, "gain")
    close(p:win_rate { reference = e }, win, 1e-10, "win rate")
    close(p:kl { reference = e }, kl, 1e-10, "kl")
    -- KS of draws by the definition against the policy's CDF G(r) = int_0^r q f
    for _, seed in ipairs { 1, 2 } do
      local k = 4000
      local x = p:sample(e, k, ab.rng(seed))
      local xs = {}
      for i = 1, k do xs[i] = x[i] end
      table.sort(xs)
      local d = 0
      for i = 1, k do
        local pos = math.min(xs[i] / h, N - 1)
        local j = math.floor(pos)
        local c = cdf[j] + (pos - j) * (cdf[j + 1] - cdf[j])
        d = math.max(d, math.abs(c - i / k), math.abs(c - (i - 1) / k))
      end
      assert.is_true(d < 1.63 / math.sqrt(k), string.format("seed %d: KS %.4f", seed, d))
    end
  end)

  it("agrees with Monte Carlo of the definition (sample n, pick with probability e^{r/T} / sum)", function()
    local p = P.soft_best_of_n { n = 4, temperature = 0.5 }
    local x = p:sample(e, 40000, ab.rng(17))
    local m, se = ab.estimate.mean(x)
    assert.is_true(math.abs(m - 1 - p:gain(e)) < 4 * se, m)
    -- the win rate is E F(Y), F(y) = 1 - e^-y
    local w = 0
    for i = 1, #x do w = w + 1 - math.exp(-x[i]) end
    local win = p:win_rate { reference = e }
    assert.is_true(math.abs(w / #x - win) < 4 * math.sqrt(win * (1 - win) / #x), w / #x)
  end)
end)

describe("n for a KL budget and the win-rate frontier", function()
  it("bon.n_for_kl inverts bon.kl from 1e-12 to 700 nats", function()
    for _, K in ipairs { 1e-12, 1e-6, 0.01, 0.5, 1, 5, 29.5, 30.5, 100, 700 } do
      local n = ab.bon.n_for_kl(K)
      close(ab.bon.kl(n), K, K < 1e-3 and 1e-7 or 1e-13, "kl at " .. K) -- n near 1 holds K to its spacing
    end
    -- mpmath: -1/lambertw(-exp(-(K+1))) at 40 digits
    close(ab.bon.n_for_kl(1e-10), 1.0000141422689580857, 1e-15, "1e-10")
    close(ab.bon.n_for_kl(0.5), 3.3144458236686756536, 1e-15, "0.5")
    close(ab.bon.n_for_kl(700), 2.7569685642268425058e+304, 1e-14, "700")
    assert.are.equal(1, ab.bon.n_for_kl(0))
    assert.are.equal(math.huge, ab.bon.n_for_kl(1e6))
    local v = ab.bon.n_for_kl { 0.5, 1 }
    assert.are.equal(2, #v)
  end)

  it("frontier.win_rate is the win-rate tilt's at its KL (c by bisection)", function()
    for _, K in ipairs { 1e-6, 0.1, 1, 4 } do
      local c = helper.bisect(function(c) return P.win_rate_tilt { c = c }:kl() - K end, 0, 200)
      close(ab.frontier.win_rate(K), P.win_rate_tilt { c = c }:win_rate(), 1e-12, "at " .. K)
    end
    -- mpmath findroot at KL 0.5
    close(ab.frontier.win_rate(0.5), 0.77373031187823477812, 1e-13, "0.5")
    assert.are.equal(0.5, ab.frontier.win_rate(0))
  end)

  it("lies above every rule at equal KL, and meets best-of-n in the limits", function()
    for _, K in ipairs { 1e-4, 0.05, 0.5, 2, 6 } do
      local w = ab.frontier.win_rate(K)
      local n = ab.bon.n_for_kl(K)
      assert.is_true(w > ab.bon.win_rate(n), "bon at " .. K)
      local eps = math.exp(-K)
      assert.is_true(w > P.top_fraction { eps = eps }:win_rate(), "top at " .. K)
      local mu = helper.bisect(function(mu) return P.best_of_poisson { mu = mu }:kl() - K end, 0, 1e4)
      assert.is_true(w > P.best_of_poisson { mu = mu }:win_rate(), "poisson at " .. K)
    end
    -- the gap closes in the limits: like sqrt(K) (sqrt(24)/12 - sqrt(2)/4)
    -- near 0, and relative to 1 - win far out (both 1 - e^{-(K+1)})
    local function gap(K) return ab.frontier.win_rate(K) - ab.bon.win_rate(ab.bon.n_for_kl(K)) end
    close(gap(1e-12), 1e-6 * (math.sqrt(24) / 12 - math.sqrt(2) / 4), 1e-4, "gap near 0")
    local function rgap(K) return gap(K) / (1 - ab.bon.win_rate(ab.bon.n_for_kl(K))) end
    assert.is_true(rgap(20) < 1e-6 and rgap(20) < rgap(3))
  end)
end)

describe("rules in a scenario", function()
  local g = ab.tail.gaussian { sd = 1 }
  local joint = ab.joint.gaussian { rho = 0.6, sd_proxy = 1, sd_gold = 2 }
  local fams = {
    P.best_of_poisson { mu = { 0, 2, 8, 30 } }, P.top_fraction { eps = { 1, 0.5, 0.1, 0.01 } },
    P.win_rate_tilt { c = { 0, 2, 10, 60 } },
  }
  it("rows carry the family's KL and exact gain; a joint Gaussian model its gold", function()
    for _, fam in ipairs(fams) do
      local rows = ab.scenario { joint = joint, policy = fam }:run()
      local kl, gain = fam:kl(), fam:gain(g)
      for i, r in ipairs(rows) do
        close(r.kl, kl[i], 1e-15, fam.name .. " kl")
        close(r.proxy_gain, gain[i], 1e-15, fam.name .. " proxy")
        close(r.gold_gain, 1.2 * gain[i], 1e-13, fam.name .. " gold") -- rho sd_gold / sd_proxy
      end
    end
  end)

  it("with a golden error model every rule has a peak, and Monte Carlo agrees with the exact gain", function()
    for _, fam in ipairs(fams) do
      local s = ab.scenario { reference = g, error = ab.error.overestimation { rate = 0.3 }, policy = fam,
        monte_carlo = { draws = 4000, seed = 11 } }
      local rows = s:run()
      for _, r in ipairs(rows) do
        assert.is_true(math.abs(r.proxy_mc - r.proxy_gain) < 4.5 * r.proxy_se + 1e-12, fam.name)
      end
      assert.is_table(s:peak())
    end
  end)

  it("a finite reference gives the exact law with ties", function()
    local d = { values = { 0, 1, 1, 2 }, probs = { 0.25, 0.25, 0.25, 0.25 } }
    local fam = P.top_fraction { eps = { 0.5, 0.1 } }
    local rows = ab.scenario { reference = d, policy = fam }:run()
    for i, r in ipairs(rows) do
      close(r.kl, fam:law(d.probs, d.values)[i].kl, 1e-15, "kl")
      assert.is_true(r.kl_exact)
    end
    local soft = ab.scenario { reference = d, policy = P.soft_best_of_n { n = 3, temperature = { 0.5, 2 } } }:run()
    assert.are.equal(2, #soft)
  end)

  it("rules a model cannot run name the rule and the model", function()
    local soft = P.soft_best_of_n { n = 2, temperature = 1 }
    raises(function() ab.scenario { reference = ab.tail.subgaussian { variance = 1 }, policy = soft } end,
      "soft_best_of_n", "subgaussian")
  end)

  local RULES = {
    P.best_of_n { n = { 1, 4, 16 } }, P.best_of_poisson { mu = { 0, 3, 15 } },
    P.soft_best_of_n { n = 8, temperature = { 0.3, 1, 3 } }, P.top_fraction { eps = { 1, 0.3, 0.05 } },
    P.win_rate_tilt { c = { 0, 3, 10 } }, P.kl_budget { kl = { 0.1, 1, 2 } }, P.kl_penalty { beta = { 3, 1, 0.5 } },
  }

  it("every rule runs on logged pairs (joint.samples), exactly: the rule's law over the pairs", function()
    local rng = ab.rng(4)
    local gold, e = g:sample(3000, rng), ab.tail.student_t { df = 3, scale = 1 }:sample(3000, rng)
    local proxy, probs = {}, {}
    for i = 1, #gold do proxy[i], probs[i] = gold[i] + e[i], 1 / #gold end
    local j = ab.joint.samples { proxy = proxy, gold = gold }
    for _, fam in ipairs(RULES) do
      local s = ab.scenario { joint = j, policy = fam, divergences = { "chi2" } }
      local rows = s:run()
      assert.are.equal(3, #rows)
      assert.is_table(s:peak(), fam.name)
      if fam.name ~= "kl_budget" and fam.name ~= "kl_penalty" then
        local laws = fam.name == "best_of_n" and {} or fam:law(probs, proxy)
        for i, r in ipairs(rows) do
          assert.are.equal("exact", r.gold_kind, fam.name)
          local law = fam.name == "best_of_n" and ab.bon.policy(probs, proxy, fam.values[i]) or laws[i]
          local gsum, mean = 0, 0
          for k = 1, #gold do gsum, mean = gsum + law.policy[k] * gold[k], mean + gold[k] / #gold end
          close(r.gold_gain + 1, gsum - mean + 1, 1e-12, fam.name .. " gold")
          close(r.kl + 1, law.kl + 1, 1e-12, fam.name .. " kl")
        end
      end
    end
  end)

  it("every rule runs on joint.additive by Monte Carlo; with Gaussian parts it is joint.gaussian", function()
    -- gold N(0,1) + error N(0,1): jointly Gaussian with rho = 1/sqrt 2,
    -- sd_proxy = sqrt 2, whose golden gains are exact for every rule
    local add = ab.joint.additive { gold = g, error = g }
    local exact = ab.joint.gaussian { rho = 1 / math.sqrt(2), sd_proxy = math.sqrt(2), sd_gold = 1 }
    for _, fam in ipairs(RULES) do
      local s = ab.scenario { joint = add, policy = fam, monte_carlo = { draws = 20000, seed = 3 } }
      local rows, want = s:run(), ab.scenario { joint = exact, policy = fam }:run()
      assert.is_table(s:peak(), fam.name)
      for i, r in ipairs(rows) do
        -- (soft best-of-n: the gold of the law over the draws, whose
        -- discreteness biases it by O(1/draws))
        local tol = 5 * (r.gold_se or 0) + 2e-3
        assert.is_true(math.abs(r.gold_gain - want[i].gold_gain) < tol,
          string.format("%s %d: %.6g vs %.6g (se %.2g)", fam.name, i, r.gold_gain, want[i].gold_gain, r.gold_se or 0))
      end
    end
  end)

  it("soft best-of-n runs on an exact reference: its exact gain and KL, Monte Carlo within 4.5 se, a peak", function()
    local fam = P.soft_best_of_n { n = 4, temperature = { 0.3, 1, 3 } }
    local s = ab.scenario { reference = g, error = ab.error.overestimation { rate = 0.3 }, policy = fam,
      monte_carlo = { draws = 4000, seed = 5 } }
    local rows = s:run()
    for i, r in ipairs(rows) do
      close(r.proxy_gain, fam:gain(g)[i], 1e-12, "gain")
      close(r.kl, fam:kl { reference = g }[i], 1e-12, "kl")
      assert.is_true(math.abs(r.proxy_mc - r.proxy_gain) < 4.5 * r.proxy_se, "mc")
    end
    assert.is_table(s:peak())
  end)
end)

describe("rule errors", function()
  local g = ab.tail.gaussian { sd = 1 }
  it("name the function and the field", function()
    raises(function() P.soft_best_of_n { n = 2.5, temperature = 1 } end, "policy.soft_best_of_n", "n[1]", "integer")
    raises(function() P.soft_best_of_n { n = 2, temperature = 0 } end, "policy.soft_best_of_n", "temperature")
    raises(function() P.soft_best_of_n { n = 2, temperature = -1 } end, "policy.soft_best_of_n", "temperature")
    raises(function() P.soft_best_of_n { n = 2 } end, "policy.soft_best_of_n", "temperature is required")
    raises(function() P.soft_best_of_n { n = 2, temperature = 1, tau = 1 } end, "unknown option 'tau'")
    raises(function() P.best_of_poisson { mu = -1 } end, "policy.best_of_poisson", "mu[1]")
    raises(function() P.top_fraction { eps = 0 } end, "policy.top_fraction", "eps[1]")
    raises(function() P.top_fraction { eps = 1.5 } end, "policy.top_fraction", "eps[1]")
    raises(function() P.win_rate_tilt { c = -1 } end, "policy.win_rate_tilt", "c[1]")
    raises(function() P.top_fraction { eps = 0.5 }:divergence("nope") end, "policy.top_fraction:divergence",
      "unknown family")
    raises(function() P.top_fraction { eps = 0.5 }:divergence("kl", { order = 2 }) end, "unknown option 'order'")
    raises(function() P.top_fraction { eps = 0.5 }:gain(ab.tail.subgaussian { sigma = 1 }) end,
      "policy.top_fraction:gain")
    raises(function() P.soft_best_of_n { n = 2, temperature = 1 }:kl() end, "policy.soft_best_of_n:kl",
      "reference=")
    raises(function() P.soft_best_of_n { n = 2, temperature = 1 }:gain(ab.tail.subgaussian { variance = 1 }) end,
      "policy.soft_best_of_n:gain", "exact or finite law")
    raises(function() P.soft_best_of_n { n = 2, temperature = 1 }:divergence("tv", { reference = g }) end,
      "policy.soft_best_of_n:divergence", "total variation")
    raises(function() P.kl_penalty { beta = 1 }:win_rate() end, "policy.kl_penalty:win_rate")
    raises(function() ab.frontier.win_rate(-1) end, "frontier.win_rate", "kl")
    raises(function() ab.bon.n_for_kl(-0.5) end, "bon.n_for_kl", "kl")
    raises(function() ab.bon.n_for_kl(0 / 0) end, "bon.n_for_kl", "kl")
  end)
end)
