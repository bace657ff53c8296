#!/usr/bin/env lua5.4
-- scripts/bon_vs_rl.lua [FILE.csv [COLUMN]]: best-of-n against RL at the same KL.
--
-- FILE.csv holds rewards of reference-policy samples in COLUMN (default:
-- examples/run.csv, column ref_reward).  For n = 1, 2, 4, ..., 1024 it
-- prints the exact KL of best-of-n on their empirical law (with ties), its
-- exact gain, the gain of the optimal KL-regularised policy (the tilt) at
-- that same KL, the ratio, and the KL that the tilt needs to match the
-- best-of-n gain (what best-of-n wastes).
local ab = require "alignbound"

local path, col = arg[1] or "examples/run.csv", arg[2] or "ref_reward"
local cols, rows = ab.read_csv(path, { columns = { col } })
if not cols then
  io.stderr:write("bon_vs_rl: ", rows, "\n")
  os.exit(1)
end
local rewards = ab.tail.empirical(cols[col])

local ns = {}
for k = 0, 10 do ns[#ns + 1] = 2 ^ k end
local bon = ab.scenario { reference = rewards, policy = ab.policy.best_of_n { n = ns } }:run()
local kls = {}
for i, r in ipairs(bon) do kls[i] = r.kl end
local rl = ab.scenario { reference = rewards, policy = ab.policy.kl_budget { kl = kls } }:run()

print(string.format("alignbound %s: best-of-n against the optimal tilt on %d rewards from %s (column %s)",
  ab.version, rows, path, col))
print(string.rep("-", 84))
print(string.format("%6s %12s %12s %12s %8s %18s", "n", "KL (exact)", "bon gain", "tilt gain", "ratio",
  "tilt KL for bon"))
print(string.rep("-", 84))
local worst
for i, n in ipairs(ns) do
  local b, t = bon[i].proxy_exact, rl[i].proxy_exact
  local ratio = t > 0 and b / t or 1
  local need = rewards:kl_needed(b)
  print(string.format("%6d %12.6g %12.6g %12.6g %7.2f%% %18.6g", n, bon[i].kl, b, t, 100 * ratio, need))
  if n > 1 and (not worst or ratio < worst.ratio) then worst = { n = n, ratio = ratio } end
end
print(string.rep("-", 84))
print(string.format("Best-of-n reaches at least %.2f%% of the optimum at its own KL (lowest at n = %d).",
  100 * worst.ratio, worst.n))
