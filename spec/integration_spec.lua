-- Issue 10 end to end: a log with text columns read as text by
-- check_run.lua --prompts (CSV and JSON Lines), standard errors over prompts
-- (the delta method, against a bootstrap over prompts done here),
-- bon.from_samples with its standard error, the readers' progress option,
-- the per-prompt variance proxy on threads, and the README's walkthrough
-- scaled down to 10^4 rows: unsharded, and four shards merged.
local ab = require "alignbound"
local H = require "helper"

local ENV = string.format("LUA_PATH_5_4=%q LUA_CPATH_5_4=%q ", package.path, package.cpath)

-- run check_run.lua with args; stdout, stderr, success
local function check_run(args)
  local err = os.tmpname()
  local p = assert(io.popen(ENV .. "lua5.4 scripts/check_run.lua " .. args .. " 2>" .. err))
  local out = p:read("a")
  local ok = p:close()
  local e = H.slurp(err)
  os.remove(err)
  return out, e, ok
end

local function summary_lines(out)
  local s = {}
  for line in out:gmatch("[^\n]+") do
    if line:match("^summary ") then s[#s + 1] = line end
  end
  return table.concat(s, "\n")
end

local function sd(v)
  local m = 0
  for _, x in ipairs(v) do m = m + x end
  m = m / #v
  local s = 0
  for _, x in ipairs(v) do s = s + (x - m) ^ 2 end
  return math.sqrt(s / (#v - 1))
end

-- A log of P prompts x M responses with text columns: prompt ids that are
-- not numbers ("q-7", "007" and "7" apart), a response with a comma and a
-- quote; a policy near a tilt of the reference (lp - lr = 0.5 r + noise).
local function write_log(P, M, seed)
  local rng = ab.rng(seed)
  local z = ab.tail.gaussian { sd = 1 }:sample(P * M, rng)
  local csv, jsonl = os.tmpname() .. ".csv", os.tmpname() .. ".jsonl"
  local fc, fj = assert(io.open(csv, "w")), assert(io.open(jsonl, "w"))
  fc:write("prompt,response,reward,logp_policy,logp_ref,gold\n")
  for p = 1, P do
    local id = p == 1 and "007" or p == 2 and "7" or string.format("q-%d", p)
    local mu = rng:uniform() - 0.5
    for j = 1, M do
      local r = mu + z[(p - 1) * M + j]
      local lr = -20 - 5 * rng:uniform()
      local lp = lr + 0.5 * r + 0.6 * (rng:uniform() - 0.5)
      local g = r + rng:uniform() - 0.5
      fc:write(string.format('%s,"resp %d, ""ok""",%.17g,%.17g,%.17g,%.17g\n', id, j, r, lp, lr, g))
      fj:write(string.format('{"prompt": "%s", "response": "resp %d, \\"ok\\"", "reward": %.17g, ' ..
        '"logp_policy": %.17g, "logp_ref": %.17g, "gold": %.17g}\n', id, j, r, lp, lr, g))
    end
  end
  fc:close()
  fj:close()
  return csv, jsonl
end

describe("check_run.lua --prompts reads prompt ids as text", function()
  it("keeps '007' and '7' apart, takes ids that are not numbers, and reads JSON Lines alike", function()
    local csv, jsonl = write_log(6, 3, 1)
    finally(function()
      os.remove(csv)
      os.remove(jsonl)
    end)
    local out, err, ok = check_run("--prompts " .. csv)
    assert.is_true(ok, out .. err)
    assert.truthy(out:find("(18 rows, 6 prompts)", 1, true), out)
    local outj, errj, okj = check_run("--prompts " .. jsonl)
    assert.is_true(okj, outj .. errj)
    assert.truthy(outj:find("(18 rows, 6 prompts)", 1, true), outj)
    -- the same numbers from either format (%.17g round-trips)
    assert.are.equal(summary_lines(out), summary_lines(outj))
    assert.truthy(summary_lines(out):find("summary check_gain"), out)
  end)
end)

describe("standard errors over prompts (the delta method)", function()
  -- P prompts of M Gaussian rewards, a logged policy near the tilt 0.4
  local P0, M = 200, 6
  local rows = {}
  local rng = ab.rng(3)
  local z = ab.tail.gaussian { sd = 1 }:sample(P0 * M, rng)
  for p = 1, P0 do
    local mu = rng:uniform()
    rows[p] = {}
    for j = 1, M do
      local x = mu + z[(p - 1) * M + j]
      rows[p][j] = { x, -5, -5 + 0.4 * x + 0.3 * math.sin(7 * x * p) }
    end
  end
  local function build(pick)
    local ids, r, lp, lr = {}, {}, {}, {}
    for k, p in ipairs(pick) do
      for j = 1, M do
        local row = rows[p][j]
        ids[#ids + 1], r[#r + 1], lr[#lr + 1], lp[#lp + 1] = k, row[1], row[2], row[3]
      end
    end
    return ab.prompts { ids = ids, reward = r, logp_policy = lp, logp_ref = lr }
  end
  local all = {}
  for p = 1, P0 do all[p] = p end

  it("check_run's frontier_se and fraction_se agree with a bootstrap over prompts", function()
    local c = build(all):check_run()
    assert.is_true(c.frontier_se > 0 and c.fraction_se > 0)
    -- 200 resamples of the prompts (seeded): the bootstrap's own error is
    -- about 1/sqrt(2 * 200) = 5%, the delta method's first-order error less
    local u, fs, fr = ab.rng(9), {}, {}
    for b = 1, 200 do
      local pick = {}
      for k = 1, P0 do pick[k] = math.floor(u:uniform() * P0) + 1 end
      local cb = build(pick):check_run()
      fs[b], fr[b] = cb.frontier, cb.fraction
    end
    H.close(c.frontier_se, sd(fs), 0.2, "frontier_se")
    H.close(c.fraction_se, sd(fr), 0.2, "fraction_se")
  end)

  it("pr:gain and pr:best_of_n give the standard errors of their means over prompts", function()
    local pr = build(all)
    local g = pr:gain { beta = 2 }
    local _, se = ab.estimate.mean(g.prompt.gain)
    H.close(g.gain_se, se, 1e-12, "gain_se at a fixed tilt")
    _, se = ab.estimate.mean(g.prompt.kl)
    H.close(g.kl_se, se, 1e-12, "kl_se at a fixed tilt")
    local b = pr:best_of_n(3)
    for _, k in ipairs { "gain", "kl", "win_rate" } do
      _, se = ab.estimate.mean(b.prompt[k])
      H.close(b[k .. "_se"], se, 1e-12, "best_of_n " .. k .. "_se")
    end
    -- at a KL budget the tilt moves with the sample: against a bootstrap
    local gk = pr:gain(0.2)
    local u, v = ab.rng(11), {}
    for i = 1, 200 do
      local pick = {}
      for k = 1, P0 do pick[k] = math.floor(u:uniform() * P0) + 1 end
      v[i] = build(pick):gain(0.2).gain
    end
    H.close(gk.gain_se, sd(v), 0.2, "gain_se at a budget")
    assert.is_nil(gk.kl_se) -- the budget is given, not estimated
  end)
end)

describe("bon.from_samples with a standard error", function()
  it("returns the estimate alone as before, and with options the bootstrap of estimate.bon", function()
    local x = ab.tail.gaussian { sd = 1 }:sample(500, ab.rng(1))
    local y = ab.tail.gaussian { sd = 1 }:sample(500, ab.rng(2))
    assert.are.equal(1, select("#", ab.bon.from_samples(x, y, 4)))
    local est, se, rep = ab.bon.from_samples(x, y, 4, { seed = 7, resamples = 100 })
    assert.are.equal(ab.bon.from_samples(x, y, 4), est)
    local e2, se2 = ab.estimate.bon(x, y, 4, { seed = 7, resamples = 100 })
    assert.are.equal(e2, est)
    assert.are.equal(se2, se) -- one engine: the same resamples
    assert.is_true(se > 0 and rep.resamples == 100 and rep.seed == 7)
    assert.are.equal(se, select(2, ab.bon.from_samples(x, y, 4, { seed = 7, resamples = 100, threads = 2 })))
    -- the spread of best-of-4 on independent values is about sd(y) / sqrt(N / 4)
    H.close(se, 1 / math.sqrt(500 / 4), 0.5, "se's size")
    H.raises(function() return ab.bon.from_samples(x, y, nil, {}) end, "bad argument #3 to 'bon.from_samples'",
      "n is needed with options")
    H.raises(function() return ab.bon.from_samples(x, y, 4, { bogus = 1 }) end,
      "bad argument #4 to 'bon.from_samples'", "unknown option 'bogus'")
  end)
end)

describe("the readers' progress option", function()
  it("is silent when stderr is not a terminal, takes progress=false, refuses a non-boolean", function()
    local path = os.tmpname()
    finally(function() os.remove(path) end)
    local f = assert(io.open(path, "w"))
    f:write("id,r\n")
    for i = 1, 200000 do f:write("p", i % 97, ",", i, "\n") end -- 2.5 MB: three chunks
    f:close()
    local t, rows = ab.read_csv(path, { columns = { "r" }, text = { "id" }, progress = false })
    assert.are.equal(200000, rows)
    assert.are.equal(200000, t.r[200000])
    H.raises(function() return ab.read_csv(path, { progress = "yes" }) end, "bad argument #2 to 'read_csv'",
      "progress")
    H.raises(function() return ab.read_jsonl(path, { fields = { "r" }, progress = 1 }) end,
      "bad argument #2 to 'read_jsonl'", "progress")
    -- progress on (the default), stderr a file: nothing written there
    local err = os.tmpname()
    local p = assert(io.popen(ENV .. "lua5.4 -e 'local ab = require \"alignbound\"; " ..
      "local _, n = ab.read_csv(\"" .. path .. "\", { text = { \"id\" } }); print(n)' 2>" .. err))
    local out = p:read("a")
    assert.is_true(p:close())
    assert.are.equal("200000\n", out)
    assert.are.equal("", H.slurp(err))
    os.remove(err)
  end)
end)

describe("the per-prompt variance proxy on threads", function()
  it("gives the same bits on 1, 2 and 3 threads, each prompt's proxy that of its empirical law", function()
    local P, M = 1000, 7 -- four blocks of 256 prompts, the last one short
    local x = ab.tail.gumbel { scale = 1 }:sample(P * M, ab.rng(5))
    local ids = {}
    for i = 1, P * M do ids[i] = "p" .. (i - 1) // M end
    local v = {}
    for th = 1, 3 do
      v[th] = ab.prompts { ids = ids, reward = x, threads = th, progress = false }:variance_proxy()
    end
    local same = true
    for q = 1, P do same = same and v[1][q] == v[2][q] and v[1][q] == v[3][q] end
    assert.is_true(same)
    for _, q in ipairs { 1, 256, 257, 999, 1000 } do
      local r = {}
      for j = 1, M do r[j] = x[(q - 1) * M + j] end
      H.close(v[2][q], ab.tail.empirical(r):variance_proxy(), 1e-13, "prompt " .. q)
    end
    H.raises(function() return ab.prompts { ids = ids, reward = x, threads = -1 } end, "bad argument #1 to 'prompts'",
      "threads")
    H.raises(function() return ab.prompts { ids = ids, reward = x, progress = "no" } end,
      "bad argument #1 to 'prompts'", "progress")
  end)
end)

describe("the README's walkthrough, at 10^4 rows", function()
  it("reads a log with text columns as CSV and as JSON Lines, and four shards merge to the unsharded result", function()
    local csv, jsonl = write_log(1000, 10, 2026)
    local parts = {}
    finally(function()
      os.remove(csv)
      os.remove(jsonl)
      for _, p in ipairs(parts) do os.remove(p) end
    end)
    local out, err, ok = check_run("--prompts --beta 2 --n 4 " .. csv)
    assert.is_true(ok, out .. err)
    assert.are.equal("", err) -- no progress line: stderr is not a terminal
    assert.truthy(out:find("(10000 rows, 1000 prompts)", 1, true), out)
    -- errors with every estimate
    for _, pat in ipairs { "mean over prompts%s+[%d.]+%s+%+%- [%d.]+ nats", "one common tilt%s+[%d.]+%s+%+%- [%d.]+",
      "achieved%s+[%d.]+ %% %+%- [%d.e+-]+ %%", "gain %- beta %(KL %+ reverse KL%) %S+ %+%- %S+" } do
      assert.truthy(out:find(pat), pat .. " in\n" .. out)
    end
    local outj, errj, okj = check_run("--prompts --beta 2 --n 4 " .. jsonl)
    assert.is_true(okj, outj .. errj)
    assert.are.equal(summary_lines(out), summary_lines(outj))
    for i = 1, 4 do
      parts[i] = os.tmpname()
      local o, e, k = check_run(string.format("--prompts --beta 2 --n 4 --shard %d/4 --out %s %s", i, parts[i],
        i % 2 == 0 and jsonl or csv))
      assert.is_true(k, o .. e)
    end
    local m, me, mok = check_run("--merge " .. table.concat(parts, " "))
    assert.is_true(mok, m .. me)
    assert.truthy(m:find("(1000 prompts)", 1, true), m)
    assert.are.equal(summary_lines(out), summary_lines(m))
  end)
end)
