#!/usr/bin/env lua5.4
-- scripts/make_example_run.lua [OUT.csv]: write a synthetic logged run for
-- scripts/check_run.lua (default examples/run.csv), from seed 2026.
--
-- The "model" answers one prompt with 200 possible responses; the reference
-- policy picks response i with a Zipf-like probability, a reward model scores
-- it with a Gumbel-distributed score, and the aligned policy is best-of-8 on
-- that reward (its exact law, from ab.bon.policy).  Each of the 2000 rows
-- holds the reward of one reference sample, the reward of one policy sample,
-- and the log-probabilities of that policy sample under the policy and under
-- the reference (what an RL run logs).
local ab = require "alignbound"

local SEED, M, N, BEST_OF = 2026, 200, 2000, 8
-- mt19937, the generator examples/run.csv was made with (ab.rng's default
-- before xoshiro256**), so that this script still writes the same file
local MT = { type = "mt19937" }
local out = arg[1] or "examples/run.csv"

local rng = ab.rng(SEED, 0, MT)
local probs, rewards, s = {}, {}, 0
local scores = ab.tail.gumbel { loc = 0, scale = 1 }:sample(M, rng)
for i = 1, M do
  probs[i] = 1 / i ^ 1.1
  s = s + probs[i]
  rewards[i] = scores[i]
end
for i = 1, M do probs[i] = probs[i] / s end
local policy = ab.bon.policy(probs, rewards, BEST_OF).policy

-- draw response indices from a law by its CDF
local function draws(law, k, r)
  local cdf, acc = {}, 0
  for i = 1, M do acc = acc + law[i]; cdf[i] = acc end
  local u, idx = r:uniform(k), {}
  for j = 1, k do
    local lo, hi = 1, M
    while lo < hi do
      local mid = (lo + hi) // 2
      if cdf[mid] < u[j] * acc then lo = mid + 1 else hi = mid end
    end
    idx[j] = lo
  end
  return idx
end

local ref_idx = draws(probs, N, ab.rng(SEED, 1, MT))
local pol_idx = draws(policy, N, ab.rng(SEED, 2, MT))
local f = assert(io.open(out, "w"))
f:write("ref_reward,policy_reward,logp_policy,logp_ref\n")
for j = 1, N do
  local i = pol_idx[j]
  f:write(string.format("%.17g,%.17g,%.17g,%.17g\n", rewards[ref_idx[j]], rewards[i],
    math.log(policy[i]), math.log(probs[i])))
end
f:close()
print(string.format("wrote %s: %d rows (seed %d, best-of-%d over %d responses)", out, N, SEED, BEST_OF, M))
