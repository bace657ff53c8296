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
  -- numpy's np.sqrt(2 * s2 * kl) in the same run, when a python3 with numpy
  -- is there (BENCH_PYTHON names it; best of 5 CPU times, as here)
  local p = io.popen((os.getenv("BENCH_PYTHON") or "python3") .. " -c 'import numpy as np, time\n"
    .. "kl = np.arange(1, 10**7 + 1) * 1e-7\nb = 1e9\n"
    .. "for _ in range(5):\n t0 = time.process_time(); np.sqrt(2 * 2.25 * kl)\n"
    .. " b = min(b, time.process_time() - t0)\nprint(b)' 2>/dev/null")
  local np_time = p and tonumber(p:read("a"):match("^(%S+)"))
  if p then p:close() end
  if np_time then
    print(string.format("numpy np.sqrt(2 * s2 * kl), 10^7   %8.2f ms   out= %.2fx, new vec %.2fx numpy's time",
      np_time * 1e3, into / np_time, fresh / np_time))
  end
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

-- 4. best-of-n of a discrete reference: 10^7 outcomes in random order,
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

-- 5. best-of-n estimates from 10^6 logged samples
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

-- 6. best-of-n divergence through the integral, for a user f in Lua
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

-- 7. best-of-n sampling: one quantile draw against the naive max of n draws
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

-- 8. the tilt of 10^7 outcomes at a KL budget
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

-- 9. the CSV reader: 10^7 rows of 3 columns against io.lines + tonumber
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

-- 10b. a log with a text column, 10^7 rows (16 responses a prompt) as CSV and
-- as JSON Lines: read_csv {text=} against io.lines + tonumber keeping the id
-- strings, read_jsonl against lua-cjson decoding line by line (when the
-- Debian package lua-cjson is installed; a bench comparison only)
do
  local csv, jsonl = "build/bench_text.csv", "build/bench.jsonl"
  local f = io.open(csv)
  if not f then
    local fc, fj = assert(io.open(csv, "w")), assert(io.open(jsonl, "w"))
    fc:write("prompt_id,reward,gold\n")
    local rng = ab.rng(5)
    for block = 0, 99 do
      local u = rng:uniform(200000)
      local lc, lj = {}, {}
      for i = 1, 100000 do
        local id = string.format("p%07d", (block * 100000 + i - 1) // 16)
        local r, g = string.format("%.10g", u[2 * i - 1] - 0.5), string.format("%.10g", u[2 * i] * 3)
        lc[i] = id .. "," .. r .. "," .. g
        lj[i] = '{"prompt_id":"' .. id .. '","reward":' .. r .. ',"meta":{"gold":' .. g .. '}}'
      end
      fc:write(table.concat(lc, "\n"), "\n")
      fj:write(table.concat(lj, "\n"), "\n")
    end
    fc:close()
    fj:close()
  else
    f:close()
  end
  local function mb(path) local h = assert(io.open(path)); local n = h:seek("end"); h:close(); return n / 1e6 end
  local cols, rows
  local ours = best_of(1, function() cols, rows = ab.read_csv(csv, { text = { "prompt_id" } }) end)
  assert(rows == 10000000 and cols.prompt_id[17] == "p0000001")
  local held = {} -- what the Lua loops read, checked and then let go
  local plain = best_of(1, function()
    local id, r, g, n = {}, {}, {}, 0
    local it = io.lines(csv)
    it() -- header
    for line in it do
      local a, b, c = line:match("^([^,]*),([^,]*),([^,]*)$")
      n = n + 1
      id[n], r[n], g[n] = a, tonumber(b), tonumber(c)
    end
    held.csv = { id = id, reward = r, gold = g }
  end)
  assert(held.csv.id[10000000] == cols.prompt_id[10000000] and held.csv.gold[5] == cols.gold[5])
  held.csv = nil
  print(string.format("read_csv {text=}, 10^7 rows (%.0f MB)   %8.2f s (%.0f MB/s)   io.lines + tonumber %.2f s"
    .. " (%.0f MB/s)   ratio %.1fx", mb(csv), ours, mb(csv) / ours, plain, mb(csv) / plain, plain / ours))
  held.gold = cols.gold
  cols = nil -- luacheck: ignore 311
  collectgarbage()
  local js = best_of(1, function()
    cols, rows = ab.read_jsonl(jsonl, { fields = { "reward", "meta.gold" }, text = { "prompt_id" } })
  end)
  assert(rows == 10000000 and cols["meta.gold"][9999999] == held.gold[9999999])
  cols, held.gold = nil, nil -- luacheck: ignore 311
  collectgarbage()
  local ok, cjson = pcall(require, "cjson")
  local versus = "lua-cjson not installed"
  if ok then
    local decode = cjson.decode
    local lua = best_of(1, function()
      local id, r, g, n = {}, {}, {}, 0
      for line in io.lines(jsonl) do
        local o = decode(line)
        n = n + 1
        id[n], r[n], g[n] = o.prompt_id, o.reward, o.meta.gold
      end
      held.jsonl = { id = id, reward = r, gold = g }
    end)
    assert(#held.jsonl.id == 10000000)
    held.jsonl = nil
    versus = string.format("lua-cjson line by line %.2f s (%.0f MB/s)   ratio %.1fx", lua, mb(jsonl) / lua, lua / js)
  end
  print(string.format("read_jsonl, 10^7 rows (%.0f MB)       %8.2f s (%.0f MB/s)   %s", mb(jsonl), js,
    mb(jsonl) / js, versus))
  collectgarbage()
end

-- 10. scenarios: 20 best-of-n values with 10^5 Monte Carlo draws each, against
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

-- 11. every divergence budget (issue 8): the exact chi2, hellinger, renyi(0.3)
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

-- 12. memory of a 10^7-element vector: peak RSS of a fresh process that makes
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

-- 13. GRPO on a binary reward (issue 12): every fixed point and the limit
-- from p_ref over a 1000 x 1000 grid of (p_ref, beta) (p_ref from 1e-4 to
-- 10^-0.1, beta from 0.1 to 100, log-spaced; eps = 1e-5), against a plain
-- Lua iteration of the recurrence until it settles (a step below 1e-12, or
-- a two-cycle; at most 10^5 steps: chaotic points cost that many, as in the
-- core before it learnt to detect chaos), timed on a 100 x 100 subgrid and
-- scaled per point.
do
  local N, SUB, EPS = 1000, 100, 1e-5
  local function pref(i, n) return 10 ^ (-4 + 3.9 * (i - 1) / (n - 1)) end
  local function beta(j, n) return 10 ^ (-1 + 3 * (j - 1) / (n - 1)) end
  local o = { beta = 1, eps = EPS }
  local kinds = {}
  local t_lim = best_of(1, function()
    for i = 1, N do
      local p = pref(i, N)
      for j = 1, N do
        o.beta = beta(j, N)
        local k = ab.grpo.limit(p, o).kind
        kinds[k] = (kinds[k] or 0) + 1
      end
    end
  end)
  local nfixed = 0
  local t_fix = best_of(1, function()
    for i = 1, N do
      local p = pref(i, N)
      for j = 1, N do
        o.beta = beta(j, N)
        nfixed = nfixed + #ab.grpo.fixed_points(p, o)
      end
    end
  end)
  local steps, agree = 0, 0
  local t_lua = best_of(1, function()
    for i = 1, SUB do
      local p = pref(i, SUB)
      local xr = math.log(p) - math.log(1 - p)
      for j = 1, SUB do
        local b = beta(j, SUB)
        local x0, x1, x = xr, xr, xr
        for _ = 1, 100000 do
          local q = 1 / (1 + math.exp(-x1))
          x = xr + 1 / math.sqrt(q * (1 - q) + EPS) / b
          steps = steps + 1
          if math.abs(x - x1) <= 1e-12 * (1 + math.abs(x)) or math.abs(x - x0) <= 1e-12 * (1 + math.abs(x)) then
            break
          end
          x0, x1 = x1, x
        end
        if j % 10 == 0 then
          o.beta = b
          local l = ab.grpo.limit(p, o)
          if l.kind == "fixed_point" and math.abs(l.logit - x) <= 1e-8 * (1 + math.abs(x)) then agree = agree + 1 end
        end
      end
    end
  end)
  local per_lim, per_fix, per_lua = t_lim / N ^ 2, t_fix / N ^ 2, t_lua / SUB ^ 2
  print(string.format("grpo.limit, 1000 x 1000 (p_ref, beta) %8.2f s (%.2f us/point: %d fixed, %d two-cycles, "
    .. "%d longer cycles, %d chaos)", t_lim, per_lim * 1e6, kinds.fixed_point or 0, kinds.cycle or 0,
    kinds.periodic or 0, kinds.irregular or 0))
  print(string.format("grpo.fixed_points, same grid          %8.2f s (%.2f us/point, %d fixed points in all)",
    t_fix, per_fix * 1e6, nfixed))
  print(string.format("plain Lua iteration (100 x 100 subgrid) %6.2f us/point (%.0f steps/point; %d checked "
    .. "fixed points agree)   ratio %.1fx against grpo.limit", per_lua * 1e6, steps / SUB ^ 2, agree,
    per_lua / per_lim))
end

-- 14. the variance-proxy bootstrap (issue 10): 10^6 Gaussian samples, 200
-- resamples.  Before: each resample drawn, sorted into an empirical law and
-- its proxy found by the exact cumulant (two resamples timed, scaled to 200;
-- the issue measured 188 s); after: counts over the sorted samples and the
-- binned cumulant, on 1 and on 2 threads (wall clock: CPU time counts every
-- thread)
do
  local function wall()
    local p = assert(io.popen("date +%s.%N"))
    local t = tonumber(p:read("a"))
    p:close()
    return t
  end
  local n = 1000000
  local x = ab.tail.gaussian { sd = 1 }:sample(n, ab.rng(1))
  local rng = ab.rng(2)
  local before = best_of(1, function()
    for _ = 1, 2 do
      local idx = rng:uniform(n)
      local y = ab.vector(n)
      for i = 1, n do y[i] = x[math.floor(idx[i] * n) + 1] end
      ab.tail.empirical(y):variance_proxy()
    end
  end) * 100
  local runs = {}
  for _, th in ipairs { 1, 2 } do
    local t0 = wall()
    local c0 = now()
    ab.estimate.variance_proxy(x, { resamples = 200, seed = 1, threads = th, progress = false })
    runs[th] = { wall() - t0, now() - c0 }
  end
  print(string.format("variance_proxy bootstrap 10^6 x 200  before %.0f s CPU   after: threads=1 %.1f s CPU "
    .. "(%.0fx; %.1f s wall), threads=2 %.1f s wall (%.1f s CPU; wall depends on the load)", before, runs[1][2],
    before / runs[1][2], runs[1][1], runs[2][1], runs[2][2]))
end

-- 14b. a multi-budget sweep over an empirical law (issue 10): the KL
-- frontier of 10^6 samples at 100 budgets, t:gain(v, {threads=}), on 1 and
-- on 2 threads (blocks of 64 budgets on the pool; the values are identical)
do
  local function wall()
    local p = assert(io.popen("date +%s.%N"))
    local t = tonumber(p:read("a"))
    p:close()
    return t
  end
  local t = ab.tail.empirical(ab.tail.gaussian { sd = 1 }:sample(1000000, ab.rng(3)))
  local kl = ab.vector(100)
  for i = 1, 100 do kl[i] = 0.02 * i end
  local runs, values = {}, {}
  for _, th in ipairs { 1, 2 } do
    local t0, c0 = wall(), now()
    values[th] = t:gain(kl, { threads = th, progress = false })
    runs[th] = { wall() - t0, now() - c0 }
  end
  for i = 1, 100 do assert(values[1][i] == values[2][i], "threads changed budget " .. i) end
  print(string.format("KL frontier sweep 10^6 samples x 100 budgets  threads=1 %.2f s wall (%.2f s CPU)   "
    .. "threads=2 %.2f s wall (%.2f s CPU)   %.2fx (wall depends on the load)", runs[1][1], runs[1][2],
    runs[2][1], runs[2][2], runs[1][1] / runs[2][1]))
end

-- 15. per-prompt analysis (DESIGN 3.7) of 10^6 prompts x 16 responses (string
-- ids, each prompt's responses together as logs hold them): grouping,
-- pr:gain(kl) (the common tilt, a 1-D solve with one pass over all rows a
-- step) and pr:best_of_n(n), against a plain Lua loop doing the same per
-- prompt (a Lua table grouping, then ab.tilt.policy at the found beta and
-- ab.bon.policy on each prompt), timed on 10^4 prompts and scaled by 100
do
  local P, m = 1000000, 16
  local ids, reward = {}, ab.vector(P * m)
  local u = ab.rng(5):uniform(P * m)
  for i = 1, P * m do
    ids[i] = "prompt-" .. ((i - 1) // m)
    reward[i] = math.floor(u[i] * 10)
  end
  local pr, g, b
  local t_group = best_of(1, function() pr = ab.prompts { ids = ids, reward = reward } end)
  local t_gain = best_of(1, function() g = pr:gain(0.5) end)
  local t_bon = best_of(1, function() b = pr:best_of_n(4) end)
  assert(math.abs(g.kl - 0.5) < 1e-12 and b.gain > 0)
  local Q = 10000
  local t_lua = best_of(1, function()
    local members, order = {}, {}
    for i = 1, Q * m do
      local id = ids[i]
      local list = members[id]
      if not list then
        list = {}
        members[id] = list
        order[#order + 1] = id
      end
      list[#list + 1] = reward[i]
    end
    local probs = {}
    for j = 1, m do probs[j] = 1 / m end
    for _, id in ipairs(order) do
      ab.tilt.policy(probs, members[id], { beta = g.beta })
      ab.bon.policy(probs, members[id], 4)
    end
  end) * (P / Q)
  local total = t_group + t_gain + t_bon
  print(string.format("prompts 10^6 x 16: group %.2f s, gain(kl) %.2f s, best_of_n %.2f s = %.2f s   "
    .. "Lua loop per prompt (one tilt, no solve) %.2f s   ratio %.2fx", t_group, t_gain, t_bon, total, t_lua,
    total / t_lua))
  ids, pr = nil, nil -- luacheck: ignore
  collectgarbage()
end

-- 16. the same per-prompt check sharded k = 4 ways with GNU parallel against
-- one process (spec/sh/shard_parallel.sh's run, 10^5 prompts x 16), wall time
do
  local has = os.execute("command -v parallel >/dev/null 2>&1")
  if not has then
    print("sharded check_run.lua, k = 4: skipped (GNU parallel missing)")
  else
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    local f = assert(io.open(dir .. "/run.csv", "w"))
    f:write("prompt,reward,logp_policy,logp_ref\n")
    local u = ab.rng(6):uniform(3 * 1600000)
    for i = 1, 1600000 do
      local r, lr = math.floor(u[3 * i - 2] * 6), -1 - u[3 * i - 1]
      f:write(string.format("%d,%d,%.17g,%.17g\n", (i - 1) // 16, r, lr + r / 2 + 0.1 * u[3 * i], lr))
    end
    f:close()
    local lua = arg[-1] or "lua5.4"
    local function wall(cmd)
      local p = assert(io.popen("/usr/bin/time -f %e sh -c " .. string.format("%q", cmd) .. " 2>&1 >/dev/null"))
      local out = p:read("a")
      p:close()
      return tonumber(out:match("([%d.]+)%s*$"))
    end
    local one = wall(lua .. " scripts/check_run.lua --prompts --beta 2 --n 4 " .. dir .. "/run.csv")
    local four = wall("parallel --will-cite -j 4 " .. lua .. " scripts/check_run.lua --prompts --beta 2 --n 4 "
      .. "--shard {}/4 --out " .. dir .. "/part.{} " .. dir .. "/run.csv ::: 1 2 3 4 && " .. lua
      .. " scripts/check_run.lua --merge " .. dir .. "/part.1 " .. dir .. "/part.2 " .. dir .. "/part.3 "
      .. dir .. "/part.4")
    os.execute("rm -rf " .. dir)
    print(string.format("check_run.lua --prompts, 10^5 x 16: one process %.2f s wall   4 shards (GNU parallel) + "
      .. "merge %.2f s   ratio %.2fx", one or -1, four or -1, (four or 0) / (one or 1)))
  end
end
