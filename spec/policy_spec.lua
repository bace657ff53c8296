-- Policy families, run through a scenario: each row against a number derived
-- here by another route (closed forms of the law, enumeration, bisection).
local ab = require "alignbound"
local helper = require "helper"
local close, raises = helper.close, helper.raises

local function rows(opts)
  return ab.scenario(opts):run()
end

describe("policy families", function()
  it("carry their name, parameter, values and a readable tostring", function()
    local f = ab.policy.best_of_n { n = { 1, 4, 16 } }
    assert.are.equal("best_of_n", f.name)
    assert.are.equal("n", f.param)
    assert.are.same({ 1, 4, 16 }, f.values)
    assert.are.equal("best_of_n(n = 1, 4, 16)", tostring(f))
    assert.are.equal("budget", ab.policy.kl_budget { kl = 0.5 }.param) -- the rows' kl is the KL spent
    assert.are.same({ 0.5 }, ab.policy.kl_budget { kl = 0.5 }.values)
    assert.are.same({ 2, 3 }, ab.policy.kl_penalty { beta = ab.vector { 2, 3 } }.values)
  end)

  it("reject empty, missing, unknown and out-of-range parameters, naming the function and field", function()
    raises(function() ab.policy.best_of_n { n = {} } end, "policy.best_of_n", "n is empty")
    raises(function() ab.policy.best_of_n {} end, "policy.best_of_n", "n is required")
    raises(function() ab.policy.best_of_n { n = { 4 }, m = 1 } end, "policy.best_of_n", "unknown option 'm'")
    raises(function() ab.policy.best_of_n { n = { 4, 0.5 } } end, "policy.best_of_n", "n[2]", ">= 1")
    raises(function() ab.policy.best_of_n { n = { 0 / 0 } } end, "policy.best_of_n", "n[1]", "nan")
    raises(function() ab.policy.best_of_n { n = { "4" } } end, "policy.best_of_n", "n[1] must be a number")
    raises(function() ab.policy.kl_budget { kl = { -1 } } end, "policy.kl_budget", "kl[1]", ">= 0")
    raises(function() ab.policy.kl_budget { kl = { math.huge } } end, "policy.kl_budget", "kl[1]")
    raises(function() ab.policy.kl_penalty { beta = { 0 } } end, "policy.kl_penalty", "beta[1]", "> 0")
    raises(function() ab.policy.kl_penalty "x" end, "policy.kl_penalty", "table expected")
  end)
end)

describe("best_of_n", function()
  it("has the Beta(n,1) divergences and the exact uniform gain n/(n+1) - 1/2 on a continuous law", function()
    local ns = { 1, 2, 3.5, 64, 1e6 }
    local r = rows { reference = ab.tail.uniform { lo = 0, hi = 1 }, policy = ab.policy.best_of_n { n = ns },
      divergences = { "chi2", "tv", { "renyi", alpha = 0.5 } } }
    for i, n in ipairs(ns) do
      assert.are.equal(n, r[i].n)
      close(r[i].kl + 1e-300, math.log(n) - (n - 1) / n + 1e-300, 1e-13, "kl")
      close(r[i].chi2 + 1e-300, (n - 1) ^ 2 / (2 * n - 1) + 1e-300, 1e-13, "chi2")
      local tv = n == 1 and 0 or (1 - 1 / n) * n ^ (-1 / (n - 1))
      close(r[i].tv + 1e-300, tv + 1e-300, 1e-12, "tv")
      close(r[i]["renyi(0.5)"] + 1e-300, (0.5 * math.log(n) - math.log(1 + 0.5 * (n - 1))) / -0.5 + 1e-300,
        1e-12, "renyi(0.5)")
      close(r[i].proxy_exact + 1e-300, n / (n + 1) - 0.5 + 1e-300, 1e-12, "gain")
      assert.are.equal("exact", r[i].proxy_kind)
      assert.is_true(r[i].proxy_bound >= r[i].proxy_exact * (1 - 1e-12))
      assert.is_true(r[i].kl_exact)
    end
  end)

  it("uses the exact law with ties on a finite reference (enumerated here)", function()
    local probs, values = { 0.5, 0.3, 0.2 }, { 0, 1, 1 } -- a tie at the top
    local n = 5
    -- enumeration: the best of n has reward 1 unless all n are 0
    local p0 = 0.5 ^ n
    local law = { p0, (1 - p0) * 0.3 / 0.5, (1 - p0) * 0.2 / 0.5 }
    local kl, tv = 0, 0
    for i = 1, 3 do
      kl = kl + law[i] * math.log(law[i] / probs[i])
      tv = tv + math.abs(law[i] - probs[i]) / 2
    end
    for _, ref in ipairs { ab.tail.discrete { values = values, probs = probs }, { values = values, probs = probs } } do
      local r = rows { reference = ref, policy = ab.policy.best_of_n { n = { n } }, divergences = { "tv" } }
      close(r[1].kl, kl, 1e-13, "kl with ties")
      assert.is_true(r[1].kl < math.log(n) - (n - 1) / n)
      close(r[1].tv, tv, 1e-13, "tv with ties")
      close(r[1].proxy_exact, (1 - p0) - 0.5, 1e-13, "gain with ties")
      assert.is_true(r[1].kl_exact)
    end
  end)

  it("uses the exact law with ties on an empirical and a Bernoulli reference", function()
    local r = rows { reference = ab.tail.empirical { 0, 0, 1, 1 }, policy = ab.policy.best_of_n { n = { 3 } } }
    -- bon of a fair coin: P(top) = 1 - 1/8, KL = kl_bin(7/8 || 1/2)
    close(r[1].kl, helper.kl_bin(7 / 8, 0.5), 1e-13, "empirical")
    r = rows { reference = ab.tail.bernoulli { p = 0.1 }, policy = ab.policy.best_of_n { n = { 4 } } }
    close(r[1].kl, helper.kl_bin(1 - 0.9 ^ 4, 0.1), 1e-13, "bernoulli")
  end)

  it("gives only the certified bound on an assumption class", function()
    local sg = ab.tail.subgaussian { sigma = 2 }
    local r = rows { reference = sg, policy = ab.policy.best_of_n { n = { 16 } } }
    assert.is_nil(r[1].proxy_exact)
    assert.are.equal("bound", r[1].proxy_kind)
    close(r[1].proxy_gain, 2 * math.sqrt(2 * (math.log(16) - 15 / 16)), 1e-13, "sqrt(2 s2 KL)")
    assert.is_false(r[1].kl_exact) -- a class may have ties: the formula is an upper bound
  end)

  it("estimates the gain by Monte Carlo within its standard error (Gumbel: beta log n)", function()
    local ns = { 2, 16, 1000 }
    local r = rows { reference = ab.tail.gumbel { loc = 1, scale = 2 }, policy = ab.policy.best_of_n { n = ns },
      monte_carlo = { draws = 20000, seed = 7 } }
    for i, n in ipairs(ns) do
      local exact = 2 * math.log(n)
      close(r[i].proxy_exact, exact, 1e-10, "closed form")
      assert.is_true(math.abs(r[i].proxy_mc - exact) < 5 * r[i].proxy_se,
        string.format("n=%g: mc %g +- %g vs %g", n, r[i].proxy_mc, r[i].proxy_se, exact))
      -- the standard error of a mean of 20000 Gumbel(scale 2) maxima: sd / sqrt(draws)
      close(r[i].proxy_se, 2 * math.pi / math.sqrt(6) / math.sqrt(20000), 0.05, "se")
    end
  end)
end)

describe("kl_budget", function()
  it("is the tilt of a Gaussian: gain sqrt(2 kl) sd, chi2 e^{l^2 s^2} - 1, Renyi a l^2 s^2 / 2", function()
    local sd = 1.5
    local kls = { 1e-12, 1e-3, 0.5, 8 }
    local r = rows { reference = ab.tail.gaussian { mean = 3, sd = sd }, policy = ab.policy.kl_budget { kl = kls },
      divergences = { "chi2", "hellinger", "reverse_kl", { "renyi", alpha = 3 }, { "alpha", alpha = 0.5 } } }
    for i, kl in ipairs(kls) do
      local l = math.sqrt(2 * kl) / sd
      local v = (l * sd) ^ 2 -- = 2 kl
      close(r[i].proxy_exact, sd * math.sqrt(2 * kl), 1e-12, "gain")
      close(r[i].lambda, l, 1e-10, "lambda")
      -- chi2 = expm1(2 kl): kl = 1e-12 checks the expm1 path (exp(x) - 1 loses 4 digits there)
      local chi2 = kl < 1e-6 and (v + v * v / 2) or math.exp(v) - 1
      close(r[i].chi2, chi2, 1e-10, "chi2")
      local h = kl < 1e-6 and (v / 8 - (v / 8) ^ 2 / 2) or 1 - math.exp(-v / 8)
      close(r[i].hellinger, h, 1e-10, "hellinger")
      close(r[i].reverse_kl, v / 2, 1e-10, "reverse_kl = kl for a Gaussian tilt")
      close(r[i]["renyi(3)"], 3 * v / 2, 1e-10, "renyi(3)")
      -- Amari alpha 0.5: (E g^a - 1)/(a(a-1)) with E g^a = e^{a(a-1) v/2}
      local ea = kl < 1e-6 and (-v / 8 + (v / 8) ^ 2 / 2) or math.exp(-v / 8) - 1
      close(r[i]["alpha(0.5)"], ea / -0.25, 1e-10, "alpha(0.5)")
    end
  end)

  it("is the exact tilt of a finite law (KL solved here by bisection)", function()
    local probs, values = { 0.6, 0.3, 0.1 }, { 0, 1, 3 }
    local function tilt(l)
      local z, m, k = 0, 0, 0
      for i = 1, 3 do z = z + probs[i] * math.exp(l * values[i]) end
      for i = 1, 3 do
        local q = probs[i] * math.exp(l * values[i]) / z
        m, k = m + q * values[i], k + q * math.log(q / probs[i])
      end
      return k, m
    end
    local r = rows { reference = { values = values, probs = probs },
      policy = ab.policy.kl_budget { kl = { 0.05, 0.7 } }, divergences = { "tv" } }
    for i, kl in ipairs { 0.05, 0.7 } do
      local l = helper.bisect(function(x) return tilt(x) - kl end, 0, 50)
      local _, m = tilt(l)
      close(r[i].kl, kl, 1e-10, "kl")
      close(r[i].proxy_exact, m - 0.6, 1e-10, "gain")
      close(r[i].lambda, l, 1e-8, "lambda")
      assert.is_true(r[i].tv > 0 and r[i].tv < 1)
    end
  end)

  it("keeps the budget and spends only -log P(top) once a finite law saturates", function()
    local r = rows { reference = ab.tail.bernoulli { p = 0.25 }, policy = ab.policy.kl_budget { kl = { 0, 0.1, 3 } },
      monte_carlo = { draws = 2000, seed = 1 } }
    assert.are.equal(0, r[1].kl)
    assert.are.equal(0, r[1].proxy_exact)
    assert.is_true(math.abs(r[1].proxy_mc) < 5 * r[1].proxy_se)
    table.remove(r, 1)
    assert.are.equal(0.1, r[1].budget)
    close(r[1].kl, 0.1, 1e-10, "kl below saturation")
    assert.are.equal(3, r[2].budget)
    close(r[2].kl, math.log(4), 1e-12, "saturated kl")
    close(r[2].proxy_gain, 0.75, 1e-12, "saturated gain")
    assert.are.equal(math.huge, r[2].lambda)
    assert.are.equal(0.75, r[2].proxy_mc) -- every draw of the saturated tilt is the top reward
    assert.are.equal(0, r[2].proxy_se)
  end)

  it("on an assumption class gives the bound over every policy and refuses other divergences", function()
    local r = rows { reference = ab.tail.subgaussian { sigma = 1 }, policy = ab.policy.kl_budget { kl = { 2 } } }
    close(r[1].proxy_bound, 2, 1e-14, "sqrt(2 kl)")
    assert.are.equal("bound", r[1].proxy_kind)
    raises(function()
      ab.scenario { reference = ab.tail.subgaussian { sigma = 1 }, policy = ab.policy.kl_budget { kl = { 2 } },
        divergences = { "chi2" } }
    end, "scenario", "kl_budget", "chi2")
  end)

  it("refuses tv of the tilt of a continuous law, naming the rule", function()
    local s = ab.scenario { reference = ab.tail.gaussian { sd = 1 }, policy = ab.policy.kl_budget { kl = { 1 } },
      divergences = { "tv" } }
    raises(function() s:run() end, "policy.kl_budget", "'tv'", "finite reference")
  end)
end)

describe("kl_penalty", function()
  it("spends KL = l psi'(l) - psi(l) and gains psi'(l), l = 1/beta (exponential law)", function()
    local betas = { 10, 2, 1.25 }
    local r = rows { reference = ab.tail.exponential { rate = 1 }, policy = ab.policy.kl_penalty { beta = betas },
      monte_carlo = { draws = 20000, seed = 3 } }
    for i, b in ipairs(betas) do
      local l = 1 / b
      local dpsi = l / (1 - l)
      local psi = -helper.log1p(-l) - l
      close(r[i].kl, l * dpsi - psi, 1e-10, "kl")
      close(r[i].proxy_exact, dpsi, 1e-12, "gain")
      close(r[i].lambda, l, 1e-15, "lambda")
      assert.is_true(math.abs(r[i].proxy_mc - dpsi) < 5 * r[i].proxy_se)
    end
  end)

  it("needs an exact law", function()
    raises(function()
      ab.scenario { reference = ab.tail.subgaussian { sigma = 1 }, policy = ab.policy.kl_penalty { beta = { 1 } } }
    end, "scenario", "kl_penalty", "exact or finite")
  end)
end)

describe("policy.define", function()
  it("adds a rule that runs in a scenario without touching the scenario code", function()
    -- rejection to the top eps of the reward quantile: KL = -log eps
    ab.policy.define {
      name = "top_fraction_test", param = "eps",
      check = function(e) if not (e > 0 and e <= 1) then return "in (0, 1]" end end,
      evaluate = function(_, _, eps) return { kl = -math.log(eps), kl_exact = true } end,
    }
    raises(function() ab.policy.define { name = "bad_rule", param = "kl", evaluate = function() end } end,
      "policy.define", "param 'kl'")
    local r = rows { reference = ab.tail.gaussian { sd = 1 },
      policy = ab.policy.top_fraction_test { eps = { 0.5, 0.01 } } }
    close(r[2].kl, math.log(100), 1e-15, "kl")
    assert.are.equal(0.01, r[2].eps)
    assert.are.equal("top_fraction_test", r[2].policy)
    raises(function() ab.policy.top_fraction_test { eps = { 2 } } end, "policy.top_fraction_test", "eps[1]", "(0, 1]")
    ab.policy.top_fraction_test = nil
  end)
end)
