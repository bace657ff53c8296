#!/usr/bin/env lua5.4
-- scripts/proxy_peak.lua [FILE.csv PROXY GOLD]: when does my proxy start to
-- hurt the golden reward?
--
-- With FILE.csv: logged pairs, a proxy score (column PROXY, e.g. a reward
-- model's score) and a golden score (column GOLD, e.g. human ratings) for
-- samples of the reference policy.  Best-of-n and KL-regularised RL that
-- select on the proxy are evaluated exactly on the empirical law of the pairs
-- (ab.joint.samples: the exact best-of-n law with ties, the exact tilt), and
-- the script prints where the golden gain peaks.
--
-- Without arguments: a model, proxy = gold + Student-t(3) error with a
-- standard normal gold reward (ab.joint.additive, Monte Carlo at a fixed
-- seed), whose heavy-tailed error makes the golden gain of best-of-n peak
-- and then fall while the proxy gain keeps growing.
local ab = require "alignbound"

local joint, what, mc
if arg[1] then
  local pcol, gcol = arg[2] or "proxy", arg[3] or "gold"
  local cols, rows = ab.read_csv(arg[1], { columns = { pcol, gcol } })
  if not cols then
    io.stderr:write("proxy_peak: ", rows, "\n")
    os.exit(1)
  end
  joint = ab.joint.samples { proxy = cols[pcol], gold = cols[gcol] }
  what = string.format("%d logged pairs from %s (proxy %s, gold %s)", rows, arg[1], pcol, gcol)
else
  joint = ab.joint.additive { gold = ab.tail.gaussian { sd = 1 }, error = ab.tail.student_t { df = 3, scale = 1 } }
  what = "the model proxy = gold + Student-t(3) error, gold ~ N(0, 1)"
  mc = { draws = 4000, seed = 1 }
end

local ns = {}
for k = 0, 10 do ns[#ns + 1] = 2 ^ k end
local bon = ab.scenario { joint = joint, policy = ab.policy.best_of_n { n = ns }, monte_carlo = mc }
print(string.format("alignbound %s: %s", ab.version, what))
print()
print(bon)
local p = bon:peak()
print()
print(string.format("Best-of-n on the proxy: the golden gain peaks at n = %d (KL = %.6g nats, golden gain %.6g)%s.",
  p.value, p.kl, p.gold, p.interior and "" or " (at the edge of the range: widen it)"))
if p.interior then
  local last = bon.rows[#bon.rows]
  print(string.format("Beyond it the proxy keeps rising (%.6g at n = %d) while the golden gain falls to %.6g.",
    last.proxy_gain, last.n, last.gold_gain))
end

if arg[1] then
  -- the tilt of the empirical law exists at every budget; a heavy-tailed
  -- error has no exponential moment, so the model above has no tilt
  local rl = ab.scenario { joint = joint, policy = ab.policy.kl_budget { kl = { 0.05, 0.1, 0.25, 0.5, 1, 2, 4 } } }
  print()
  print(rl)
  local q = rl:peak()
  print(string.format("KL-regularised RL on the proxy: the golden gain peaks at a KL budget of %.6g "
    .. "(golden gain %.6g).", q.value, q.gold))
end
