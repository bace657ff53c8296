#!/usr/bin/env lua5.4
-- scripts/rlhf_gain.lua [FILE.csv [COLUMN [KL]]]: how much can RLHF at a KL
-- budget gain on my reward samples?
--
-- FILE.csv holds rewards of reference-policy samples in COLUMN (default:
-- examples/run.csv, column ref_reward).  KL-regularised RL at a budget KL
-- (default 5 nats) can gain at most the exact frontier of their empirical
-- law, reached by the tilted policy ref * exp(lambda r) / Z (lambda = 1/beta:
-- the KL penalty that spends exactly that budget).  Printed for a range of
-- budgets, with the sub-Gaussian bound sqrt(2 s2 KL) of the samples' own
-- variance proxy s2, and best-of-n at the same KL for comparison.
--
-- Copy it and change the budgets or the reward column.
local ab = require "alignbound"

local path, col, budget = arg[1] or "examples/run.csv", arg[2] or "ref_reward", tonumber(arg[3] or "5")
local cols, rows = ab.read_csv(path, { columns = { col } })
if not cols then
  io.stderr:write("rlhf_gain: ", rows, "\n")
  os.exit(1)
end
local rewards = ab.tail.empirical(cols[col])
local s2 = rewards:variance_proxy()

local kls = { 0.1, 0.5, 1, 2 }
kls[#kls + 1] = budget
table.sort(kls)
local s = ab.scenario { reference = rewards, policy = ab.policy.kl_budget { kl = kls },
  divergences = { "chi2" }, name = path .. " column " .. col }
print(string.format("alignbound %s: %d reward samples from %s (column %s), mean %.6g, variance proxy %.6g",
  ab.version, rows, path, col, rewards:mean(), s2))
print()
print(s)
print()
local r
for _, row in ipairs(s:run()) do if row.budget == budget then r = row end end
print(string.format("At KL = %g nats, RLHF can gain at most %.6g in reward (the tilt with beta = %.6g).",
  budget, r.proxy_gain, 1 / r.lambda))
print(string.format("The sub-Gaussian bound sqrt(2 s2 KL) with s2 = %.6g says %.6g.", s2,
  ab.tail.subgaussian { variance = s2 }:gain(budget)))
local n = 1
while ab.bon.kl(n * 2) <= budget do n = n * 2 end
print(string.format("Best-of-%d spends KL <= %.6g and gains %.6g exactly on these samples.", n, ab.bon.kl(n),
  ab.bon.expected_gain(rewards, n)))
