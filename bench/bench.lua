-- bench/bench.lua: the hot paths against plain baselines in the same run.
-- Run with `make bench`; prints ratios.  Timings are best-of-k CPU times.
local ab = require "alignbound"

local baseline = assert(arg[1], "usage: bench.lua path/to/bench_baseline")

local function now()
  -- os.clock is CPU time, which is what a single-threaded kernel costs
  return os.clock()
end

local function best_of(k, fn)
  local best = math.huge
  for _ = 1, k do
    local t0 = now()
    fn()
    best = math.min(best, now() - t0)
  end
  return best
end

-- m rewards in [0, 1) in scrambled order, the same as the C baseline's
local function golden_rewards(m)
  local rewards = ab.vector(m)
  for i = 1, m do
    local v = i * 0.6180339887498949
    rewards[i] = v - math.floor(v)
  end
  return rewards
end

local function run_baseline(what, n)
  local p = assert(io.popen(baseline .. " " .. what .. " " .. n))
  local out = p:read("a")
  p:close()
  return tonumber(out:match("^(%S+)"))
end

print(string.format("alignbound %s benchmarks (%s)", ab.version, _VERSION))
print(string.rep("-", 72))

-- 1. sub-Gaussian gain over 10^7 KL values vs the plain C loop
do
  local n = 10000000
  local kl = ab.vector(n)
  for i = 1, n do kl[i] = i * 1e-7 end
  local t = ab.tail.subgaussian { sigma = 1.5 }
  local out = ab.vector(n, 0)
  local into = best_of(5, function() t:gain(kl, { out = out }) end)
  local base = run_baseline("sqrt", n)
  assert(math.abs(out[n // 2] - 1.5 * math.sqrt(2 * (n // 2) * 1e-7)) < 1e-12)
  print(string.format("subgaussian:gain, 10^7 KL, out=     %8.2f ms   C loop %8.2f ms   ratio %.2fx",
    into * 1e3, base * 1e3, into / base))
  out = nil -- luacheck: ignore
  collectgarbage()
  local fresh = best_of(5, function() t:gain(kl) end)
  local base_fresh = run_baseline("fresh", n)
  print(string.format("subgaussian:gain, 10^7 KL, new vec  %8.2f ms   C+malloc %6.2f ms   ratio %.2fx",
    fresh * 1e3, base_fresh * 1e3, fresh / base_fresh))
end

-- 2. exact laws through the numerical engine
for _, spec in ipairs { { "gaussian", { sd = 1 } }, { "gumbel", { scale = 1 } } } do
  local n = 100000
  local kl = ab.vector(n)
  for i = 1, n do kl[i] = 10 ^ (-6 + 8 * (i - 1) / (n - 1)) end
  local t = ab.tail[spec[1]](spec[2])
  local opts = spec[1] == "gaussian" and { numeric = true } or nil
  local secs = best_of(3, function() t:gain(kl, opts) end)
  -- scalar calls pay the cold start every time
  local m = 10000
  local cold = best_of(3, function() for i = 1, m do t:gain(kl[i * 10], opts) end end)
  print(string.format("%-8s gain via the engine, 10^5 KL  %8.2f ms   %.3g evals/s (vector), "
    .. "%.3g evals/s (scalar calls)", spec[1], secs * 1e3, n / secs, m / cold))
end

-- 3. empirical law of 10^6 samples, 100 KL values
do
  local n = 1000000
  local v = ab.vector(n)
  math.randomseed(42)
  for i = 1, n do v[i] = math.random() ^ 2 end
  local e = ab.tail.empirical(v)
  local kl = {}
  for i = 1, 100 do kl[i] = 10 ^ (-3 + 4 * (i - 1) / 99) end
  local secs = best_of(3, function() e:gain(kl) end)
  -- one cumulant evaluation is one pass over the samples
  local ls = {}
  for i = 1, 50 do ls[i] = i * 0.1 end
  local pass = best_of(3, function() e:cumulant(ls) end) / #ls
  local base = run_baseline("exp", n)
  print(string.format("empirical(10^6):gain at 100 KL     %8.2f ms   %.1f passes per KL value, "
    .. "%.2f ms per pass (C exp loop %.2f ms)", secs * 1e3, secs / 100 / pass, pass * 1e3, base * 1e3))
end

-- 5. best-of-n of a discrete reference: 10^7 outcomes in random order,
-- against a plain C qsort of the same rewards
do
  local m = 10000000
  local probs, rewards = ab.vector(m, 1 / m), golden_rewards(m)
  local r
  local secs = best_of(3, function() r = ab.bon.policy(probs, rewards, 64) end)
  local base = run_baseline("sort", m)
  assert(r.kl <= r.kl_bound)
  print(string.format("bon.policy + KL, 10^7 outcomes      %8.2f ms   C qsort %8.2f ms   ratio %.2fx",
    secs * 1e3, base * 1e3, secs / base))
end

-- 5b. soft best-of-n of a discrete reference: 10^6 distinct rewards, n = 16,
-- temperature 0.1 (a reward range of 10 temperatures), against best-of-16's
-- exact law of the same atoms (one sort and one walk)
do
  local m = 1000000
  local probs, rewards = ab.vector(m, 1 / m), golden_rewards(m)
  local soft = ab.policy.soft_best_of_n { n = 16, temperature = 0.1 }
  local r, b
  local secs = best_of(2, function() r = soft:law(probs, rewards) end)
  local base = best_of(3, function() b = ab.bon.policy(probs, rewards, 16) end)
  assert(r.kl < b.kl and r.win_rate < b.win_rate, "softer than best-of-16")
  print(string.format("soft best-of-16 law, 10^6 atoms      %8.2f ms   bon.policy %8.2f ms   ratio %.1fx "
    .. "(Laplace form: ~110 full quadrature nodes)", secs * 1e3, base * 1e3, secs / base))
end

-- 6. best-of-n estimates from 10^6 logged samples
do
  local N = 1000000
  local s, v = ab.vector(N), ab.vector(N)
  for i = 1, N do
    local x = i * 0.7548776662466927
    s[i] = x - math.floor(x)
    v[i] = s[i] + 0.1 * math.sin(i)
  end
  local one = best_of(3, function() ab.bon.from_samples(s, v, 64) end)
  local all = best_of(1, function() ab.bon.from_samples(s, v) end)
  print(string.format("bon.from_samples, N = 10^6          %8.2f ms for one n, %.2f s for all n = 1..N",
    one * 1e3, all))
end

-- 7. best-of-n divergence through the integral, for a user f in Lua
do
  local f = ab.fdiv(function(t) return (t - 1) ^ 2 / (t + 1) end)
  local parts = {}
  for _, n in ipairs { 10, 1000, 1000000 } do
    local k = 200
    local secs = best_of(3, function() for _ = 1, k do ab.bon.divergence(n, f) end end)
    parts[#parts + 1] = string.format("n=%g: %.0f/s", n, k / secs)
  end
  local js = best_of(3, function() for _ = 1, 200 do ab.bon.divergence(1000, "js") end end)
  print(string.format("bon.divergence, user f (integral)   %s   (named js, C generator: %.0f/s)",
    table.concat(parts, "  "), 200 / js))
end

-- 8. best-of-n sampling: one quantile draw against the naive max of n draws
do
  local g = ab.tail.gaussian { sd = 1 }
  local n, k = 1024, 1000000
  local rng = ab.rng(1)
  local secs = best_of(3, function() ab.bon.sample(g, n, k, rng) end)
  local p = assert(io.popen(baseline .. " naive " .. n .. " 20000"))
  local naive = tonumber(p:read("a"):match("^(%S+)"))
  p:close()
  print(string.format("bon.sample n=1024, 10^6 draws       %8.2f ms   naive max of n (C, GSL ziggurat): %.0f ms"
    .. " per 10^6   ratio %.0fx", secs * 1e3, naive * k * 1e3, naive * k / secs))
end

-- 9. the tilt of 10^7 outcomes at a KL budget
do
  local m = 10000000
  local probs, rewards = ab.vector(m, 1 / m), golden_rewards(m)
  local r
  local secs = best_of(3, function() r = ab.tilt.policy(probs, rewards, { kl = 0.5 }) end)
  assert(math.abs(r.kl - 0.5) < 1e-9)
  -- one cumulant evaluation of the same law is one pass
  local d = ab.tail.discrete { values = rewards, probs = probs }
  local pass = best_of(3, function() d:cumulant(2.0) end)
  print(string.format("tilt.policy {kl=}, 10^7 outcomes    %8.2f ms   = %.1f passes of %.1f ms (a pass: one"
    .. " cumulant evaluation)", secs * 1e3, secs / pass, pass * 1e3))
end

-- 10. the CSV reader: 10^7 rows of 3 columns against io.lines + tonumber
do
  local path = "build/bench.csv"
  local f = io.open(path)
  if not f then
    f = assert(io.open(path, "w"))
    f:write("a,b,c\n")
    local rng = ab.rng(3)
    for _ = 1, 100 do
      local u = rng:uniform(300000)
      local lines = {}
      for i = 1, 100000 do
        lines[i] = string.format("%.10g,%.10g,%.10g", u[3 * i - 2], u[3 * i - 1] * 100, -u[3 * i])
      end
      f:write(table.concat(lines, "\n"), "\n")
    end
  end
  f:close()
  local size = assert(io.open(path)):seek("end")
  local cols, rows, lua_cols
  local ours = best_of(1, function() cols, rows = ab.read_csv(path) end)
  assert(rows == 10000000)
  local plain = best_of(1, function()
    local a, b, c, n = {}, {}, {}, 0
    local it = io.lines(path)
    it() -- header
    for line in it do
      local x, y, z = line:match("^([^,]*),([^,]*),([^,]*)$")
      n = n + 1
      a[n], b[n], c[n] = tonumber(x), tonumber(y), tonumber(z)
    end
    lua_cols = { a = a, b = b, c = c }
  end)
  -- the same numbers both ways
  for _, i in ipairs { 1, 5000000, 10000000 } do
    assert(cols.a[i] == lua_cols.a[i] and cols.b[i] == lua_cols.b[i] and cols.c[i] == lua_cols.c[i])
  end
  print(string.format("read_csv, 10^7 rows x 3 (%.0f MB)   %8.2f s (%.0f MB/s)   io.lines + tonumber %.2f s"
    .. " (%.0f MB/s)   ratio %.1fx", size / 1e6, ours, size / 1e6 / ours, plain, size / 1e6 / plain, plain / ours))
end

-- 11. scenarios: 20 best-of-n values with 10^5 Monte Carlo draws each, against
-- a plain Lua loop making the same draws.  (a) A Gaussian reward: each draw of
-- the best of n is one quantile draw, O(1) (the scenario on the jointly
-- Gaussian model itself is exact and needs no draws: timed too).  (b) An
-- additive heavy-tailed model, proxy = gold + Student-t(3) error, gold
-- N(0, 1): each selection draws n pairs, O(n); the Lua loop is timed on 10^4
-- draws per n and scaled to 10^5.
do
  local draws = 100000
  -- (a) n = 2^0 .. 2^19 on a standard normal reward
  local ns = {}
  for k = 0, 19 do ns[#ns + 1] = 2 ^ k end
  local g = ab.tail.gaussian { sd = 1 }
  local s = ab.scenario { reference = g, policy = ab.policy.best_of_n { n = ns },
    monte_carlo = { draws = draws, seed = 1 } }
  local rows
  local ours = best_of(3, function() rows = s:run() end)
  -- Acklam's rational approximation of the normal quantile (relative error
  -- 1.15e-9), the plain-Lua counterpart of the core's quantile draw
  local a = { -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
    -3.066479806614716e+01, 2.506628277459239e+00 }
  local b = { -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
    -1.328068155288572e+01 }
  local c = { -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
    4.374664141464968e+00, 2.938163982698783e+00 }
  local d = { 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00 }
  local function qnorm(p)
    if p < 0.02425 then
      local q = math.sqrt(-2 * math.log(p))
      return (((((c[1] * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) * q + c[6]) /
        ((((d[1] * q + d[2]) * q + d[3]) * q + d[4]) * q + 1)
    elseif p > 1 - 0.02425 then
      local q = math.sqrt(-2 * math.log(1 - p))
      return -(((((c[1] * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) * q + c[6]) /
        ((((d[1] * q + d[2]) * q + d[3]) * q + d[4]) * q + 1)
    end
    local q = p - 0.5
    local r = q * q
    return (((((a[1] * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * r + a[6]) * q /
      (((((b[1] * r + b[2]) * r + b[3]) * r + b[4]) * r + b[5]) * r + 1)
  end
  local lua_means = {}
  local plain = best_of(1, function()
    math.randomseed(1)
    for i, n in ipairs(ns) do
      local sum, inv = 0, 1 / n
      for _ = 1, draws do sum = sum + qnorm((1 - math.random()) ^ inv) end
      lua_means[i] = sum / draws
    end
  end)
  for i = 1, #ns, 6 do
    assert(math.abs(rows[i].proxy_mc - lua_means[i]) < 6 * rows[i].proxy_se + 1e-3, "the same law both ways")
  end
  local j = ab.joint.gaussian { rho = 0.6, sd_proxy = 1, sd_gold = 1 }
  local exact = best_of(3, function() ab.scenario { joint = j, policy = ab.policy.best_of_n { n = ns } }:run() end)
  print(string.format("scenario, Gaussian, 20 n x 10^5 draws %8.2f ms   Lua loop %8.2f ms   ratio %.1fx   "
    .. "(jointly Gaussian, exact: %.2f ms)", ours * 1e3, plain * 1e3, plain / ours, exact * 1e3))

  -- (b) n = 1 .. 20, additive Student-t(3) error
  local bn = {}
  for n = 1, 20 do bn[n] = n end
  local add = ab.joint.additive { gold = g, error = ab.tail.student_t { df = 3, scale = 1 } }
  local sa = ab.scenario { joint = add, policy = ab.policy.best_of_n { n = bn },
    monte_carlo = { draws = draws, seed = 1 } }
  local arows
  local ours_b = best_of(1, function() arows = sa:run() end)
  local function normal()
    -- Box-Muller
    return math.sqrt(-2 * math.log(1 - math.random())) * math.cos(2 * math.pi * math.random())
  end
  local small = draws // 10
  local lua_gold = {}
  local plain_b = best_of(1, function()
    math.randomseed(2)
    for i, n in ipairs(bn) do
      local sum = 0
      for _ = 1, small do
        local best, gold = -math.huge, 0
        for _ = 1, n do
          local gv = normal()
          local z, c1, c2, c3 = normal(), normal(), normal(), normal()
          local p = gv + z / math.sqrt((c1 * c1 + c2 * c2 + c3 * c3) / 3)
          if p > best then best, gold = p, gv end
        end
        sum = sum + gold
      end
      lua_gold[i] = sum / small
    end
  end) * (draws / small)
  for _, i in ipairs { 2, 10, 20 } do
    -- the Lua loop's error is sqrt(10) times the scenario's (a tenth of the draws)
    assert(math.abs(arows[i].gold_gain - lua_gold[i]) < 6 * arows[i].gold_se * math.sqrt(11) + 1e-3,
      "the same model both ways")
  end
  print(string.format("scenario, additive t(3), 20 n x 10^5 %8.2f ms   Lua loop %8.2f ms   ratio %.1fx   "
    .. "(Lua timed on 10^4 draws per n, scaled)", ours_b * 1e3, plain_b * 1e3, plain_b / ours_b))
end

-- 5. every divergence budget (issue 8): the exact chi2, hellinger, renyi(0.3)
-- and alpha(3) frontiers of an empirical law of 10^6 samples at 100 budgets,
-- against its KL frontier at the same 100 budgets (each should cost within
-- 3x of KL)
do
  local n = 1000000
  local rewards = golden_rewards(n)
  for i = 1, n do rewards[i] = rewards[i] ^ 3 end -- skewed, all distinct
  local t = ab.tail.empirical(rewards)
  local budgets = ab.vector(100)
  for i = 1, 100 do budgets[i] = 10 ^ (-4 + 4 * (i - 1) / 99) end
  local chi2, kl
  local t_chi2 = best_of(3, function() chi2 = t:gain(budgets, { family = "chi2" }) end)
  local t_kl = best_of(3, function() kl = t:gain(budgets) end)
  -- the frontier of a budget of chi2 c is at most the KL one at log(1 + c)
  assert(chi2[50] <= t:gain(math.log(1 + budgets[50])) * (1 + 1e-12) and kl[50] > 0)
  print(string.format("chi2 frontier, 10^6 atoms, 100 c  %8.2f ms   kl frontier %8.2f ms   ratio %.2fx",
    t_chi2 * 1e3, t_kl * 1e3, t_chi2 / t_kl))
  -- the power families: sums by local series over buckets of the sorted atoms
  for _, o in ipairs { { family = "hellinger" }, { family = "renyi", alpha = 0.3 }, { family = "alpha", alpha = 3 } } do
    local g
    local secs = best_of(1, function() g = t:gain(budgets, o) end)
    assert(g[100] > g[1] and g[1] > 0)
    local what = o.family .. (o.alpha and ("(" .. o.alpha .. ")") or "")
    print(string.format("%-12s frontier, 10^6 atoms %8.2f ms   kl frontier %8.2f ms   ratio %.2fx",
      what, secs * 1e3, t_kl * 1e3, secs / t_kl))
  end
end

-- 4. memory of a 10^7-element vector: peak RSS of a fresh process that makes
-- one, against the same process making nothing and one filling a Lua table
do
  local function peak(code)
    local cmd = string.format("%q -e %q", arg[-1] or "lua5.4", [[
      local ab = require "alignbound"
      ]] .. code .. [[
      local f = io.open("/proc/self/status"); local s = f:read("a"); f:close()
      io.write(s:match("VmHWM:%s*(%d+)"))]])
    local p = assert(io.popen(cmd))
    local kb = tonumber(p:read("a"))
    p:close()
    return kb / 1024
  end
  local none = peak("")
  local vec = peak("local v = ab.vector(10000000, 1); v[1] = 0")
  local tab = peak("local t = {}; for i = 1, 10000000 do t[i] = 1.0 end")
  print(string.format("vector of 10^7 doubles              %8.1f MiB peak RSS over an empty process "
    .. "(8e7 bytes = 76.3 MiB); a Lua table: %.1f MiB", vec - none, tab - none))
end
