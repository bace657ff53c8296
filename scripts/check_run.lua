#!/usr/bin/env lua5.4
-- scripts/check_run.lua [FILE.csv]: hold a logged run against the limit.
--
-- FILE.csv has the columns ref_reward (rewards of reference-policy samples),
-- policy_reward (rewards of policy samples), logp_policy and logp_ref (the
-- log-probability of each policy sample under the policy and under the
-- reference).  Default: examples/run.csv, made by scripts/make_example_run.lua.
-- Errors are standard errors (+-) and 95% bootstrap intervals over the
-- reference rewards (seed 0, reproducible); when those rewards have a heavy
-- tail the proxy gets a caveat instead of a bound.
--
-- Per prompt (DESIGN 3.7): check_run.lua --prompts [--beta B] [--n N]
-- [--shard i/k --out PART] FILE.csv (or FILE.jsonl, JSON Lines), with the
-- columns (fields) prompt (the prompt id, read as text), reward,
-- logp_policy, logp_ref (of reference responses) and optionally gold.
-- Prints the per-prompt summary (means over prompts) and, unsharded, the
-- overall check with standard errors over prompts (the delta method);
-- with --shard it writes shard i of k's partial result to PART instead
-- (with --run NAME, FILE.csv holds shard i's own prompts: a log split by
-- prompt beforehand).  check_run.lua --merge PART... merges the partials of
-- all k shards and prints the same summary, bit for bit (see the README for
-- GNU parallel and Slurm).  A progress line shows on stderr when it is a
-- terminal; the per-prompt work runs on every core.
local ab = require "alignbound"

local USAGE = "usage: check_run.lua [FILE.csv]\n" ..
  "       check_run.lua --prompts [--beta B] [--n N] [--shard i/k [--run NAME] --out PART] FILE.csv|FILE.jsonl\n" ..
  "       check_run.lua --merge PART..."
local function fail(msg)
  io.stderr:write("check_run: ", msg, "\n")
  os.exit(1)
end

-- The per-prompt summary, one line per field, every bit shown.
local function print_summary(summary)
  local keys = {}
  for k in pairs(summary) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    print(string.format("summary %-22s %.17g", k, summary[k]))
  end
end

local function strip(msg)
  return (tostring(msg):gsub("^bad argument #%d+ to '[^']*' %((.*)%)$", "%1"))
end

if arg[1] == "--merge" then
  if #arg < 2 then fail("--merge needs the partial files\n" .. USAGE) end
  local ok, m = pcall(ab.shard.merge, { table.unpack(arg, 2) })
  if not ok then fail(strip(m)) end
  print(string.format("alignbound %s: merge of %d partial results (%d prompts)", ab.version, #arg - 1, #m.rows))
  print_summary(m.summary)
  os.exit(0)
end

if arg[1] == "--prompts" then
  local opts, path, shard, out, run = { check = true }, nil, nil, nil, nil
  local i = 2
  while i <= #arg do
    local a = arg[i]
    if a == "--beta" or a == "--n" then
      local v = tonumber(arg[i + 1])
      if not v then fail(a .. " needs a number\n" .. USAGE) end
      if a == "--beta" then opts.beta, opts.check_beta = v, v else opts.n = v end
      i = i + 2
    elseif a == "--shard" then
      shard = arg[i + 1]
      local ok, err = pcall(ab.shard.parse, shard)
      if not ok then fail(strip(err)) end
      i = i + 2
    elseif a == "--out" then
      out = arg[i + 1]
      i = i + 2
    elseif a == "--run" then
      run = arg[i + 1]
      i = i + 2
    elseif path == nil and a:sub(1, 2) ~= "--" then
      path = a
      i = i + 1
    else
      fail("unexpected argument " .. a .. "\n" .. USAGE)
    end
  end
  if not path then fail("--prompts needs FILE.csv or FILE.jsonl\n" .. USAGE) end
  if shard and not out then fail("--shard needs --out PART\n" .. USAGE) end
  if run and not shard then fail("--run goes with --shard\n" .. USAGE) end
  -- the prompt ids are text (read as strings: "007" and "7" are two prompts);
  -- gold is optional: asked for only when the log has it
  local names = { "reward", "logp_policy", "logp_ref" }
  local jsonl = path:match("%.jsonl$") ~= nil
  local f = io.open(path)
  local first = f and f:read("l") or ""
  if f then f:close() end
  if jsonl then
    if first:match('"gold"%s*:') then names[#names + 1] = "gold" end
  else
    for name in first:gmatch("[^,]+") do
      if name:match('^%s*"?(.-)"?%s*$') == "gold" then names[#names + 1] = "gold" end
    end
  end
  local ok, cols, rows
  if jsonl then
    ok, cols, rows = pcall(ab.read_jsonl, path, { fields = names, text = { "prompt" } })
  else
    ok, cols, rows = pcall(ab.read_csv, path, { columns = names, text = { "prompt" } })
  end
  if not ok then fail(strip(cols)) end
  if not cols then fail(rows) end
  local gold = cols.gold
  local okp, pr = pcall(ab.prompts, { ids = cols.prompt, reward = cols.reward, gold = gold,
    logp_policy = cols.logp_policy, logp_ref = cols.logp_ref, shard = shard, run = run })
  if not okp then fail(path .. ": " .. strip(pr)) end
  if shard then
    local okr, part = pcall(pr.partial, pr, opts)
    if not okr then fail(path .. ": " .. strip(part)) end
    local saved, err = ab.shard.save(out, part)
    if not saved then fail(err) end
    os.exit(0)
  end
  local okr, summary = pcall(pr.summary, pr, opts)
  if not okr then fail(path .. ": " .. strip(summary)) end
  local okc, c = pcall(pr.check_run, pr, { beta = opts.beta })
  if not okc then fail(path .. ": " .. strip(c)) end
  local P = pr:size()
  print(string.format("alignbound %s: per-prompt check of %s (%d rows, %d prompts)", ab.version, path, rows, P))
  print_summary(summary)
  print(string.rep("-", 72))
  print(string.format("KL(policy || ref), mean over prompts %9.4f  +- %.4f nats", c.kl, c.kl_se))
  print(string.format("reward gain, mean over prompts     %10.4f  +- %.4f", c.gain, c.gain_se))
  print(string.format("exact limit: one common tilt        %9.4f  +- %.4f", c.frontier, c.frontier_se))
  print(string.format("bound sqrt(2 E_x[s2(x)] KL)        %10.4f", c.bound))
  if c.fraction then
    print(string.format("fraction of the limit achieved     %10.1f %% +- %.2g %%", 100 * c.fraction,
      100 * c.fraction_se))
  end
  if c.tilt then
    print(string.format("tilt identity: gain - beta (KL + reverse KL) %.4g +- %.2g (beta %g)", c.tilt.gap,
      c.tilt.gap_se, c.tilt.beta))
  end
  os.exit(0)
end

if #arg > 1 then fail("too many arguments\n" .. USAGE) end
local path = arg[1] or "examples/run.csv"
-- read_csv returns nil, message for an unreadable file and raises for a
-- missing column: both become one line on stderr
local ok, cols, rows = pcall(ab.read_csv, path,
  { columns = { "ref_reward", "policy_reward", "logp_policy", "logp_ref" } })
if not ok then fail((tostring(cols):gsub("^bad argument #%d+ to '[^']*' %((.*)%)$", "%1"))) end
if not cols then fail(rows) end

local okr, r = pcall(ab.check_run, {
  ref_rewards = cols.ref_reward, policy_rewards = cols.policy_reward,
  logp_policy = cols.logp_policy, logp_ref = cols.logp_ref,
})
if not okr then fail(path .. ": " .. tostring(r):gsub("^bad argument #%d+ to '[^']*' %((.*)%)$", "%1")) end

print(string.format("alignbound %s: check of %s (%d rows)", ab.version, path, rows))
print(string.rep("-", 72))
print(string.format("KL(policy || ref), k3 estimate     %10.4f  +- %.4f nats", r.kl, r.kl_se))
print(string.format("measured reward gain               %10.4f  +- %.4f", r.gain, r.gain_se))
if r.variance_proxy_trusted then
  print(string.format("sub-Gaussian proxy of the reward   %10.4f  +- %.4f (95%% bootstrap bound %.4f)",
    r.variance_proxy, r.variance_proxy_se, r.variance_proxy_upper))
  print(string.format("bound sqrt(2 s2 KL) at that KL     %10.4f  (with the bootstrap bound %.4f)",
    r.bound_subgaussian, r.bound_subgaussian_upper))
else
  -- a heavy tail: no 95% bound, and the sub-Gaussian bound rests on it
  print(string.format("sub-Gaussian proxy of the reward   %10.4f  +- %.4f  (NOT TRUSTED, see below)",
    r.variance_proxy, r.variance_proxy_se))
  print(string.format("bound sqrt(2 s2 KL) at that KL     %10.4f  (not a bound if the tail is heavy)",
    r.bound_subgaussian))
end
print(string.format("exact limit: the empirical frontier %9.4f  +- %.4f (95%% bootstrap %.4f .. %.4f)",
  r.frontier, r.frontier_se, r.frontier_lo, r.frontier_hi))
if r.fraction then
  print(string.format("fraction of the limit achieved     %10.1f %% +- %.1f %%", 100 * r.fraction,
    100 * r.fraction_se))
else -- constant reference rewards: the limit is 0
  print("fraction of the limit achieved            n/a (the limit is 0)")
end
if not r.variance_proxy_trusted then
  print(string.rep("-", 72))
  -- the caveat, wrapped at 72 columns
  local line = "caveat:"
  for word in r.variance_proxy_caveat:gmatch("%S+") do
    if #line + 1 + #word > 72 then
      print(line)
      line = "  " .. word
    else
      line = line .. " " .. word
    end
  end
  print(line)
end
print(string.rep("-", 72))
print("The limit is what the best policy at this KL could gain on these reference rewards;")
print("a run far below it leaves reward on the table, a run above it (beyond the errors)")
print("means the KL estimate or the reference sample is off.")
