-- The scripts users copy, run on the shipped example: their printed numbers
-- against the same quantities computed here by another route (enumeration
-- of the best-of-n law with ties, bisection on the tilt, the k3 formula).
local helper = require "helper"
local close = helper.close

local ENV = string.format("LUA_PATH_5_4=%q LUA_CPATH_5_4=%q ", package.path, package.cpath)

local function run(script, args)
  local p = assert(io.popen(ENV .. "lua5.4 scripts/" .. script .. " " .. (args or "") .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  assert(ok, script .. " failed:\n" .. out)
  return out
end

-- the example run's columns, read with plain Lua
local function example()
  local cols, names = {}, nil
  for line in io.lines("examples/run.csv") do
    local cells = {}
    for c in line:gmatch("[^,]+") do cells[#cells + 1] = c end
    if not names then
      names = cells
      for _, n in ipairs(names) do cols[n] = {} end
    else
      for j, n in ipairs(names) do cols[n][#cols[n] + 1] = tonumber(cells[j]) end
    end
  end
  return cols
end

local function mean(x)
  local s = 0
  for _, v in ipairs(x) do s = s + v end
  return s / #x
end

-- The distinct values of samples with their probabilities, ascending.
local function atoms(samples)
  local count = {}
  for _, v in ipairs(samples) do count[v] = (count[v] or 0) + 1 end
  local vals = {}
  for v in pairs(count) do vals[#vals + 1] = v end
  table.sort(vals)
  local probs = {}
  for i, v in ipairs(vals) do probs[i] = count[v] / #samples end
  return vals, probs
end

-- Best-of-n of a finite law with ties, by its CDF: P(best = v) = F<=(v)^n - F<(v)^n.
local function bon(vals, probs, n)
  local below, kl, m, law = 0, 0, 0, {}
  for i, v in ipairs(vals) do
    local p = (below + probs[i]) ^ n - below ^ n
    law[i] = p
    if p > 0 then kl = kl + p * math.log(p / probs[i]) end
    m = m + p * v
    below = below + probs[i]
  end
  return kl, m, law
end

local function num(text, pattern)
  local s = text:match(pattern)
  assert(s, "no match for " .. pattern .. " in:\n" .. text)
  return tonumber(s)
end

describe("scripts/rlhf_gain.lua", function()
  it("prints the exact frontier of the example's rewards at KL = 5 (bisection on the tilt)", function()
    local out = run("rlhf_gain.lua")
    local r = example().ref_reward
    local vals, probs = atoms(r)
    local m0 = mean(r)
    local function tilt(l)
      local top, z, ez, kl = vals[#vals], 0, 0, 0
      for i, v in ipairs(vals) do
        local w = probs[i] * math.exp(l * (v - top))
        z, ez = z + w, ez + w * v
      end
      for i, v in ipairs(vals) do
        local q = probs[i] * math.exp(l * (v - top)) / z
        if q > 0 then kl = kl + q * math.log(q / probs[i]) end
      end
      return kl, ez / z
    end
    local l = helper.bisect(function(x) return tilt(x) - 5 end, 0, 100)
    local _, m = tilt(l)
    close(num(out, "At KL = 5 nats, RLHF can gain at most (%S+) in reward"), m - m0, 1e-5, "frontier at KL 5")
    close(num(out, "the tilt with beta = (%S+)%)"), 1 / l, 1e-5, "beta")
  end)
end)

-- A script run that must fail: its exit status and its stderr+stdout.
local function run_failing(script, args)
  local p = assert(io.popen(ENV .. "lua5.4 scripts/" .. script .. " " .. args .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  assert.is_falsy(ok, script .. " " .. args .. " should exit non-zero:\n" .. out)
  assert.is_nil(out:find("traceback", 1, true), "a traceback:\n" .. out)
  return out
end

describe("scripts given bad arguments or files", function()
  local nocols = os.tmpname()
  setup(function()
    local f = assert(io.open(nocols, "w"))
    f:write("a,b\n1,2\n3,4\n")
    f:close()
  end)
  teardown(function() os.remove(nocols) end)

  it("rlhf_gain.lua checks the budget up front with a usage line", function()
    for _, bad in ipairs { "five", "-1", "inf", "nan" } do
      local out = run_failing("rlhf_gain.lua", "examples/run.csv ref_reward " .. bad)
      local want = "rlhf_gain: KL must be a finite number >= 0, got '" .. bad .. "'\nusage: rlhf_gain.lua"
      assert.are.equal(want, out:sub(1, #want))
    end
    assert.truthy(run_failing("rlhf_gain.lua", "examples/run.csv ref_reward 5 6"):find("usage:", 1, true))
  end)

  it("rlhf_gain.lua and check_run.lua say in one line that a column is missing", function()
    local out = run_failing("rlhf_gain.lua", nocols)
    assert.are.equal("rlhf_gain: " .. nocols .. ": no column named 'ref_reward' (the columns are 'a', 'b')\n", out)
    out = run_failing("rlhf_gain.lua", "examples/run.csv nosuch")
    assert.are.equal("rlhf_gain: examples/run.csv: no column named 'nosuch' (the columns are 'ref_reward', "
      .. "'policy_reward', 'logp_policy', 'logp_ref')\n", out)
    out = run_failing("check_run.lua", nocols)
    assert.are.equal("check_run: " .. nocols .. ": no column named 'ref_reward' (the columns are 'a', 'b')\n", out)
    out = run_failing("check_run.lua", "/nonexistent/run.csv")
    assert.truthy(out:find("^check_run: /nonexistent/run.csv: [^\n]+\n$"), out)
  end)

  it("rlhf_gain.lua compares with best-of-n for the largest n within the budget", function()
    local out = run("rlhf_gain.lua", "examples/run.csv ref_reward 5")
    -- KL(best-of-n) = log n - (n-1)/n grows with n: count up to the budget
    local n = 1
    while math.log(n + 1) - n / (n + 1) <= 5 do n = n + 1 end
    assert.are.equal(n, num(out, "Best%-of%-(%d+), the largest n with KL <= 5"))
  end)
end)

describe("scripts/bon_vs_rl.lua", function()
  it("prints the exact best-of-n KL and gain with ties (enumerated here)", function()
    local out = run("bon_vs_rl.lua")
    local r = example().ref_reward
    local vals, probs = atoms(r)
    assert.is_true(#vals < #r) -- the example has ties
    local m0 = mean(r)
    for _, n in ipairs { 2, 16, 1024 } do
      local kl, m = bon(vals, probs, n)
      local line = out:match("\n%s*" .. n .. " [^\n]+")
      local cells = {}
      for c in line:gmatch("%S+") do cells[#cells + 1] = c end
      close(tonumber(cells[2]), kl, 1e-5, "kl at n = " .. n)
      close(tonumber(cells[3]), m - m0, 1e-5, "gain at n = " .. n)
      assert.is_true(kl < math.log(n) - (n - 1) / n)
    end
  end)
end)

describe("scripts/proxy_peak.lua", function()
  it("finds the golden peak of logged pairs (best-of-n law enumerated here)", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    -- the top proxy scores are the worst gold: a proxy that hurts at high n
    local proxy = { 1, 2, 3, 4, 5, 6, 7, 8 }
    local gold = { 0, 1, 2, 3, 4, 5, 2, -3 }
    f:write("proxy,gold\n")
    for i = 1, #proxy do f:write(proxy[i], ",", gold[i], "\n") end
    f:close()
    local out = run("proxy_peak.lua", path .. " proxy gold")
    os.remove(path)
    local probs = {}
    for i = 1, 8 do probs[i] = 1 / 8 end
    local best, bn, m0 = -math.huge, nil, mean(gold)
    for k = 0, 10 do
      local _, _, law = bon(proxy, probs, 2 ^ k)
      local g = -m0
      for i = 1, 8 do g = g + law[i] * gold[i] end
      if g > best then best, bn = g, 2 ^ k end
    end
    assert.are.equal(bn, num(out, "golden gain peaks at n = (%d+)"))
    close(num(out, "golden gain peaks at n = %d+ %(KL = %S+ nats, golden gain (%S+)%)"), best, 1e-5, "peak gold")
    assert.truthy(out:find("KL-regularised RL on the proxy: the golden gain peaks", 1, true))
  end)

  it("finds an interior peak for the heavy-tailed model, at the table's largest golden gain", function()
    local out = run("proxy_peak.lua")
    -- the table: a header line naming the columns, then one line per n
    local cols, ncols, best, bn = nil, nil, -math.huge, nil
    for line in out:gmatch("[^\n]+") do
      local cells = {}
      for c in line:gmatch("%S+") do cells[#cells + 1] = c end
      if cells[1] == "n" and not cols then
        cols, ncols = {}, #cells
        for j, c in ipairs(cells) do cols[c] = j end
      elseif cols and #cells == ncols and tonumber(cells[1]) then
        local g = tonumber(cells[cols.gold_gain])
        if g > best then best, bn = g, tonumber(cells[1]) end
      end
    end
    assert.are.equal(bn, num(out, "golden gain peaks at n = (%d+)"))
    assert.is_true(bn > 1 and bn < 1024)
    assert.truthy(out:find("while the golden gain falls", 1, true))
  end)
end)

describe("scripts/check_run.lua", function()
  it("prints the k3 KL estimate and the measured gain of the example run", function()
    local out = run("check_run.lua")
    local c = example()
    local k3 = {}
    for i = 1, #c.logp_policy do
      local lr = c.logp_ref[i] - c.logp_policy[i]
      k3[i] = math.exp(lr) - 1 - lr
    end
    assert.is_true(math.abs(num(out, "k3 estimate%s+(%S+)") - mean(k3)) < 1e-4)
    assert.is_true(math.abs(num(out, "measured reward gain%s+(%S+)") - (mean(c.policy_reward) - mean(c.ref_reward)))
      < 1e-4)
  end)
end)

describe("README", function()
  local f = assert(io.open("README.md"))
  local text = f:read("a")
  f:close()

  -- the API row of a call: the table line starting with "| `<call>"
  local function row(call)
    local line = text:match("\n(| `" .. call:gsub("%p", "%%%0") .. "[^\n]*)")
    assert.truthy(line, "no API row for " .. call)
    return line
  end

  it("shows what the tour and the scenario example really print", function()
    local ab = require "alignbound"
    -- tour #5: all five elements of a short vector print
    local shown = text:match("print%(sg:gain%(kl%)%)\n%-%-> ([^\n]+)")
    assert.are.equal(tostring(ab.tail.subgaussian { sigma = 1 }:gain(ab.vector(5, 0.2))), shown)
    -- the scenario example: run its constructor as written, then its peak
    local code = text:match("\n(local s = ab%.scenario {\n.-\n})\n")
    assert.truthy(code, "no scenario example")
    local s = assert(load("local ab = ...\n" .. code .. "\nreturn s"))(ab)
    local p = s:peak()
    local v, interior = text:match("print%(p%.value, p%.interior%)%s*%-%-> (%S+)%s+(%a+)")
    assert.are.equal(tostring(p.value), v)
    assert.are.equal(tostring(p.interior), interior)
  end)

  it("states the API facts the code has", function()
    local ab = require "alignbound"
    -- read_csv's second value is the number of rows
    assert.truthy(row("ab.read_csv"):find("the number of rows", 1, true))
    local _, rows = ab.read_csv("examples/run.csv")
    local lines = 0
    for _ in io.lines("examples/run.csv") do lines = lines + 1 end
    assert.are.equal(lines - 1, rows)
    -- estimate.kl's default is k3
    assert.truthy(row("ab.estimate.mean"):find('`"k3"` (the default)', 1, true))
    local lp, lq = { -1, -2, -0.5 }, { -1.5, -1, -0.7 }
    assert.are.equal(ab.estimate.kl(lp, lq, { estimator = "k3" }), ab.estimate.kl(lp, lq))
    -- renyi.bon_proxy takes exact laws too
    assert.truthy(row("ab.renyi.bon_proxy"):find("an exact or finite law", 1, true))
    assert.is_true(ab.renyi.bon_proxy(ab.tail.gaussian { sd = 1 }, 4) > 0)
    -- side= values, kl_estimate's eps, cumulant's fn, check_run's fields
    assert.truthy(row("t:kl_needed"):find('`side="gain"`', 1, true))
    assert.truthy(row("ab.bon.kl_estimate"):find("eps in [0, 1]", 1, true))
    assert.truthy(row("ab.tail.cumulant"):find("`fn(l)` is called with", 1, true))
    local r = ab.check_run { ref_rewards = { 0, 1, 2 }, policy_rewards = { 1, 2, 3 },
      logp_policy = { -1, -1, -1 }, logp_ref = { -1.1, -0.9, -1.2 } }
    local check = row("ab.check_run")
    for k in pairs(r) do assert.truthy(check:find(k .. "=", 1, true), "check_run's field " .. k .. " is not listed") end
    -- Monte Carlo defaults of joint models and scenarios
    assert.truthy(row("ab.joint.gaussian"):find("{draws=10000, seed=1}", 1, true))
    assert.truthy(row("ab.scenario{"):find("`seed` defaults to 0", 1, true))
  end)

  it("lists every script of scripts/, each documented at its top", function()
    local p = assert(io.popen("ls scripts/*.lua"))
    for path in p:lines() do
      assert.truthy(text:find(path:match("[%w_]+%.lua"), 1, true), path .. " is not in the README")
      local src = assert(io.open(path)):read("a")
      assert.truthy(src:match("^#![^\n]*\n%-%- " .. path:gsub("%p", "%%%0")), path .. " has no doc comment at its top")
    end
    p:close()
  end)

  it("renders the API reference as one table", function()
    local api = text:match("\n## API\n(.-)\n## ")
    local first, last = nil, nil
    local lines = {}
    for l in (api .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
    for i, l in ipairs(lines) do
      if l:match("^|") then
        first = first or i
        last = i
      end
    end
    for i = first, last do
      assert.truthy(lines[i]:match("^|"), "line " .. i .. " of the API section breaks the table: '" .. lines[i] .. "'")
    end
  end)
end)

describe("scripts/paper_report.lua", function()
  it("writes the report with at least six figures, each drawn, referenced and described by its numbers", function()
    local dir = os.tmpname()
    os.remove(dir)
    local out = run("paper_report.lua", dir)
    local md = assert(io.open(dir .. "/report.md")):read("a")
    local figs = 0
    for name in md:gmatch("!%[[^%]]*%]%(([%w_]+)%.svg%)") do
      figs = figs + 1
      local svg = assert(io.open(dir .. "/" .. name .. ".svg"), name .. ".svg missing"):read("a")
      assert.truthy(svg:find('id="gnuplot_plot_1"', 1, true), name .. " has no series")
      local png = assert(io.open(dir .. "/" .. name .. ".png"), name .. ".png missing"):read("a")
      assert.are.equal("\137PNG", png:sub(1, 4))
      -- two sentences under each figure
      local para = md:match("%(" .. name .. "%.svg%)\n\n([^\n]+)")
      local _, stops = para:gsub("%. ", "")
      assert.is_true(stops >= 1, name .. ": " .. para)
    end
    assert.is_true(figs >= 6, figs .. " figures")
    -- numbers in the sentences, against closed forms
    local n = 2 ^ 20
    assert.truthy(md:find(string.format("the KL is log n - (n-1)/n = %.4g nats while chi2 = (n-1)^2/(2n-1) = %.4g",
      math.log(n) - (n - 1) / n, (n - 1) ^ 2 / (2 * n - 1)), 1, true))
    assert.truthy(md:find(string.format("at n = 16 against %.4g for the KL bound and %.4g exact",
      math.sqrt(2 / 12 * (math.log(16) - 15 / 16)), 16 / 17 - 0.5), 1, true))
    -- the win-rate frontier at KL = 1 (c solving log(c/(e^c-1)) + c w(c) = 1 by bisection, w(c) =
    -- 1/(1-e^{-c}) - 1/c) and the top fraction eps = 1/e (1 - eps/2)
    local lo, hi = 1e-3, 100
    for _ = 1, 200 do
      local c = 0.5 * (lo + hi)
      local w = 1 / (1 - math.exp(-c)) - 1 / c
      if math.log(c / (math.exp(c) - 1)) + c * w < 1 then lo = c else hi = c end
    end
    local w1 = 1 / (1 - math.exp(-lo)) - 1 / lo
    assert.truthy(md:find(string.format("At KL = 1 the win-rate tilt wins %.2f%%", 100 * w1), 1, true))
    assert.truthy(md:find(string.format("the top fraction (eps = 1/e) %.2f%%", 100 * (1 - math.exp(-1) / 2)), 1, true))
    assert.truthy(md:find("Each rule's guaranteed golden gain peaks: best-of-n", 1, true))
    -- the Gumbel(0, b) frontier at exactly KL = 50, not at the grid's last
    -- point 10^1.7: X = -b log E with E ~ Exp(1), so the tilt by exp(l X)
    -- makes E ~ Gamma(a = 1 - b l): gain = b (psi(1) - psi(a)), KL =
    -- -(1 - a) psi(a) - lgamma(a); psi and lgamma by recurrence to x >= 12
    -- and their asymptotic series, a by bisection
    local function psi_lgamma(x)
      local p, g = 0, 0
      while x < 12 do p, g, x = p - 1 / x, g - math.log(x), x + 1 end
      local x2 = x * x
      p = p + math.log(x) - 1 / (2 * x) - 1 / (12 * x2) + 1 / (120 * x2 * x2) - 1 / (252 * x2 ^ 3)
      g = g + (x - 0.5) * math.log(x) - x + 0.5 * math.log(2 * math.pi) + 1 / (12 * x) - 1 / (360 * x * x2)
        + 1 / (1260 * x * x2 * x2)
      return p, g
    end
    local b = math.sqrt(6) / math.pi
    local alo, ahi = 1e-12, 1
    for _ = 1, 200 do
      local a = 0.5 * (alo + ahi)
      local p, g = psi_lgamma(a)
      if -(1 - a) * p - g > 50 then alo = a else ahi = a end
    end
    local gain50 = b * (psi_lgamma(1) - psi_lgamma(alo))
    assert.truthy(md:find(string.format("(it is %.4g at KL = 50 against 10)", gain50), 1, true),
      string.format("Gumbel at KL = 50 should read %.4g", gain50))
    -- GRPO (issue 12): the fixed points on the binary frontier, and the
    -- cycle's averages against a plain iteration of logit p_n = logit p_ref
    -- + (p_{n-1}(1 - p_{n-1}) + eps)^(-1/2) / beta from p_ref = 0.001
    local off = tonumber(md:match("fixed points over beta lie on it to (%S+) relative"))
    assert.truthy(off and off < 1e-12, "GRPO fixed points off the frontier")
    local beta, rate, kl = md:match("at beta = (%S+) it averages a success rate of (%S+) for an average KL of (%S+),")
    assert.truthy(beta, "no GRPO cycle sentence")
    local x0, x, prev = math.log(0.001 / 0.999), math.log(0.001 / 0.999), nil
    for _ = 1, 5000 do
      local p = 1 / (1 + math.exp(-x))
      prev, x = x, x0 + 1 / math.sqrt(p * (1 - p) + 1e-5) / tonumber(beta)
    end
    local pa, pb = 1 / (1 + math.exp(-x)), 1 / (1 + math.exp(-prev))
    local function klb(q, p0) return q * math.log(q / p0) + (1 - q) * math.log((1 - q) / (1 - p0)) end
    assert.are.equal(string.format("%.4g", (pa + pb) / 2), rate)
    assert.are.equal(string.format("%.4g", (klb(pa, 0.001) + klb(pb, 0.001)) / 2), kl:gsub(",$", ""))
    assert.truthy(out:find("wrote " .. dir .. "/report.md with " .. figs .. " figures", 1, true))
    os.execute("rm -r '" .. dir .. "'")
  end)
end)
