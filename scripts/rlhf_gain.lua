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
-- variance proxy s2, and for comparison best-of-n for the largest n whose
-- KL (log n - (n-1)/n) is within the budget.
--
-- Copy it and change the budgets or the reward column.
local ab = require "alignbound"

local USAGE = "usage: rlhf_gain.lua [FILE.csv [COLUMN [KL]]]  (KL: a budget in nats, >= 0)"
local function fail(msg)
  io.stderr:write("rlhf_gain: ", msg, "\n")
  os.exit(1)
end
if #arg > 3 then fail("too many arguments\n" .. USAGE) end
local path, col = arg[1] or "examples/run.csv", arg[2] or "ref_reward"
local budget = tonumber(arg[3] or "5")
if not (budget and budget >= 0 and budget < math.huge) then
  fail("KL must be a finite number >= 0, got '" .. tostring(arg[3]) .. "'\n" .. USAGE)
end
-- read_csv returns nil, message for an unreadable file and raises for a bad
-- column: both become one line on stderr, without the argument wrapper
local ok, cols, rows = pcall(ab.read_csv, path, { columns = { col } })
if not ok then fail((tostring(cols):gsub("^bad argument #%d+ to '[^']*' %((.*)%)$", "%1"))) end
if not cols then fail(rows) end
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
-- the largest integer n with KL(best-of-n) <= budget (the KL grows with n)
local n = math.max(1, math.floor(ab.bon.n_for_kl(budget)))
if ab.bon.kl(n + 1) <= budget then n = n + 1 end -- n_for_kl rounded just below an integer
print(string.format("Best-of-%d, the largest n with KL <= %g, spends KL <= %.6g and gains %.6g exactly "
  .. "on these samples.",
  n, budget, ab.bon.kl(n), ab.bon.expected_gain(rewards, n)))
