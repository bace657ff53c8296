-- Per-prompt analysis (DESIGN 3.7): ab.group, ab.prompts and its methods
-- against independent routes (a plain Lua grouping, ab.tilt.policy and
-- ab.bon.policy per prompt, a bisection on the common tilt), and sharding:
-- k shards merged give the unsharded result, bit for bit.
local ab = require "alignbound"
local H = require "helper"

-- A random run: P prompts with 1..maxm responses each, rows shuffled,
-- integer rewards (ties), gold = reward + noise.
local function random_run(seed, P, maxm, opts)
  opts = opts or {}
  local rng = ab.rng(seed)
  local u = rng:uniform(P * maxm * 4 + 10)
  local k = 0
  local function U() k = k + 1 return u[k] end
  local ids, reward, gold = {}, {}, {}
  for p = 1, P do
    local m = opts.minm and (opts.minm + math.floor(U() * (maxm - opts.minm + 1))) or (1 + math.floor(U() * maxm))
    for _ = 1, m do
      ids[#ids + 1] = opts.numbers and p * 10 or ("p" .. p)
      reward[#reward + 1] = math.floor(U() * 5)
      gold[#gold + 1] = reward[#reward] + U()
    end
  end
  -- interleave: a random permutation of the rows
  for i = #ids, 2, -1 do
    local j = 1 + math.floor(U() * i)
    ids[i], ids[j] = ids[j], ids[i]
    reward[i], reward[j] = reward[j], reward[i]
    gold[i], gold[j] = gold[j], gold[i]
  end
  return ids, reward, gold
end

-- The plain Lua grouping: order of first appearance, rows kept in order.
local function lua_group(ids, ...)
  local cols = { ... }
  local order, members = {}, {}
  for i, id in ipairs(ids) do
    if not members[id] then
      members[id] = {}
      order[#order + 1] = id
    end
    table.insert(members[id], i)
  end
  return order, members, cols
end

-- per-prompt rewards and golds as Lua arrays, in prompt order
local function per_prompt(ids, reward, gold)
  local order, members = lua_group(ids)
  local R, G = {}, {}
  for q, id in ipairs(order) do
    R[q], G[q] = {}, {}
    for _, i in ipairs(members[id]) do
      R[q][#R[q] + 1] = reward[i]
      G[q][#G[q] + 1] = gold[i]
    end
  end
  return order, R, G
end

local function uniform(m)
  local p = {}
  for j = 1, m do p[j] = 1 / m end
  return p
end

describe("ab.group", function()
  for _, numbers in ipairs { false, true } do
    it("matches a plain Lua grouping on random " .. (numbers and "numeric" or "string") .. " ids", function()
      local ids, reward, gold = random_run(numbers and 3 or 2, 300, 7, { numbers = numbers })
      local g, r2, g2 = ab.group(ids, reward, ab.vector(gold))
      local order, members = lua_group(ids)
      assert.are.equal(#order, g.prompts)
      assert.are.equal(#ids, g.rows)
      local j = 0
      for q, id in ipairs(order) do
        assert.are.equal(id, g.ids[q])
        assert.are.equal(j + 1, g.offsets[q])
        for _, i in ipairs(members[id]) do
          j = j + 1
          assert.are.equal(reward[i], r2[j])
          assert.are.equal(gold[i], g2[j])
        end
      end
      assert.are.equal(#ids + 1, g.offsets[g.prompts + 1])
      assert.are.equal(r2, g.columns[1])
    end)
  end

  it("takes a vector of ids and refuses NaN and mixed ids", function()
    local g = ab.group(ab.vector { 2, 1, 2, -0.0, 0 })
    assert.are.same({ 2, 1, -0.0 }, g.ids)
    H.raises(function() return ab.group({ 1, "a" }) end, "bad argument #1 to 'group'", "all strings or all numbers")
    H.raises(function() return ab.group({ 1, 0 / 0 }) end, "bad argument #1 to 'group'", "NaN")
    H.raises(function() return ab.group({ 1, 2 }, { 1 }) end, "bad argument #2 to 'group'", "has 1 entries")
  end)
end)

describe("prompts:gain", function()
  local ids, reward, gold = random_run(5, 40, 9)
  local pr = ab.prompts { ids = ids, reward = reward, gold = gold }
  local order, R, G = per_prompt(ids, reward, gold)

  it("tilts every prompt at the same lambda as ab.tilt.policy does one by one", function()
    local r = pr:gain(0.4)
    H.close(r.kl, 0.4, 1e-12, "prompt-averaged KL")
    local sum_g, sum_gold = 0, 0
    for q = 1, #order do
      local t = ab.tilt.policy(uniform(#R[q]), R[q], { beta = 1 / r.lambda })
      local tol = 1e-12 * math.max(1, t.gain)
      assert(math.abs(t.kl - r.prompt.kl[q]) <= 1e-12 * math.max(1, t.kl), "kl of prompt " .. q)
      assert(math.abs(t.gain - r.prompt.gain[q]) <= tol, "gain of prompt " .. q)
      local mg, eg = 0, 0
      for j = 1, #G[q] do
        mg = mg + G[q][j] / #G[q]
        eg = eg + t.policy[j] * G[q][j]
      end
      assert(math.abs((eg - mg) - r.prompt.gold_gain[q]) <= 1e-12 * math.max(1, math.abs(eg)), "gold of " .. q)
      sum_g, sum_gold = sum_g + t.gain, sum_gold + (eg - mg)
    end
    H.close(r.gain, sum_g / #order, 1e-12, "gain")
    H.close(r.gold_gain, sum_gold / #order, 1e-11, "gold gain")
  end)

  it("agrees with a brute bisection on the common lambda", function()
    local function mean_kl(l)
      local s = 0
      for q = 1, #order do s = s + ab.tilt.policy(uniform(#R[q]), R[q], { beta = 1 / l }).kl end
      return s / #order
    end
    local lo, hi = 1e-6, 100
    for _ = 1, 200 do
      local mid = math.sqrt(lo * hi)
      if mean_kl(mid) < 0.4 then lo = mid else hi = mid end
      if hi / lo - 1 < 1e-14 then break end
    end
    H.close(pr:gain(0.4).lambda, lo, 1e-10, "lambda")
  end)

  it("saturates at the top rewards beyond E_x -log P_x(top)", function()
    local r = pr:gain(1e6)
    assert.are.equal(math.huge, r.lambda)
    local s = 0
    for q = 1, #order do
      local top, mean = -math.huge, 0
      for _, x in ipairs(R[q]) do top, mean = math.max(top, x), mean + x / #R[q] end
      s = s + (top - mean)
    end
    H.close(r.gain, s / #order, 1e-12, "saturated gain")
    assert.are.equal(0, pr:gain(0).gain)
  end)

  it("stays below pr:bound(kl), the Cauchy-Schwarz bound over prompts", function()
    for _, kl in ipairs { 1e-4, 0.01, 0.1, 0.5, 1, 3 } do
      local b = pr:bound(kl)
      assert(pr:gain(kl).gain <= b * (1 + 1e-12), "kl " .. kl)
    end
    local _, s2 = pr:bound(1)
    local v, mean = pr:variance_proxy()
    assert.are.equal(s2, mean)
    -- each prompt's proxy is the one ab.tail.empirical gives
    for q = 1, #order do H.close(v[q], ab.tail.empirical(R[q]):variance_proxy(), 1e-12, "s2 " .. q) end
  end)
end)

describe("prompts:best_of_n", function()
  it("is ab.bon.policy on each prompt's empirical law (ties), averaged", function()
    local ids, reward, gold = random_run(7, 30, 8)
    local pr = ab.prompts { ids = ids, reward = reward, gold = gold }
    local order, R, G = per_prompt(ids, reward, gold)
    for _, n in ipairs { 1, 2.5, 4, 16 } do
      local b = pr:best_of_n(n)
      local sg = 0
      for q = 1, #order do
        local m = #R[q]
        local p = ab.bon.policy(uniform(m), R[q], n)
        local mr, mg, er, eg = 0, 0, 0, 0
        for j = 1, m do
          mr, mg = mr + R[q][j] / m, mg + G[q][j] / m
          er, eg = er + p.policy[j] * R[q][j], eg + p.policy[j] * G[q][j]
        end
        assert(math.abs(b.prompt.gain[q] - (er - mr)) <= 1e-12 * math.max(1, er), "gain " .. q)
        assert(math.abs(b.prompt.gold_gain[q] - (eg - mg)) <= 1e-12 * math.max(1, eg), "gold " .. q)
        assert(math.abs(b.prompt.kl[q] - p.kl) <= 1e-13 * math.max(1, p.kl), "kl " .. q)
        assert(math.abs(b.prompt.win_rate[q] - p.win_rate) <= 1e-13, "win rate " .. q)
        sg = sg + (er - mr)
      end
      assert(math.abs(b.gain - sg / #order) <= 1e-12 * math.max(1, b.gain), "mean gain")
    end
  end)
end)

describe("prompts:check_run", function()
  local ids, reward = random_run(11, 50, 8, { minm = 2 })
  local order = per_prompt(ids, reward, reward)
  local index = {}
  for q, id in ipairs(order) do index[id] = q end

  it("finds the tilt identity gain = beta (KL + reverse KL) on a tilted run", function()
    -- logp_policy = logp_ref + r / beta - log Z_x: the reweighting is the tilt
    local beta, lp, lr = 0.7, {}, {}
    for i, id in ipairs(ids) do
      lr[i] = -1 - (i % 5)
      lp[i] = lr[i] + reward[i] / beta - 0.3 * index[id]
    end
    local c = ab.prompts { ids = ids, reward = reward, logp_policy = lp, logp_ref = lr }:check_run { beta = beta }
    assert(math.abs(c.tilt.gap) <= 1e-12 * c.gain, tostring(c.tilt.gap))
    H.close(c.tilt.beta_jeffreys, c.gain, 1e-12, "beta J")
    -- each prompt's own frontier at its own KL is the run itself (a tilt)
    for q = 1, #order do
      H.close(c.prompt.frontier[q], c.prompt.gain[q], 1e-9, "frontier of " .. q)
    end
    -- a policy that is not a tilt: a gap of several standard errors
    for i = 1, #lp do lp[i] = lr[i] + (reward[i] / beta) ^ 2 / 4 end
    local d = ab.prompts { ids = ids, reward = reward, logp_policy = lp, logp_ref = lr }:check_run { beta = beta }
    assert(math.abs(d.tilt.gap) > 3 * d.tilt.gap_se, d.tilt.gap .. " +- " .. d.tilt.gap_se)
    for q = 1, #order do assert(d.prompt.gain[q] <= d.prompt.frontier[q] * (1 + 1e-12), "prompt " .. q) end
    assert(d.gain <= d.frontier and d.frontier <= d.bound)
  end)

  it("names the prompt with one response", function()
    local pr = ab.prompts { ids = { "a", "a", "lonely" }, reward = { 1, 2, 3 }, logp_policy = { -1, -1, -1 },
      logp_ref = { -1, -2, -1 } }
    H.raises(function() return pr:check_run() end, "prompts:check_run: prompt 'lonely' has one response")
  end)
end)

describe("sharding", function()
  local ids, reward, gold = random_run(13, 37, 6)
  local function same(a, b, what)
    assert.are.equal(#a, #b, what)
    for i = 1, #a do
      for k, v in pairs(a[i]) do assert.are.equal(v, b[i][k], what .. " row " .. i .. " " .. k) end
    end
  end

  it("merges k = 4 shards of prompts into the unsharded rows and summary, bit for bit", function()
    local opts = { beta = 0.8, n = 4 }
    local whole = ab.prompts { ids = ids, reward = reward, gold = gold }
    local parts, paths = {}, {}
    for i = 1, 4 do
      local pr = ab.prompts { ids = ids, reward = reward, gold = gold, shard = i .. "/4" }
      parts[i] = pr:partial(opts)
      paths[i] = os.tmpname()
      assert(ab.shard.save(paths[i], parts[i]))
    end
    finally(function() for _, p in ipairs(paths) do os.remove(p) end end)
    local rows, summary = whole:rows(opts), whole:summary(opts)
    for _, m in ipairs { ab.shard.merge(parts), ab.shard.merge { paths[3], paths[1], paths[4], paths[2] } } do
      same(m.rows, rows, "rows")
      for k, v in pairs(summary) do assert.are.equal(v, m.summary[k], k) end
    end
  end)

  it("merges a run split into files by prompt beforehand (run=) into the whole run", function()
    local order, R, G = per_prompt(ids, reward, gold)
    local parts = {}
    for i = 1, 3 do
      local lo, hi = ab.shard.slice(#order, i .. "/3")
      local pid, pr_, pg = {}, {}, {}
      for q = lo, hi do
        for j = 1, #R[q] do
          pid[#pid + 1], pr_[#pr_ + 1], pg[#pg + 1] = order[q], R[q][j], G[q][j]
        end
      end
      parts[i] = ab.prompts { ids = pid, reward = pr_, gold = pg, shard = i .. "/3", run = "spec" }:partial { n = 3 }
    end
    local whole = ab.prompts { ids = ids, reward = reward, gold = gold }
    local m = ab.shard.merge(parts)
    same(m.rows, whole:rows { n = 3 }, "split run")
    for k, v in pairs(whole:summary { n = 3 }) do assert.are.equal(v, m.summary[k], k) end
    parts[2] = ab.prompts { ids = ids, reward = reward, shard = "2/3", run = "other" }:partial { n = 3 }
    H.raises(function() return ab.shard.merge(parts) end, "another run")
    H.raises(function() return ab.prompts { ids = ids, reward = reward, run = "x" } end, "run= goes with shard=")
  end)

  it("refuses partials of another run, missing or doubled shards, bad shard strings", function()
    local a = ab.prompts { ids = ids, reward = reward, shard = "1/2" }:partial { n = 2 }
    local b = ab.prompts { ids = ids, reward = reward, shard = "2/2" }:partial { n = 3 }
    H.raises(function() return ab.shard.merge { a, b } end, "bad argument #1 to 'shard.merge'", "another run")
    H.raises(function() return ab.shard.merge { a } end, "shard 2/2 is missing")
    H.raises(function() return ab.shard.merge { a, a } end, "given twice")
    H.raises(function() return ab.shard.parse("5/4") end, "bad argument #1 to 'shard.parse'", "out of range")
    H.raises(function() return ab.shard.parse("x") end, "bad argument #1 to 'shard.parse'")
    H.raises(function() return ab.prompts { ids = ids, reward = reward, shard = "0/3" } end,
      "bad argument #1 to 'prompts'", "out of range")
    local sharded = ab.prompts { ids = ids, reward = reward, shard = "1/2" }
    H.raises(function() return sharded:rows { kl = 1 } end, "needs every prompt")
  end)

  it("merges more shards than prompts (empty shards) into the unsharded result", function()
    local small = { ids = { 1, 1, 2, 2 }, reward = { 0, 1, 2, 3 } }
    local parts = {}
    for i = 1, 5 do
      parts[i] = ab.prompts { ids = small.ids, reward = small.reward, shard = i .. "/5" }:partial { n = 2 }
    end
    local m = ab.shard.merge(parts)
    assert.are.equal(2, #m.rows)
    assert.are.equal(ab.prompts(small):summary { n = 2 }.bon_gain, m.summary.bon_gain)
    local empty = ab.prompts { ids = small.ids, reward = small.reward, shard = "1/5" }
    H.raises(function() return empty:gain(1) end, "prompts:gain: this shard holds no prompts")
  end)

  it("slices cover every item once, in order", function()
    for _, n in ipairs { 0, 1, 7, 100 } do
      local next_lo = 1
      for i = 1, 4 do
        local lo, hi = ab.shard.slice(n, i .. "/4")
        assert.are.equal(next_lo, lo)
        next_lo = hi + 1
      end
      assert.are.equal(n + 1, next_lo)
    end
  end)

  it("merges k = 4 shards of a Monte Carlo scenario grid into s:run()", function()
    local s = ab.scenario { reference = ab.tail.gaussian { sd = 1 },
      policy = ab.policy.best_of_n { n = { 1, 2, 4, 8, 16, 32 } }, monte_carlo = { draws = 200, seed = 3 } }
    local parts = {}
    for i = 1, 4 do parts[i] = s:partial(i .. "/4") end
    same(ab.shard.merge(parts).rows, s:run(), "scenario")
  end)
end)

describe("scripts/check_run.lua sharded with GNU parallel", function()
  it("merges k = 4 processes into the unsharded summary (spec/sh/shard_parallel.sh)", function()
    local env = string.format("LUA_PATH_5_4=%q LUA_CPATH_5_4=%q ", package.path, package.cpath)
    local p = assert(io.popen(env .. "sh spec/sh/shard_parallel.sh 2>&1; echo \"rc=$?\""))
    local out = p:read("a")
    p:close()
    local rc = tonumber(out:match("rc=(%d+)%s*$"))
    if rc == 77 then
      pending("GNU parallel is missing: " .. out)
      return
    end
    assert.are.equal(0, rc, out)
    assert.truthy(out:find("4 shards merged == unsharded", 1, true), out)
    assert.truthy(out:find("4 pre-split files merged == their concatenation", 1, true), out)
  end)
end)

describe("scripts/check_run.lua --prompts given bad input", function()
  it("names the prompt with one response, and refuses a shard out of range", function()
    local env = string.format("LUA_PATH_5_4=%q LUA_CPATH_5_4=%q ", package.path, package.cpath)
    local path = os.tmpname()
    finally(function() os.remove(path) end)
    local f = assert(io.open(path, "w"))
    f:write("prompt,reward,logp_policy,logp_ref\n1,0,-1,-1\n1,1,-1,-2\n2,5,-1,-1\n")
    f:close()
    local function run(args)
      local p = assert(io.popen(env .. "lua5.4 scripts/check_run.lua " .. args .. " 2>&1"))
      local out = p:read("a")
      return out, p:close()
    end
    local out, ok = run("--prompts " .. path)
    assert.is_falsy(ok)
    assert.truthy(out:find("prompt '2' has one response", 1, true), out)
    out, ok = run("--prompts --shard 5/4 --out " .. path .. ".part " .. path)
    assert.is_falsy(ok)
    assert.truthy(out:find("shard index out of range: 5/4", 1, true), out)
  end)
end)

describe("the README's per-prompt example", function()
  it("prints what the README shows", function()
    local text = assert(io.open("README.md")):read("a")
    local code = text:match("```lua\n(local ab = require \"alignbound\"\n%-%- three prompts.-)```")
    assert.truthy(code, "no per-prompt example")
    local path = os.tmpname()
    finally(function() os.remove(path) end)
    code = code:gsub('"prompts%.csv"', string.format("%q", path))
    local printed = {}
    local env = setmetatable({ print = function(...)
      local t = table.pack(...)
      for i = 1, t.n do t[i] = tostring(t[i]) end
      printed[#printed + 1] = table.concat(t, "  ")
    end }, { __index = _G })
    assert(load(code, "README", "t", env))()
    local shown = {}
    for line in code:gmatch("[^\n]+") do
      local v = line:match("^print%(.-%-%-> (%S+)")
      if v then shown[#shown + 1] = v end
    end
    assert.are.equal(3, #shown)
    for i = 1, 3 do assert.are.equal(shown[i], printed[i]:match("^(%S+)")) end
    -- the CSV has one row per prompt, the prompt id first
    local lines = {}
    for l in io.lines(path) do lines[#lines + 1] = l end
    assert.are.equal(4, #lines)
    assert.truthy(lines[1]:find("^prompt,responses,variance_proxy,"), lines[1])
  end)
end)

describe("prompts given extreme or bad input", function()
  it("returns no NaN for rewards near DBL_MAX: a number or a clear error", function()
    local pr = ab.prompts { ids = { 1, 1, 1, 2, 2 }, reward = { -1e308, 1e308, 1e308, 0, 1 },
      gold = { 1e308, -1e308, 0, 0, 1 }, logp_policy = { -1, -2, -3, -1, -1 }, logp_ref = { -1, -1, -1, -2, -1 } }
    local calls = {
      function() return pr:gain(0.1).gain end, function() return pr:gain(100).gold_gain end,
      function() return pr:best_of_n(3).gold_gain end, function() return pr:bound(0.5) end,
      function() return pr:check_run { beta = 1 }.gain end,
    }
    for i, f in ipairs(calls) do
      local ok, v = pcall(f)
      if ok then
        assert(v == v, "call " .. i .. " gave NaN")
        -- below saturation (E_x -log P_x(top) = 0.55) a tilt gains: not a silent 0
        if i == 1 then assert(v > 0, "gain(0.1) = " .. v) end
      else
        assert.truthy(tostring(v):find("^prompts:[%w_]+: "), tostring(v))
      end
    end
  end)

  it("names the prompt whose log-probability ratio is not finite", function()
    local pr = ab.prompts { ids = { "x", "x" }, reward = { 0, 1 }, logp_policy = { 1e308, 0 },
      logp_ref = { -1e308, 0 } }
    H.raises(function() return pr:check_run() end, "prompts:check_run: prompt 'x' has a log-probability")
  end)

  it("refuses NaN rewards, ragged columns and unknown fields, naming them", function()
    H.raises(function() return ab.prompts { ids = { 1, 1 }, reward = { 0, 0 / 0 } } end,
      "bad argument #1 to 'prompts'", "reward: element 2 is not finite")
    H.raises(function() return ab.prompts { ids = { 1, 1 }, reward = { 0 } } end,
      "bad argument #1 to 'prompts'", "reward has 1 entries, ids has 2")
    H.raises(function() return ab.prompts { ids = { 1 }, reward = { 0 }, rewards = { 1 } } end,
      "bad argument #1 to 'prompts'", "rewards")
    H.raises(function() return ab.prompts { ids = { 1 }, reward = { 0 }, logp_ref = { 1 } } end,
      "give both logp_policy and logp_ref")
  end)
end)
