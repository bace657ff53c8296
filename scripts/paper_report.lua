#!/usr/bin/env lua5.4
-- scripts/paper_report.lua [OUTDIR]: the main report (`make demo`).
--
-- Writes OUTDIR/report.md (default out/) with its figures (OUTDIR/*.svg and
-- *.png, drawn by gnuplot) and the tables of the earlier text report, and
-- prints a short summary.  Every sentence under a figure is computed from
-- the numbers drawn in it.  Everything is built from ab.scenario and the
-- library's calls; Monte Carlo runs use fixed seeds, so the report is the
-- same on every machine.
local ab = require "alignbound"

local OUT = arg[1] or "out"
assert(os.execute("mkdir -p '" .. OUT:gsub("'", "'\\''") .. "'"), "cannot make " .. OUT)

local md = {}          -- the markdown, in order
local summary = {}     -- the lines printed at the end
local figures = 0

local function say(s) md[#md + 1] = s end
local function g4(x) return string.format("%.4g", x) end

local function column(rows, name, default)
  local out = {}
  for i, r in ipairs(rows) do
    out[i] = r[name]
    if out[i] == nil then out[i] = default end
  end
  return out
end

local function logspace(a, b, n)
  local t = {}
  for i = 1, n do t[i] = 10 ^ (a + (b - a) * (i - 1) / (n - 1)) end
  return t
end

-- One figure: draw it, reference it, and say what it shows.
local function figure(name, title, opts, sentences)
  opts.path = OUT .. "/" .. name
  opts.title = title
  local files, err = ab.plot(opts)
  if not files then error(err, 0) end
  figures = figures + 1
  say(string.format("### Figure %d. %s\n", figures, title))
  say(string.format("![%s](%s.svg)\n", title, name))
  say(table.concat(sentences, " ") .. string.format(" (PNG: [%s.png](%s.png).)\n", name, name))
end

local function has(...)
  local t = ab
  for _, k in ipairs { ... } do
    t = t[k]
    if t == nil then return false end
  end
  return true
end

say("# alignbound " .. ab.version .. ": the information-theoretic limits of alignment\n")
say("Gain means E_pi[r] - E_ref[r]; divergences are D(pi || ref) in nats. "
  .. "Exact laws are standardised to mean 0 and variance 1 unless said otherwise.\n")

-- Figure 1 -------------------------------------------------------------------
local sqrt12 = math.sqrt(12)
local laws = {
  { "gaussian (exact)", ab.tail.gaussian { mean = 0, sd = 1 } },
  { "uniform (exact)", ab.tail.uniform { lo = -sqrt12 / 2, hi = sqrt12 / 2 } },
  { "bernoulli(0.05) (exact)", ab.tail.discrete {
    values = { -0.05 / math.sqrt(0.0475), 0.95 / math.sqrt(0.0475) }, probs = { 0.95, 0.05 } } },
  { "gumbel (exact)", ab.tail.gumbel { loc = 0, scale = math.sqrt(6) / math.pi } },
}
local classes = {
  { "sub-Gaussian(1)", ab.tail.subgaussian { variance = 1 } },
  { "sub-exponential(1, 0.5)", ab.tail.subexponential { nu = 1, b = 0.5 } },
  { "sub-gamma(1, 0.5)", ab.tail.subgamma { v = 1, c = 0.5 } },
  { "bounded [-1, 1]", ab.tail.bounded { lo = -1, hi = 1 } },
}
do
  local kls = logspace(-3, 1.7, 48)
  local series, at = {}, {}
  local budget = ab.policy.kl_budget { kl = kls }
  for _, set in ipairs { classes, laws } do
    for _, l in ipairs(set) do
      local rows = ab.scenario { reference = l[2], policy = budget }:run()
      series[#series + 1] = { x = kls, y = column(rows, "proxy_gain"), title = l[1],
        style = set == classes and "lines" or "linespoints" }
      at[l[1]] = rows
    end
  end
  -- where the Gumbel frontier leaves the sqrt(2 KL) curve: the first grid
  -- point above it, then bisection (in log KL) between it and the one before
  local gumbel = laws[4][2]
  local cross, ci
  for i, k in ipairs(kls) do
    if not cross and at["gumbel (exact)"][i].proxy_gain > math.sqrt(2 * k) then cross, ci = k, i end
  end
  if ci and ci > 1 then
    local lo, hi = math.log(kls[ci - 1]), math.log(cross)
    for _ = 1, 60 do
      local mid = 0.5 * (lo + hi)
      if gumbel:gain(math.exp(mid)) > math.sqrt(2 * math.exp(mid)) then hi = mid else lo = mid end
    end
    cross = math.exp(hi)
  end
  local one = ab.policy.kl_budget { kl = { 1 } }
  local function at1(t) return ab.scenario { reference = t, policy = one }:run()[1].proxy_gain end
  figure("gain_vs_kl", "Largest gain against the KL budget: assumption classes and exact frontiers", {
    series = series, logx = true, logy = true, xlabel = "KL budget (nats)", ylabel = "gain (sd of the reference)",
  }, {
    string.format("At KL = 1 nat the sub-Gaussian bound sqrt(2 KL) is %s; the Gaussian frontier meets it "
      .. "(%s), the uniform law reaches %s on its way to sqrt(3) = 1.732, and the rare-success "
      .. "Bernoulli(0.05) reaches %s.", g4(at1(classes[1][2])), g4(at1(laws[1][2])), g4(at1(laws[2][2])),
      g4(at1(laws[3][2]))),
    string.format("The Gumbel frontier lies above sqrt(2 KL) %s (it is %s at KL = 50 against %s), so the "
      .. "variance alone gives no sqrt(KL) bound for a heavy right tail.",
      cross == kls[1] and "at every KL drawn" or cross and ("from KL = " .. g4(cross) .. " on") or "nowhere",
      g4(gumbel:gain(50)), g4(math.sqrt(100))),
  })
  summary[#summary + 1] = string.format("gain at KL = 1: sub-Gaussian %s, Gaussian %s, uniform %s, Gumbel %s",
    g4(at1(classes[1][2])), g4(at1(laws[1][2])), g4(at1(laws[2][2])), g4(at1(laws[4][2])))
end

-- Figure 2 -------------------------------------------------------------------
do
  local ns = {}
  for k = 1, 20 do ns[k] = 2 ^ k end
  local divs = { "kl", "reverse_kl", "chi2", "hellinger", "tv", "js", { "renyi", alpha = 0.5 },
    { "renyi", alpha = 2 }, { "renyi", alpha = math.huge }, { "alpha", alpha = 0.5 } }
  local s = ab.scenario { reference = ab.tail.gaussian { sd = 1 }, policy = ab.policy.best_of_n { n = ns },
    divergences = divs }
  local rows = s:run()
  local series = {}
  for _, label in ipairs(s.requested) do
    series[#series + 1] = { x = ns, y = column(rows, label), title = label }
  end
  local last = rows[#rows]
  figure("bon_divergences", "Best-of-n: every divergence from the reference against n", {
    series = series, logx = true, logy = true, xlabel = "n", ylabel = "D(bon_n || ref) (nats)",
  }, {
    string.format("At n = 2^20 the KL is log n - (n-1)/n = %s nats while chi2 = (n-1)^2/(2n-1) = %s: "
      .. "chi2 grows like n/2 and KL like log n, so a chi2 budget (and the variance route from proxy to "
      .. "golden reward) is far more expensive for best-of-n.", g4(last.kl), g4(last.chi2)),
    string.format("The bounded families saturate: TV reaches %s and Hellinger %s, while Renyi(inf) = log n = %s "
      .. "sits above KL and Renyi(0.5) = %s below it, as the order monotonicity requires.",
      g4(last.tv), g4(last.hellinger), g4(last["renyi(inf)"]), g4(last["renyi(0.5)"])),
  })
  summary[#summary + 1] = string.format("best-of-2^20: KL %s, chi2 %s, TV %s", g4(last.kl), g4(last.chi2),
    g4(last.tv))
  local csv = OUT .. "/bon_divergences.csv"
  assert(s:csv(csv))
end

-- Figure 3: the Renyi refinement ------------------------------------------------
do
  local ns = {}
  for k = 0, 10 do ns[#ns + 1] = 2 ^ k end
  local uniform = ab.tail.uniform { lo = 0, hi = 1 }
  -- the KL bound with the same reference proxy as the refinement (its a = 1 end)
  local s2 = uniform:variance_proxy()
  local bounded = ab.tail.subgaussian { variance = s2 }
  -- the best of n uniforms is Beta(n, 1): the aligned policy's own left tail
  local rows = ab.scenario { reference = uniform, policy = ab.policy.best_of_n { n = ns },
    aligned = function(n) return ab.tail.beta { a = n, b = 1 } end }:run()
  local klb, ren, exact = {}, {}, {}
  local below_kl, above_exact = true, true
  for i, r in ipairs(rows) do
    klb[i] = bounded:gain(r.kl)
    exact[i], ren[i] = r.proxy_exact, r.renyi_bound
    below_kl = below_kl and ren[i] <= klb[i] * (1 + 1e-12)
    above_exact = above_exact and ren[i] >= exact[i] * (1 - 1e-12)
  end
  local i16 = 5 -- n = 16
  local best = 2
  for i = 2, #ns do if ren[i] / klb[i] < ren[best] / klb[best] then best = i end end
  figure("renyi_refinement", "Best-of-n on a uniform reward: the Renyi refinement against the KL bound", {
    series = {
      { x = ns, y = klb, title = "KL bound sqrt(2 s2 KL), s2 = 1/12", style = "lines" },
      { x = ns, y = ren, title = "Renyi refinement (aligned law Beta(n, 1))" },
      { x = ns, y = exact, title = "exact gain n/(n+1) - 1/2" },
    }, logx = true, xlabel = "n", ylabel = "gain",
  }, {
    string.format("For a uniform reward on [0, 1] (variance proxy %s) the KL bound sqrt(2 s2 KL) keeps growing "
      .. "like sqrt(log n) (%s at n = 2^10) although the exact gain saturates at 1/2; the Renyi refinement, "
      .. "which also uses the left tail of the best-of-n law Beta(n, 1), is %s at n = 16 against %s for the KL "
      .. "bound and %s exact, and %s at n = 2^10.", g4(s2), g4(klb[#ns]), g4(ren[i16]), g4(klb[i16]),
      g4(exact[i16]), g4(ren[#ns])),
    string.format("It is %s the KL bound at every n drawn, tightest relative to it at n = %d (%.1f%% of the "
      .. "KL bound, order a = %s), and %s the exact gain.", below_kl and "at most" or "NOT always below",
      ns[best], 100 * ren[best] / klb[best], g4(rows[best].renyi_alpha),
      above_exact and "never below" or "sometimes BELOW (a bug)"),
  })
  summary[#summary + 1] = string.format("Renyi refinement at n = 16: %s (KL bound %s, exact %s)", g4(ren[i16]),
    g4(klb[i16]), g4(exact[i16]))
end

-- Goodhart fits, when the build has them: d (alpha - beta d), d = sqrt(KL)
local function fit_series(kl, gold, form, se)
  if not has("goodhart", "fit") then return nil end
  if se then
    -- exact rows (no standard error) weigh like the most precise estimate
    local least = math.huge
    for i = 1, #kl do if se[i] and se[i] > 0 then least = math.min(least, se[i]) end end
    local w = {}
    for i = 1, #kl do w[i] = (se[i] and se[i] > 0) and se[i] or least end
    se = w
  end
  local f = ab.goodhart.fit(kl, gold, form, se and { se = se } or nil)
  local y = {}
  for i, k in ipairs(kl) do
    local d = math.sqrt(k)
    y[i] = form == "bon" and d * (f.alpha - f.beta * d) or d * (f.alpha - f.beta * math.log(d))
  end
  return { x = kl, y = y, title = "Goodhart fit d (alpha - beta " .. (form == "bon" and "d" or "log d") .. ")",
    style = "lines" }, f
end

local function fit_sentence(f, what)
  if not f then return "(The Goodhart fits need ab.goodhart.fit, not in this build.)" end
  local head = string.format("The fit d (alpha - beta d), d = sqrt(KL), of %s gives alpha = %s +- %s, "
    .. "beta = %s +- %s (R^2 = %s)", what, g4(f.alpha), g4(f.alpha_se), g4(f.beta), g4(f.beta_se), g4(f.r2))
  if f.peak_gain == nil then return head .. " and no peak (beta <= 0)." end
  return head .. string.format(" and a peak at KL = %s with gain %s.", g4(f.peak_kl), g4(f.peak_gain))
end

-- Figure 4: jointly Gaussian proxy and gold --------------------------------------
local ns = {}
for k = 0, 16 do ns[#ns + 1] = 2 ^ k end
do
  local rho = 0.6
  local j = ab.joint.gaussian { rho = rho, sd_proxy = 1, sd_gold = 1 }
  local rows = ab.scenario { joint = j, policy = ab.policy.best_of_n { n = ns } }:run()
  local kl = column(rows, "kl")
  local trows = ab.scenario { joint = j, policy = ab.policy.kl_budget { kl = kl } }:run()
  local fs, f = fit_series(kl, column(rows, "gold_gain"), "bon")
  local series = {
    { x = kl, y = column(rows, "proxy_gain"), title = "proxy, best-of-n" },
    { x = kl, y = column(rows, "gold_gain"), title = "gold, best-of-n" },
    { x = kl, y = column(trows, "gold_gain"), title = "gold, tilt (RL)" },
  }
  if fs then series[#series + 1] = fs end
  local last = rows[#rows]
  figure("golden_gaussian", "Jointly Gaussian proxy and gold (rho = 0.6): gain against KL", {
    series = series, xlabel = "KL (nats)", ylabel = "gain (sd)",
  }, {
    string.format("Selecting on a proxy that is jointly Gaussian with the gold reward moves the gold by exactly "
      .. "rho = %s times the proxy: at n = 2^16 (KL = %s) the proxy gains %s and the gold %s, still growing.",
      g4(rho), g4(last.kl), g4(last.proxy_gain), g4(last.gold_gain)),
    fit_sentence(f, "the golden gain") .. (f and (
      (f.peak_gain == nil and " A jointly Gaussian proxy does not overoptimise.")
      or (f.peak_kl > last.kl and " The fitted peak lies beyond every KL drawn.")) or ""),
  })
  summary[#summary + 1] = string.format("jointly Gaussian rho = 0.6, n = 2^16: proxy %s, gold %s",
    g4(last.proxy_gain), g4(last.gold_gain))
end

-- Figure 5: overestimation growing like rate * KL -------------------------------
do
  local rate = 0.25
  local e = ab.error.overestimation { rate = rate }
  local s = ab.scenario { reference = ab.tail.gaussian { sd = 1 }, policy = ab.policy.best_of_n { n = ns },
    error = e }
  local rows = s:run()
  local kl = column(rows, "kl")
  local peak = s:peak()
  local fs, f = fit_series(kl, column(rows, "gold_lo"), "bon")
  local tilt = ab.scenario { reference = ab.tail.gaussian { sd = 1 }, policy = ab.policy.kl_budget { kl = kl },
    error = e }
  local tp = tilt:peak()
  local series = {
    { x = kl, y = column(rows, "proxy_gain"), title = "proxy, best-of-n" },
    { x = kl, y = column(rows, "gold_lo"), title = "gold, best-of-n" },
    { x = kl, y = column(tilt:run(), "gold_lo"), title = "gold, tilt: sqrt(2 KL) - rate KL" },
  }
  if fs then series[#series + 1] = fs end
  figure("golden_overestimation", "A proxy that overestimates by 0.25 KL: proxy and golden gain", {
    series = series, xlabel = "KL (nats)", ylabel = "gain (sd)",
  }, {
    string.format("The golden gain of best-of-n peaks at n = %d (KL = %s, gold %s)%s while "
      .. "the proxy gain keeps rising; for the tilt, sqrt(2 KL) - %s KL peaks at KL = 1/(2 rate^2) = %s in theory "
      .. "and at KL = %s on this grid (gold %s).", peak.value, g4(peak.kl), g4(peak.gold),
      peak.interior and " and falls after it" or " (at the edge of the grid)", g4(rate),
      g4(1 / (2 * rate ^ 2)), g4(tp.kl), g4(tp.gold)),
    fit_sentence(f, "the best-of-n golden gain"),
  })
  summary[#summary + 1] = string.format("overestimation 0.25 KL: golden gain of best-of-n peaks at n = %d (KL %s)",
    peak.value, g4(peak.kl))
end

-- Figure 6: heavy-tailed error ----------------------------------------------------
do
  local err_law = has("tail", "student_t") and ab.tail.student_t { df = 3, scale = 1 } or nil
  if not err_law then
    say("### Heavy-tailed error\n\n(Needs ab.tail.student_t, not in this build.)\n")
  else
    local bn = {}
    for k = 0, 12 do bn[#bn + 1] = 2 ^ k end
    local j = ab.joint.additive { gold = ab.tail.gaussian { sd = 1 }, error = err_law }
    local s = ab.scenario { joint = j, policy = ab.policy.best_of_n { n = bn },
      monte_carlo = { draws = 4000, seed = 2026 } }
    local rows = s:run()
    local kl = column(rows, "kl")
    local peak = s:peak()
    local fs, f = fit_series(kl, column(rows, "gold_gain"), "bon", column(rows, "gold_se"))
    local series = {
      { x = kl, y = column(rows, "proxy_gain"), err = column(rows, "proxy_se", 0), title = "proxy (Monte Carlo)",
        style = "linespoints" },
      { x = kl, y = column(rows, "gold_gain"), err = column(rows, "gold_se", 0), title = "gold (Monte Carlo)",
        style = "linespoints" },
    }
    if fs then series[#series + 1] = fs end
    local last = rows[#rows]
    figure("golden_heavy_tail", "proxy = gold + Student-t(3) error: best-of-n proxy and golden gain", {
      series = series, xlabel = "KL (nats)", ylabel = "gain",
    }, {
      string.format("With a heavy-tailed error the top proxy scores are mostly large errors: the golden gain "
        .. "is largest at n = %d (KL = %s, gold %s +- %s) and is %s +- %s at n = %d, while the proxy gain has grown "
        .. "to %s.", peak.value, g4(peak.kl), g4(peak.gold), g4(rows[peak.index].gold_se or 0), g4(last.gold_gain),
        g4(last.gold_se or 0), bn[#bn], g4(last.proxy_gain)),
      fit_sentence(f, "the golden gain"),
    })
    summary[#summary + 1] = string.format("Student-t(3) error: golden gain peaks at n = %d, falls to %s at n = %d",
      peak.value, g4(last.gold_gain), bn[#bn])
  end
end

-- Figure 7: best-of-n against the tilt at equal KL --------------------------------
do
  local series, say16, lowest = {}, {}, {}
  for _, l in ipairs { laws[1], laws[2], laws[4] } do
    local name = l[1]:gsub(" %(exact%)", "")
    local b = ab.scenario { reference = l[2], policy = ab.policy.best_of_n { n = ns } }:run()
    local t = ab.scenario { reference = l[2], policy = ab.policy.kl_budget { kl = column(b, "kl") } }:run()
    local ratio = {}
    for i = 2, #ns do ratio[i - 1] = b[i].proxy_exact / t[i].proxy_exact end
    series[#series + 1] = { x = { table.unpack(ns, 2) }, y = ratio, title = name }
    local m = 1
    for i = 2, #ratio do if ratio[i] < ratio[m] then m = i end end
    lowest[#lowest + 1] = string.format("%s %.1f%% at n = %d", name, 100 * ratio[m], ns[m + 1])
    say16[#say16 + 1] = string.format("%s %.1f%%", name, 100 * ratio[4])
  end
  figure("bon_vs_tilt", "Best-of-n against the optimal tilt (KL-constrained RL) at the same KL", {
    series = series, logx = true, xlabel = "n", ylabel = "bon gain / tilt gain",
  }, {
    "Best-of-n falls short of the optimum at the same KL by a margin that depends on the tail: at n = 16 "
      .. "(KL = " .. g4(ab.bon.kl(16)) .. ") it reaches "
      .. table.concat(say16, ", ") .. " of the tilt's gain.",
    "The lowest ratio over n is " .. table.concat(lowest, ", ")
      .. string.format("; at n = 2^16 the ratios are %.1f%%, %.1f%% and %.1f%% (both gains of the bounded uniform "
      .. "reward saturate at sqrt(3)).", 100 * series[1].y[#ns - 1], 100 * series[2].y[#ns - 1],
      100 * series[3].y[#ns - 1]),
  })
  summary[#summary + 1] = "best-of-16 / tilt at equal KL: " .. table.concat(say16, ", ")
end

-- Figure 8: the win-rate / KL frontier with every selection rule on it ----------
do
  local kls = logspace(-2, math.log(8, 10), 40)
  local frontier = ab.frontier.win_rate(kls)
  local bn = ab.bon.n_for_kl(kls)
  local bw = ab.bon.win_rate(bn)
  local function rule_curve(fam)
    local kl, win = fam:kl(), fam:win_rate()
    return kl, win
  end
  local pk, pw = rule_curve(ab.policy.best_of_poisson { mu = logspace(-1.3, 3.3, 40) })
  local tk, tw = rule_curve(ab.policy.top_fraction { eps = logspace(-3.5, -0.005, 40) })
  -- soft best-of-16 on a fine grid of Gaussian quantiles (its win rate depends on the law)
  local values, probs = {}, {}
  for i = 1, 2000 do values[i], probs[i] = ab.tail.gaussian { sd = 1 }:sample(1, ab.rng(i))[1], 1 / 2000 end
  local soft = ab.policy.soft_best_of_n { n = 16, temperature = logspace(-1.5, 1.5, 25) }
  local sk, sw = {}, {}
  for i, l in ipairs(soft:law(probs, values)) do sk[i], sw[i] = l.kl, l.win_rate end
  local function at(kl, win, K) -- the win rate of a rule's curve at KL K (linear in log KL)
    for i = 2, #kl do
      if math.min(kl[i - 1], kl[i]) <= K and K <= math.max(kl[i - 1], kl[i]) and kl[i] ~= kl[i - 1] then
        local t = (math.log(K) - math.log(kl[i - 1])) / (math.log(kl[i]) - math.log(kl[i - 1]))
        return win[i - 1] + t * (win[i] - win[i - 1])
      end
    end
  end
  -- each rule at KL = 1 exactly: mu by bisection, eps = 1/e, soft's temperature on its curve
  local lo, hi = 0, 100
  for _ = 1, 200 do
    local mid = 0.5 * (lo + hi)
    if ab.policy.best_of_poisson { mu = mid }:kl() < 1 then lo = mid else hi = mid end
  end
  local f1, b1 = ab.frontier.win_rate(1), ab.bon.win_rate(ab.bon.n_for_kl(1))
  local p1 = ab.policy.best_of_poisson { mu = lo }:win_rate()
  local t1 = ab.policy.top_fraction { eps = math.exp(-1) }:win_rate()
  local s1 = at(sk, sw, 1)
  local worst, worst_k = 0, 0
  for i, k in ipairs(kls) do
    local g = (frontier[i] - bw[i]) / (1 - bw[i])
    if g > worst then worst, worst_k = g, k end
  end
  figure("win_rate_frontier", "Win rate against the reference at a KL budget: the frontier and every rule", {
    series = {
      { x = kls, y = frontier, title = "frontier (win-rate tilt)" },
      { x = kls, y = bw, title = "best-of-n" },
      { x = pk, y = pw, title = "best-of-Poisson" },
      { x = tk, y = tw, title = "top fraction" },
      { x = sk, y = sw, title = "soft best-of-16 (Gaussian reward)" },
    },
    logx = true, xlabel = "KL (nats)", ylabel = "win rate",
  }, {
    string.format("At KL = 1 the win-rate tilt wins %.2f%% of comparisons with a reference sample, best-of-n "
      .. "(n = %s) %.2f%%, best-of-Poisson (mu = " .. g4(lo) .. ") %.2f%%, the top fraction (eps = 1/e) "
      .. "%.2f%%%s.", 100 * f1,
      g4(ab.bon.n_for_kl(1)), 100 * b1, 100 * p1, 100 * t1,
      s1 and string.format(" and soft best-of-16 %.2f%%", 100 * s1) or ""),
    string.format("Best-of-n's shortfall from the frontier is at most %.1f%% of its distance to a sure win over "
      .. "the grid (largest at KL = %s); the gap closes as KL -> 0 and KL -> inf.", 100 * worst, g4(worst_k)),
  })
  summary[#summary + 1] = string.format("win rate at KL 1: frontier %.4f, best-of-n %.4f", f1, b1)
end

-- Figure 9: golden gain against KL for every rule, with each rule's peak ---------
do
  -- one proxy/golden model: a proxy that overestimates the gold by 0.5 KL
  -- (error.overestimation), on a reference of 2000 equally likely draws of a
  -- Gaussian reward (finite, so every rule, soft best-of-n too, has its
  -- exact law with its exact KL)
  local values, probs = {}, {}
  local draws = ab.tail.gaussian { sd = 1 }:sample(2000, ab.rng(2026))
  for i = 1, 2000 do values[i], probs[i] = draws[i], 1 / 2000 end
  local ref = { values = values, probs = probs }
  local e = ab.error.overestimation { rate = 0.5 }
  local families = {
    { "best-of-n", ab.policy.best_of_n { n = logspace(0, 2.5, 30) } },
    { "best-of-Poisson", ab.policy.best_of_poisson { mu = logspace(-1, 2.5, 30) } },
    { "top fraction", ab.policy.top_fraction { eps = logspace(-2.5, 0, 30) } },
    { "win-rate tilt", ab.policy.win_rate_tilt { c = logspace(-1, 2.5, 30) } },
    { "soft best-of-32", ab.policy.soft_best_of_n { n = 32, temperature = logspace(-1.5, 1, 30) } },
    { "KL budget (tilt)", ab.policy.kl_budget { kl = logspace(-2, math.log(5, 10), 30) } },
  }
  local series, peaks = {}, {}
  local best, klo, khi
  for _, f in ipairs(families) do
    local s = ab.scenario { reference = ref, error = e, policy = f[2] }
    local rows = s:run()
    local pk = s:peak()
    series[#series + 1] = { x = column(rows, "kl"), y = column(rows, "gold_lo"), title = f[1] }
    peaks[#peaks + 1] = string.format("%s %s at %s = %s (KL %s%s)", f[1], g4(pk.gold), pk.param, g4(pk.value),
      g4(pk.kl), pk.interior and "" or ", the edge of the grid")
    if not best or pk.gold > best.gold then best = { name = f[1], gold = pk.gold, kl = pk.kl } end
    klo, khi = math.min(klo or pk.kl, pk.kl), math.max(khi or pk.kl, pk.kl)
  end
  figure("golden_rules", "Golden gain against KL for every rule (proxy overestimating by 0.5 KL)", {
    series = series, xlabel = "KL (nats)", ylabel = "golden gain guaranteed (sd)",
  }, {
    "Each rule's guaranteed golden gain peaks: " .. table.concat(peaks, "; ") .. ".",
    string.format("The highest peak is %s's (%s at KL %s), and every rule peaks between KL %s and %s.", best.name,
      g4(best.gold), g4(best.kl), g4(klo), g4(khi)),
  })
  summary[#summary + 1] = string.format("golden peak over rules: %s, %s at KL %s", best.name, g4(best.gold),
    g4(best.kl))
end

-- Figure 10: gain against budget under kl, chi2 and tv on one law ------------------
do
  local r3 = math.sqrt(3)
  local law = ab.tail.uniform { lo = -r3, hi = r3 } -- mean 0, variance 1
  local budgets = logspace(-3, 0, 31)
  local series, at = {}, {}
  for _, fam in ipairs { "kl", "chi2", "tv" } do
    local y = {}
    for i, c in ipairs(budgets) do y[i] = law:gain(c, { family = fam }) end
    series[#series + 1] = { x = budgets, y = y, title = fam }
    at[fam] = y
  end
  local i01 = 21 -- budget 0.1
  local first = 1
  figure("budgets", "Gain against budget under KL, chi2 and TV (standard uniform reward)", {
    series = series, logx = true, xlabel = "budget (nats for KL)", ylabel = "largest gain (sd units)",
  }, {
    string.format("At budget %s the largest gain is %s under KL, %s under chi2 and %s under TV; "
      .. "at budget %s KL allows %.3f times the chi2 gain (sqrt(2 c) against sqrt(c) for small c).",
      g4(budgets[i01]), g4(at.kl[i01]), g4(at.chi2[i01]), g4(at.tv[i01]), g4(budgets[first]),
      at.kl[first] / at.chi2[first]),
    string.format("TV moves mass from the bottom to the top, so it gains %s at budget 1, the top of the "
      .. "range (sqrt(3) = %s), where chi2 gains %s and KL %s.", g4(at.tv[#budgets]), g4(r3),
      g4(at.chi2[#budgets]), g4(at.kl[#budgets])),
  })
  summary[#summary + 1] = string.format("gain at budget 0.1 (uniform): kl %s, chi2 %s, tv %s",
    g4(at.kl[i01]), g4(at.chi2[i01]), g4(at.tv[i01]))
end

-- Figures 11-12: GRPO on a verifiable (binary) reward (DESIGN 3.8) ----------------
-- A heat map through gnuplot's `with image` (ab.plot draws curves only): the
-- cells on a regular grid, with marks over them.
local function heatmap(name, title, cells, marks, labels, sentences)
  local data, script, errs = os.tmpname(), os.tmpname(), os.tmpname()
  local f = assert(io.open(data, "w"))
  local lines = {}
  for _, c in ipairs(cells) do lines[#lines + 1] = string.format("%.17g %.17g %.17g", c[1], c[2], c[3]) end
  f:write(table.concat(lines, "\n"), "\n")
  for _, m in ipairs(marks) do
    local pts = {}
    for _, xy in ipairs(m.points) do pts[#pts + 1] = string.format("%.17g %.17g", xy[1], xy[2]) end
    if #pts == 0 then pts[1] = "? ?" end
    f:write("\n\n", table.concat(pts, "\n"), "\n")
  end
  f:close()
  local q = function(x) return "'" .. tostring(x):gsub("'", "''") .. "'" end
  local parts = { q(data) .. " index 0 using 1:2:3 with image notitle" }
  for i, m in ipairs(marks) do
    parts[#parts + 1] = string.format("%s index %d using 1:2 with points pt %d ps 0.6 lc rgb %s title %s", q(data), i,
      m.pt, q(m.color), q(m.title))
  end
  local text = {}
  for _, fmt in ipairs { "svg", "png" } do
    text[#text + 1] = fmt == "svg" and "set terminal svg size 800,560 dynamic noenhanced font 'Arial,12'"
      or "set terminal pngcairo size 800,560 noenhanced font 'Arial,10'"
    text[#text + 1] = "set output " .. q(OUT .. "/" .. name .. "." .. fmt)
    text[#text + 1] = "set datafile missing '?'"
    text[#text + 1] = "set title " .. q(title)
    text[#text + 1] = "set xlabel " .. q(labels.x)
    text[#text + 1] = "set ylabel " .. q(labels.y)
    text[#text + 1] = "set cblabel " .. q(labels.z)
    text[#text + 1] = "set palette rgbformulae 33,13,10"
    text[#text + 1] = "set key outside bottom center horizontal"
    text[#text + 1] = "set autoscale xfix; set autoscale yfix"
    text[#text + 1] = "plot " .. table.concat(parts, ", ")
    text[#text + 1] = "unset output"
  end
  f = assert(io.open(script, "w"))
  f:write(table.concat(text, "\n"), "\n")
  f:close()
  local ok = os.execute(string.format("gnuplot '%s' 2>'%s'", script, errs))
  local msg = assert(io.open(errs)):read("a")
  os.remove(data); os.remove(script); os.remove(errs)
  if not ok then error("gnuplot failed on " .. name .. ": " .. msg, 0) end
  figures = figures + 1
  say(string.format("### Figure %d. %s\n", figures, title))
  say(string.format("![%s](%s.svg)\n", title, name))
  say(table.concat(sentences, " ") .. string.format(" (PNG: [%s.png](%s.png).)\n", name, name))
end

if has("grpo", "limit") then
  local NX, NY, EPS = 64, 48, 1e-5
  local cells, by_kind = {}, {}
  local marks = {
    { kind = "cycle", title = "two-cycle", pt = 7, color = "black", points = {} },
    { kind = "periodic", title = "longer cycle (period 3-64)", pt = 5, color = "white", points = {} },
    { kind = "irregular", title = "no limit (chaos)", pt = 2, color = "magenta", points = {} },
  }
  local mark_of = {}
  for _, m in ipairs(marks) do mark_of[m.kind] = m end
  local cyc_lo, cyc_hi, zero_certain = math.huge, -math.huge, 0
  for i = 1, NX do
    local lx = -4 + 3.9 * (i - 1) / (NX - 1)
    for j = 1, NY do
      local ly = -1 + 3 * (j - 1) / (NY - 1)
      local l = ab.grpo.limit(10 ^ lx, { beta = 10 ^ ly, eps = EPS })
      cells[#cells + 1] = { lx, ly, l.p }
      by_kind[l.kind] = (by_kind[l.kind] or 0) + 1
      local m = mark_of[l.kind]
      if m then
        m.points[#m.points + 1] = { lx, ly }
        cyc_lo, cyc_hi = math.min(cyc_lo, 10 ^ ly), math.max(cyc_hi, 10 ^ ly)
      end
      if ab.grpo.limit(10 ^ lx, { beta = 10 ^ ly, eps = 0 }).kind == "certainty" then
        zero_certain = zero_certain + 1
      end
    end
  end
  local total = NX * NY
  local function share(k) return string.format("%d (%.1f%%)", by_kind[k] or 0, 100 * (by_kind[k] or 0) / total) end
  local near1 = 0
  for _, c in ipairs(cells) do if c[3] > 0.99 then near1 = near1 + 1 end end
  heatmap("grpo_limit", string.format("GRPO's limit success rate from the reference (eps = %g)", EPS), cells, marks,
    { x = "log10 p_ref (reference success rate)", y = "log10 beta (KL penalty)", z = "limit success rate" }, {
      string.format("Iterating GRPO's exact recurrence from the reference on a %d x %d grid of (p_ref, beta): %s "
        .. "grid points converge to a fixed point, %s to a two-cycle, %s to a longer cycle and %s wander "
        .. "without a limit (chaos, the period-doubling cascade of the standardised advantage Omega = "
        .. "(p(1-p)+eps)^(-1/2)); cycles and chaos occur only for rare successes and beta between %s and %s.",
        NX, NY, share("fixed_point"), share("cycle"), share("periodic"), share("irregular"), g4(cyc_lo),
        g4(cyc_hi)),
      string.format("A small beta drives the success rate to within 1%% of certainty on %.1f%% of the grid (the "
        .. "colour is the average over a cycle); without the stabiliser (eps = 0) %.1f%% of the grid diverges "
        .. "to certainty instead of converging, since Omega is then unbounded.", 100 * near1 / total,
        100 * zero_certain / total),
    })
  summary[#summary + 1] = string.format("GRPO limits (eps %g): %s fixed, %s two-cycles, %s longer cycles, %s chaos",
    EPS, share("fixed_point"), share("cycle"), share("periodic"), share("irregular"))

  -- Figure 12: GRPO against best-of-n and the tilt frontier, p_ref = 0.001
  local p0 = 0.001
  local bern = ab.tail.bernoulli { p = p0 }
  local kls = logspace(-4, math.log(-math.log(p0), 10), 60)
  local fq = {}
  for i, k in ipairs(kls) do fq[i] = p0 + bern:gain(k) end
  local bk, bq = {}, {}
  for k = 1, 24 do
    local b = ab.bon.binary(p0, 2 ^ (k * 0.5))
    bk[k], bq[k] = b.kl, b.pass
  end
  local fx, fy, cx, cy, ix, iy = {}, {}, {}, {}, {}, {}
  local worst, worst_beta, worst_front, fixed_off = nil, nil, nil, 0
  for _, beta in ipairs(logspace(-0.5, 2, 60)) do
    local l = ab.grpo.limit(p0, { beta = beta, eps = EPS })
    if l.kind == "fixed_point" then
      fx[#fx + 1], fy[#fy + 1] = l.kl, l.p
      fixed_off = math.max(fixed_off, math.abs(l.p - (p0 + bern:gain(l.kl))) / l.p)
    elseif l.kind == "cycle" then
      for _, pt in ipairs(l.points) do ix[#ix + 1], iy[#iy + 1] = pt.kl, pt.p end
      cx[#cx + 1], cy[#cy + 1] = l.kl, l.p
      local front = p0 + bern:gain(l.kl)
      if not worst or l.p / front < worst then worst, worst_beta, worst_front = l.p / front, beta, front end
    end
  end
  -- the best-of-n that spends the cycle's average KL: n by bisection in log n
  -- (at beta as printed, so that the sentence can be checked from it)
  local n_same
  if worst then
    worst_beta = tonumber(g4(worst_beta))
    local l = ab.grpo.limit(p0, { beta = worst_beta, eps = EPS })
    worst_front = p0 + bern:gain(l.kl)
    worst = l.p / worst_front
    local target = select(1, ab.grpo.limit(p0, { beta = worst_beta, eps = EPS })).kl
    local lo, hi = 0, 60
    for _ = 1, 200 do
      local mid = 0.5 * (lo + hi)
      if ab.bon.binary(p0, math.exp(mid)).kl < target then lo = mid else hi = mid end
    end
    n_same = math.exp(0.5 * (lo + hi))
  end
  local series = {
    { x = kls, y = fq, title = "tilt frontier (largest success rate at that KL)", style = "lines" },
    { x = bk, y = bq, title = "best-of-n, n = 2^(k/2)", style = "points" },
    { x = fx, y = fy, title = "GRPO fixed point (one per beta)", style = "points" },
  }
  if #cx > 0 then
    series[#series + 1] = { x = ix, y = iy, title = "GRPO two-cycle: its two policies", style = "points" }
    series[#series + 1] = { x = cx, y = cy, title = "GRPO two-cycle: average success at average KL",
      style = "points" }
  end
  figure("grpo_vs_bon", "Verifiable reward (p_ref = 0.001): GRPO, best-of-n and the tilt frontier", {
    series = series, logx = true, logy = true, xlabel = "KL to the reference (nats)", ylabel = "success rate",
  }, {
    string.format("For a binary reward best-of-n is a tilt of the reference, so every pass@n sits on the "
      .. "frontier, and so does every GRPO fixed point (each iterate is a tilt): the %d fixed points over beta "
      .. "lie on it to %.1e relative, and GRPO's limit at a penalty beta matches best-of-n with "
      .. "n = log(1 - p*)/log(1 - p_ref).", #fx, fixed_off),
    worst and string.format("Where GRPO cycles (%d of the 60 betas), each policy of the cycle is on the frontier "
      .. "but the run alternates between them: at beta = %s it averages a success rate of %s for an average "
      .. "KL of %s, %.1f%% of the frontier's %s at that KL, which best-of-n reaches with n = %.1f.",
      #cx, g4(worst_beta), g4(worst * worst_front), g4(ab.grpo.limit(p0, { beta = worst_beta, eps = EPS }).kl),
      100 * worst, g4(worst_front), n_same) or "GRPO does not cycle at this p_ref.",
  })
  summary[#summary + 1] = string.format("GRPO p_ref 0.001: %d fixed points on the frontier, %d two-cycles below it",
    #fx, #cx)
end

-- The tables of the text report -------------------------------------------------
local function text_table(head, rows)
  local w = {}
  local all = { head }
  for _, r in ipairs(rows) do all[#all + 1] = r end
  for _, r in ipairs(all) do
    for j, c in ipairs(r) do
      r[j] = type(c) == "number" and (c == math.huge and "inf" or g4(c)) or c
      w[j] = math.max(w[j] or 0, #r[j])
    end
  end
  local out = {}
  for i, r in ipairs(all) do
    local cells = {}
    for j, c in ipairs(r) do cells[j] = string.rep(" ", w[j] - #c) .. c end
    out[#out + 1] = table.concat(cells, "  ")
    if i == 1 then out[#out + 1] = string.rep("-", #out[1]) end
  end
  return "```\n" .. table.concat(out, "\n") .. "\n```\n"
end

say("## Tables\n")
do
  local kls = { 1e-4, 1e-3, 0.01, 0.1, 0.5, 1, 2, 5, 10, 50 }
  local head = { "KL" }
  for _, set in ipairs { classes, laws } do
    for _, l in ipairs(set) do head[#head + 1] = l[1]:gsub(" %(exact%)", "") end
  end
  local rows = {}
  for i, k in ipairs(kls) do
    rows[i] = { k }
    for _, set in ipairs { classes, laws } do for _, l in ipairs(set) do rows[i][#rows[i] + 1] = l[2]:gain(k) end end
  end
  say("Largest gain at each KL budget (classes: bounds; exact laws: the optimum, reached by the tilt):\n")
  say(text_table(head, rows))
  head = { "gain" }
  for _, l in ipairs(laws) do head[#head + 1] = l[1]:gsub(" %(exact%)", "") end
  rows = {}
  for i, g in ipairs { 0.1, 0.5, 1, 2, 3, 5 } do
    rows[i] = { g }
    for _, l in ipairs(laws) do rows[i][#rows[i] + 1] = l[2]:kl_needed(g) end
  end
  say("KL needed for a gain (inf: beyond the law's reach):\n")
  say(text_table(head, rows))
  rows = {}
  for i, k in ipairs { 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20 } do
    local n = 2 ^ k
    rows[i] = { n }
    for _, l in ipairs { laws[1], laws[2], laws[4] } do
      local b, cert = ab.bon.gain(l[2], n)
      rows[i][#rows[i] + 1] = g4(b) .. " [" .. cert .. "]"
      rows[i][#rows[i] + 1] = ab.bon.expected_gain(l[2], n)
    end
  end
  say("Best-of-n: the certified bound [certificate] against the exact gain:\n")
  say(text_table({ "n", "gaussian bound", "exact", "uniform bound", "exact", "gumbel bound", "exact" }, rows))
  rows = {}
  for i, n in ipairs { 1, 2, 4, 16, 64, 256, 1024, 2 ^ 20 } do
    local r = ab.bon.policy({ 0.9, 0.09, 0.01 }, { 0, 1, 2 }, n)
    rows[i] = { n, r.kl, r.kl_bound, r.win_rate, r.mean }
  end
  say("With ties (a reward model scoring 90% of responses 0, 9% 1, 1% 2) the exact KL of best-of-n stops at "
    .. "-log 0.01 = 4.6 nats while log n - (n-1)/n keeps growing:\n")
  say(text_table({ "n", "exact KL", "log n - (n-1)/n", "win rate", "mean reward" }, rows))
end

local path = OUT .. "/report.md"
local f = assert(io.open(path .. ".tmp", "w"))
f:write(table.concat(md, "\n"), "\n")
f:close()
assert(os.rename(path .. ".tmp", path))

print(string.format("alignbound %s: wrote %s with %d figures (%s/*.svg, *.png)", ab.version, path, figures, OUT))
for _, l in ipairs(summary) do print("  " .. l) end
