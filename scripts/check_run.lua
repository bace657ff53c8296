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
local ab = require "alignbound"

local USAGE = "usage: check_run.lua [FILE.csv]"
local function fail(msg)
  io.stderr:write("check_run: ", msg, "\n")
  os.exit(1)
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
