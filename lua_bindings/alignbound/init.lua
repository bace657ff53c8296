--- alignbound: information-theoretic limits of LLM policy alignment.
--
-- How much reward can an aligned policy gain over its reference policy for a
-- given KL budget, under a tail assumption on the reward?  Conventions:
-- natural logarithms (divergences in nats); gain = E_pi r - E_ref r;
-- divergences are D(aligned || reference); psi(l) = log E_ref e^{l (R - E R)}.
--
-- Every numeric entry point accepts a number, a table of numbers or an
-- `alignbound.vector` and returns the same shape.
-- @module alignbound

local core = require "alignbound.core"

local ab = {}

--- Library version string.
ab.version = core.version
--- How far from 1 the probabilities given to the library may sum (1e-9):
-- they must each be finite and >= 0, and are renormalised.
ab.prob_tolerance = core.prob_tolerance

--- Make a vector of doubles.
-- `ab.vector{1, 2, 3}` copies a table (or a vector); `ab.vector(n [, fill])`
-- makes `n` copies of `fill` (default 0).  A vector supports `#v`, `v[i]`
-- (1-based, bounds-checked), `v[i] = x`, `v:totable()` and `tostring(v)`; its
-- doubles live inside the userdata (8 bytes each).
-- @function vector
-- @tparam table|number values a table of numbers, a vector, or a size
-- @tparam[opt=0] number fill the value of every element when given a size
-- @treturn alignbound.vector
ab.vector = core.vector

--- Tail assumptions and exact laws of the reward under the reference policy.
-- Every constructor takes a table of named fields (an unknown field is an
-- error) and returns a tail object with the methods below.
-- @section tail
ab.tail = core.tail

--- Sub-Gaussian class: psi(l) ≤ s2 l^2 / 2 for all l (both tails).
-- Bound: sqrt(2 s2 kl).
-- @function tail.subgaussian
-- @tparam table opts `{sigma=}` or `{variance=}` (s2 = sigma^2)

--- Sub-gamma class on the right tail: psi(l) ≤ v l^2 / (2 (1 - c l)), l in [0, 1/c).
-- Bound: sqrt(2 v kl) + c kl.  No loss bound (right tail only).
-- @function tail.subgamma
-- @tparam table opts `{v=, c=}` with v > 0, c ≥ 0

--- Sub-exponential class: psi(l) ≤ nu^2 l^2 / 2 for l in (-1/b, 1/b).
-- Bound: sqrt(2 nu^2 kl) if kl ≤ nu^2/(2 b^2), else b kl + nu^2/(2 b).
-- @function tail.subexponential
-- @tparam table opts `{nu=, b=}`

--- Rewards bounded in [lo, hi].
-- Without the mean: Hoeffding, (hi - lo) sqrt(kl / 2), capped at hi - lo.
-- With the mean: the exact frontier of the two-point law on {lo, hi} with that
-- mean, which dominates every law on [lo, hi] with that mean (tight).
-- @function tail.bounded
-- @tparam table opts `{lo=, hi= [, mean=]}`

--- Gaussian law (exact): bound sqrt(2 sd^2 kl), attained by tilting.
-- @function tail.gaussian
-- @tparam table opts `{mean=0, sd=}`

--- Uniform law on [lo, hi] (exact frontier).
-- @function tail.uniform
-- @tparam table opts `{lo=, hi=}`

--- Bernoulli law (exact frontier; saturates at 1 - p once kl ≥ -log p).
-- @function tail.bernoulli
-- @tparam table opts `{p=}`

--- Exponential law (exact frontier).
-- @function tail.exponential
-- @tparam table opts `{rate=}`

--- Gamma law (exact frontier).
-- @function tail.gamma
-- @tparam table opts `{shape=, scale=}`

--- Gumbel law (exact frontier).
-- @function tail.gumbel
-- @tparam table opts `{loc=0, scale=}`

--- Logistic law (exact frontier).
-- @function tail.logistic
-- @tparam table opts `{loc=0, scale=}`

--- Beta law on [0, 1] (exact frontier).
-- @function tail.beta
-- @tparam table opts `{a=, b=}`

--- Student t law with df > 0 degrees of freedom, times scale > 0 (heavy
-- tails on both sides).  It has no exponential moment, so its gain bound (and
-- its loss bound) is +inf for every KL > 0 (0 at KL = 0), its tilt is
-- math.huge, its kl_needed is 0 and its variance proxy is +inf.  It can be
-- sampled (`t:sample`, `ab.joint.additive` errors).  Mean 0 when df > 1
-- (nil otherwise).
-- @function tail.student_t
-- @tparam table opts `{df=, scale=}`

--- Pareto law with minimum xm > 0 and index alpha > 0: density
-- alpha xm^alpha / x^(alpha+1) on [xm, inf).  Gain bound +inf for every
-- KL > 0 (0 at KL = 0), as for `tail.student_t`; the loss (left tail) is not
-- modelled.  Mean alpha xm / (alpha - 1), math.huge when alpha ≤ 1.  It can
-- be sampled.
-- @function tail.pareto
-- @tparam table opts `{xm=, alpha=}`

--- A finite law (exact frontier, by log-sum-exp over the atoms).
-- probs must be ≥ 0 and sum to 1 within 1e-9 (they are renormalised).
-- @function tail.discrete
-- @tparam table opts `{values=, probs=}` (tables or vectors of equal length)

--- The empirical law of reward samples (exact frontier of the sample).
-- Each bound is a Newton solve on the tilting parameter with one pass over
-- the samples per step.
-- @function tail.empirical
-- @tparam table|alignbound.vector samples
-- @usage local t = ab.tail.empirical(rewards); print(t:gain(0.5))

--- A user-supplied cumulant bound phi(l) ≥ psi(l) for l in [0, lambda_max),
-- solved numerically (Brent's method).  A Lua error inside fn comes out as a
-- Lua error of the calling method.  Right tail only.
-- @function tail.cumulant
-- @tparam function fn `fn(lambda)` returns phi(lambda) (math.huge allowed)
-- @tparam[opt] table opts `{lambda_max=math.huge}`

--- Methods of a tail object
-- @section methods

--- Upper bound on the reward gain E_pi r - E_ref r over every policy with
-- KL(pi || ref) ≤ kl: inf_l (kl + psi(l)) / l.
-- @function tail:gain
-- @tparam number|table|alignbound.vector kl in [0, inf]
-- @tparam[opt] table opts `{numeric=true}` forces the generic engine;
-- `{family=, alpha=}` takes another budget (see below); `out=` a vector for
-- the result; `threads=` (0: every core) and `progress=` (a line on stderr
-- when it is a terminal; false: none) for a sweep of many budgets over a
-- finite law, whose values are the same for any number of threads
-- @return the bound, in the shape of kl

--- With `{family=, alpha=}`: the largest gain over D(pi || ref) ≤ budget for
-- family "chi2", "tv", "hellinger", "reverse_kl", "renyi" (alpha in (0, inf])
-- or "alpha" (Amari, any real alpha); "kl" is the call above.  Finite and
-- exact laws: the exact frontier (DESIGN 3.5); classes: the tightest
-- certified route.  +inf for tv, hellinger, reverse_kl and orders below 1 on
-- a reward not bounded above.
-- @function tail:gain
-- @tparam number|table|alignbound.vector budget ≥ 0
-- @tparam table opts `{family=, alpha=, out=, threads=, progress=}`
-- @return the value, in the shape of budget
-- @return for a number budget, the route: "exact", "sd sqrt(chi2)",
-- "kl via log(1 + chi2)", "kl via kl <= renyi", "(hi - lo) tv",
-- "(hi - lo) tv, tv from hellinger", "(hi - lo) tv, tv by pinsker", "unbounded"

--- The smallest budget of a family whose frontier reaches a gain (the
-- inverse of tail:gain with family=; KL by default).
-- @function tail:budget_needed
-- @tparam number|table|alignbound.vector g
-- @tparam[opt] table opts `{family=, alpha=, out=, threads=, progress=}`
-- @return the budget, and for a number g with a family, the route

--- The optimal policy of a finite law at a budget: the probabilities of its
-- atoms (those of positive probability, in the order given); for tv the
-- mass moves from the lowest atoms to the top ones.
-- @function tail:optimal_policy
-- @tparam number budget ≥ 0
-- @tparam[opt] table opts `{family=, alpha=}` (kl by default: the tilt)
-- @treturn alignbound.vector

--- Upper bound on the reward decrease (the left tail), inf_l (kl + psi(-l)) / l.
-- @function tail:loss
-- @tparam number|table|alignbound.vector kl
-- @tparam[opt] table opts `{numeric=true, out=, threads=, progress=}`

--- KL needed for a gain g: sup_l (l g - psi(l)); 0 for g ≤ 0, inf beyond
-- the essential supremum.
-- @function tail:kl_needed
-- @tparam number|table|alignbound.vector g
-- @tparam[opt] table opts `{numeric=true, side="gain"|"loss", out=, threads=,
-- progress=}`

--- The optimal tilting parameter l* at a budget: KL(l*) = l* psi'(l*) - psi(l*) = kl
-- (inf once the bound saturates).
-- @function tail:tilt
-- @tparam number|table|alignbound.vector kl
-- @tparam[opt] table opts `{side="gain"|"loss"}`

--- The centred cumulant psi(l) (or its bound), or a derivative.
-- math.huge outside its domain.
-- @function tail:cumulant
-- @tparam number|table|alignbound.vector lambda
-- @tparam[opt] table opts `{derivative=0|1|2}`

--- Optimal sub-Gaussian variance proxy sup_{l != 0} 2 psi(l) / l^2
-- (math.huge when the tail is heavier than Gaussian).
-- @function tail:variance_proxy
-- @tparam[opt] table opts `{numeric=true}`

--- Mean of the reward under the reference law, nil for assumption classes.
-- @function tail:mean

--- Divergences
-- @section divergences

--- A user f-divergence: f convex on [0, inf) with f(1) = 0, written in Lua.
-- Usable wherever a family name is.  A Lua error in f comes out as a Lua
-- error of the calling function.
-- @function fdiv
-- @tparam function fn `fn(t)` returns f(t)
-- @usage local sq = ab.fdiv(function(t) return (t - 1)^2 end) -- chi2
ab.fdiv = core.fdiv

--- D(P || Q) between two discrete laws on the same outcomes, exactly by
-- summation (0 log 0 = 0; the P-mass where Q = 0 counts lim f(t)/t, so KL and
-- chi2 are math.huge there).
-- @function divergence
-- @tparam table|alignbound.vector p probabilities (sum 1 within 1e-9)
-- @tparam table|alignbound.vector q probabilities, same length
-- @tparam string|alignbound.fdiv family "kl", "reverse_kl", "chi2",
-- "hellinger", "tv", "js", "alpha", "renyi" or ab.fdiv(fn)
-- @tparam[opt] table opts `{alpha=}` for "alpha" (any real) and "renyi"
-- ((0, inf], 1 = KL)
-- @treturn number
ab.divergence = core.divergence

--- The generator f(t) of an f-divergence family.
-- @function generator
-- @tparam string|alignbound.fdiv family
-- @tparam number t >= 0
-- @tparam[opt] table opts `{alpha=}`
ab.generator = core.generator

--- Best-of-n: select the best of n independent reference samples by reward.
-- For a continuous reward, bon_n is to ref what Beta(n, 1) is to
-- Uniform(0, 1), so every divergence has the closed form or integral below.
-- n is a real number >= 1 (the formulas are those of Beta(n, 1)).
-- @section bon
ab.bon = core.bon

--- D(bon_n || ref) for a continuous reward (an upper bound with ties).
-- Closed forms: kl: log n - (n-1)/n; reverse_kl: n - 1 - log n;
-- chi2: (n-1)^2/(2n-1); hellinger: (sqrt n - 1)^2/(n+1);
-- tv: (1 - 1/n) n^(-1/(n-1)); renyi: (a log n - log(1 + a(n-1)))/(a-1),
-- log n at a = inf; alpha: (n^a/(1 + a(n-1)) - 1)/(a(a-1)).  js and user f:
-- the integral of f(n u^(n-1)) over (0, 1), resolved near u = 1 up to n ~ 1e15.
-- @function bon.divergence
-- @tparam number|table|alignbound.vector n
-- @tparam string|alignbound.fdiv family
-- @tparam[opt] table opts `{alpha=, numeric=true (integral even with a closed
-- form), out=vector}`

--- KL(bon_n || ref) = log n - (n-1)/n.
-- @function bon.kl
-- @tparam number|table|alignbound.vector n

--- Win rate of best-of-n against one reference sample: n/(n+1).
-- @function bon.win_rate
-- @tparam number|table|alignbound.vector n

--- The tightest certified bound on the best-of-n gain for a tail: the
-- transport bound at KL(bon_n||ref) ("kl"), sd sqrt(chi2) ("chi2"), the range
-- times tv ("tv"), and for bounded rewards the Renyi refinement
-- min over a in (0,1] of sqrt(2 ((1-a) s_pi^2 + a s_ref^2) D_a / a) ("renyi"),
-- with s_ref^2 the reference's right-tail proxy and s_pi^2 the best-of-n law's
-- left-tail proxy (`renyi.bon_proxy`; exact laws and finite laws up to 2^16
-- atoms), each at most range^2/4.
-- @function bon.gain
-- @tparam alignbound.tail tail
-- @tparam number|table|alignbound.vector n
-- @return the bound (shape of n) and the certificate name (a table of names
-- for a table or vector n)

--- The exact gain E R_(n) - E R of best-of-n for an exact law (quantile
-- integration; closed forms for uniform, exponential and Gumbel) or a finite
-- law (discrete, empirical, bernoulli; ties broken uniformly).
-- @function bon.expected_gain
-- @tparam alignbound.tail dist
-- @tparam number|table|alignbound.vector n
-- @tparam[opt] table opts `{numeric=true}` integrates even with a closed form

--- The exact best-of-n law of a discrete reference, ties broken uniformly:
-- bon(y) = ref(y)/q(y) (F<=(y)^n - F<(y)^n).  Outcomes in any order.
-- @function bon.policy
-- @tparam table|alignbound.vector probs reference probabilities
-- @tparam table|alignbound.vector rewards
-- @tparam number n
-- @treturn table `{policy=vector, kl=, win_rate=, mean=, kl_bound=}`: the law,
-- its exact KL, its win rate against a reference sample (ties count 1/2), its
-- mean reward, and log n - (n-1)/n

--- Beirami et al. (2024): the best-of-n KL estimate from the reference
-- probability eps of the selected sample.
-- @function bon.kl_estimate
-- @tparam number|table|alignbound.vector eps in [0, 1]
-- @tparam number n

--- Unbiased estimate of the best-of-n average of values when selecting on
-- ranking_scores, from N >= n logged samples: the i-th by score weighs
-- C(i-1, n-1)/C(N, n); tied scores share their values' mean.
-- @function bon.from_samples
-- @tparam table|alignbound.vector ranking_scores
-- @tparam table|alignbound.vector values
-- @tparam[opt] integer n without it, a vector whose entry k is the estimate
-- for best-of-k, k = 1..N, in one O(N log N) call
-- @tparam[opt] table opts with n: also its standard error, by the bootstrap
-- of `estimate.bon` (the same options: `{seed=0, resamples=200, level=,
-- threads=, progress=, groups=, first=, values=}`, `groups=` for the
-- bootstrap over prompts); returns estimate, se, report
-- @usage local g, se = ab.bon.from_samples(proxy, gold, 4, { seed = 1 })

--- The real n whose best-of-n has KL kl (log n - (n-1)/n = kl):
-- n = -1/W0(-e^{-(kl+1)}) (GSL's Lambert W, polished by Newton in log n, to
-- full precision from kl = 1e-300 up; +inf beyond kl = 800).
-- @function bon.n_for_kl
-- @tparam number|table|alignbound.vector kl

--- Frontiers over every policy at a budget.
-- @section frontier
ab.frontier = core.frontier

--- The largest win rate against an independent reference sample at
-- KL(pi || ref) <= kl, for a continuous reward: attained by the win-rate
-- tilt q(u) = c e^{cu}/(e^c - 1) (ab.policy.win_rate_tilt) with c solving
-- KL(c) = kl; 1/2 at kl = 0, 1 - e^{-(kl+1)} for large kl.
-- @function frontier.win_rate
-- @tparam number|table|alignbound.vector kl

--- Exponential tilting: the exact optimum of KL-regularised RL,
-- pi(y) = ref(y) e^{r(y)/beta} / Z.  For any law the frontier is tail:gain
-- (the same solver); tail:tilt(kl) gives 1/beta at a budget.
-- @section tilt
ab.tilt = core.tilt

--- The tilt of a discrete reference (outcomes in any order).
-- @function tilt.policy
-- @tparam table|alignbound.vector probs
-- @tparam table|alignbound.vector rewards
-- @tparam table opts `{beta=}` (the KL penalty) or `{kl=}` (a budget, solved
-- for beta; beyond -log P(top reward) it saturates: beta = 0)
-- @treturn table `{policy=vector, beta=, kl=, gain=, log_z=}`, log_z = log
-- E_ref e^{r/beta}

--- The KL budget that a penalty beta spends: l psi'(l) - psi(l) at l = 1/beta.
-- @function tilt.kl
-- @tparam alignbound.tail dist
-- @tparam number|table|alignbound.vector beta

--- The penalty beta that spends a KL budget (1 / dist:tilt(kl)).
-- @function tilt.beta
-- @tparam alignbound.tail dist
-- @tparam number|table|alignbound.vector kl

--- Best-of-n against the tilt at the same KL.
-- @function tilt.compare_bon
-- @tparam alignbound.tail dist an exact or finite law
-- @tparam number n
-- @treturn table `{kl=, bon_gain=, tilt_gain=, beta=, kl_bon_tilt=}` with
-- KL(bon_n || tilt) = (tilt_gain - bon_gain) / beta

--- k draws from the tilted law (closed forms for Gaussian, gamma, exponential,
-- Gumbel, logistic, uniform; rejection for beta; weights for finite laws).
-- @function tilt.sample
-- @tparam alignbound.tail dist
-- @tparam table opts `{kl=}` or `{beta=}`
-- @tparam integer k
-- @tparam alignbound.rng rng
-- @treturn alignbound.vector

--- Sampling
-- @section sampling

--- A reproducible generator: the same seed and stream give the same numbers
-- on every run and machine.  The default, xoshiro256** run as a GSL
-- generator type, takes the full 64 bits of the seed and of the stream:
-- distinct pairs start from distinct 256-bit states, so streams of one seed
-- are unrelated and sweeps can be split across processes and merged.
-- `{type="mt19937"}` gives GSL's mt19937 (the default of earlier versions),
-- whose 32-bit seed makes some of many pairs share a sequence.
-- `r:uniform([k])`.
-- @function rng
-- @tparam integer seed
-- @tparam[opt=0] integer stream
-- @tparam[opt] table opts `{type="xoshiro256**"}` or `{type="mt19937"}`
ab.rng = core.rng

--- k draws from an exact or finite law: `dist:sample(k, rng)` (a vector).
-- @function tail:sample

--- k draws of the best-of-n reward, each in O(1) (O(log m) for a finite law)
-- through the Renyi representation F^{-1}(U^{1/n}), for n up to 1e15.
-- @function bon.sample
-- @tparam alignbound.tail dist
-- @tparam number n
-- @tparam integer k
-- @tparam alignbound.rng rng

--- Estimators with their standard errors
-- @section estimate
ab.estimate = core.estimate

--- The mean and its standard error.
-- @function estimate.mean
-- @tparam table|alignbound.vector x
-- @return mean, se

--- KL(pi || ref) from log pi(y) and log ref(y) on policy samples: "k1" (the
-- mean log-ratio), "k2" (r^2/2) or "k3" ((rho - 1) - log rho, rho = ref/pi;
-- unbiased and never negative; the default).
-- @function estimate.kl
-- @tparam table|alignbound.vector logp_policy
-- @tparam table|alignbound.vector logp_ref
-- @tparam[opt] table opts `{estimator="k3"}`
-- @return estimate, se

--- Renyi D_a(pi || ref) from log-probabilities on policy samples.
-- @function estimate.renyi
-- @tparam table|alignbound.vector logp_policy
-- @tparam table|alignbound.vector logp_ref
-- @tparam table opts `{alpha=}`
-- @return estimate, se (delta method)

--- The empirical optimal sub-Gaussian variance proxy, a bootstrap upper
-- confidence bound (percentile method) and a report with its standard error
-- and the heavy-tail checks.  Resample r draws from its own generator seeded
-- from (seed, r): reproducible, shardable (`variance_proxy_resamples`) and
-- the same on any number of threads.  `trusted` is false, and `caveat` says
-- why, when dropping the 3 largest and 3 smallest samples lowers the
-- estimate by more than 1.5 se, or its mean over four random quarters of the
-- samples is lower by more than 1 se (a heavy tail: the law's proxy may be
-- infinite and the bound is none), or with fewer than 32 samples.
-- @function estimate.variance_proxy
-- @tparam table|alignbound.vector samples
-- @tparam[opt] table opts `{level=0.95, resamples=200, seed=0 | rng= (one
-- or the other), threads=0 (every core, at most 1024), progress=true (a line
-- on stderr if a terminal), groups= (first row of each group, then n + 1,
-- increasing: no empty group; resample groups), values= (the resample
-- values of a run, e.g. merged shards; resamples=, if given, must match
-- their number)}`
-- @return estimate, upper bound, report `{estimate=, se=, upper=, level=,
-- resamples=, seed=, first=, method=, drop=, quarter=, trusted=, caveat=,
-- values=}`

--- The bootstrap values of the variance proxy for resamples first ..
-- first + count - 1 of the run with this seed: a shard of a run, whose
-- values, concatenated in order, `variance_proxy{values=}` merges.
-- @function estimate.variance_proxy_resamples
-- @tparam table|alignbound.vector samples
-- @tparam table opts `{seed=0, first=1, count=200, threads=, progress=, groups=}`
-- @treturn alignbound.vector

--- Best-of-n from logged samples (`bon.from_samples(scores, values, n)`)
-- with its bootstrap over the samples (or `groups=`).
-- @function estimate.bon
-- @tparam table|alignbound.vector scores
-- @tparam table|alignbound.vector values
-- @tparam integer n
-- @tparam[opt] table opts as `variance_proxy`, and `first=` (the run's
-- resamples start there: a shard); `values=` merges the shards' values
-- @return estimate, se, report `{estimate=, se=, lo=, hi=, level=,
-- resamples=, seed=, first=, method=, values=}` (lo, hi: the percentile
-- interval)

--- The empirical frontier `tail.empirical(samples):gain(kl)` with its
-- bootstrap over the samples (or `groups=`).
-- @function estimate.frontier
-- @tparam table|alignbound.vector samples
-- @tparam number kl
-- @tparam[opt] table opts as `estimate.bon`
-- @return estimate, se, report as `estimate.bon`

--- Read columns of a CSV file (RFC 4180) into vectors and arrays of strings.
-- A header of names, then records separated by commas or tabs (a tab in the
-- header and no comma means tabs); fields may be quoted, and then hold
-- commas, line breaks and doubled quotes; blank lines, CRLF and a UTF-8 byte
-- order mark are fine.  Columns not asked for are skipped whatever they
-- hold.  The file is read in chunks: memory holds the columns, not the file.
-- A malformed or missing value (hexadecimal is refused, as in JSON), a
-- ragged row, an unclosed quote or a NUL byte is an
-- error naming the file, the line and the column; a file that cannot be
-- read returns nil and a message, as io.open does.
-- @function read_csv
-- @tparam string path
-- @tparam[opt] table opts `{columns={"a", "b"}, text={"prompt_id"}}`:
-- `columns` are read as numbers (default: every column not in `text`),
-- `text` as strings; `progress=false` turns off the progress line (bytes
-- read of the file's size) shown on stderr when it is a terminal
-- @return a table by column name (a vector for a numeric column, an array
-- of strings for a text column), and the number of rows
-- @usage local cols, rows = ab.read_csv("run.csv", { columns = { "reward" }, text = { "prompt_id" } })
ab.read_csv = core.read_csv

--- Read fields of a JSON Lines file (one JSON object per line) into
-- vectors and arrays of strings, as `read_csv`.  A nested field is named by
-- its dotted path (`"meta.prompt_id"`; a key holding the dots itself is
-- tried first).  Lines are parsed one at a time by json-c.  A line that is
-- not a JSON object, a missing field (the message lists the keys there
-- are), a value of the wrong type (a text field takes a string or an
-- integer) and NaN or an infinite number are errors naming the file, the
-- line and the field; a file that cannot be read returns nil and a message.
-- @function read_jsonl
-- @tparam string path
-- @tparam table opts `{fields={"reward"}, text={"meta.prompt_id"}}`:
-- `fields` are read as numbers, `text` as strings (at least one of them);
-- `progress=` as `read_csv`
-- @return a table by field name, and the number of rows
-- @usage local cols, rows = ab.read_jsonl("run.jsonl", { fields = { "reward" }, text = { "meta.prompt_id" } })
ab.read_jsonl = core.read_jsonl

--- Monte Carlo checks, each returning an estimate and its standard error.
-- @section mc
ab.mc = {}

-- Argument checks for the Lua-side functions, with the messages of the C
-- side: "bad argument #n to 'mc.mean' (...)", with no position (level 0),
-- as the C functions' errors: a level counted through nested helpers would
-- name a line of this file.
local TAIL_MT = getmetatable(core.tail.subgaussian { sigma = 1 })
local RNG_MT = getmetatable(core.rng(0))

local function argerror(fname, argn, msg)
  error(string.format("bad argument #%d to '%s' (%s)", argn, fname, msg), 0)
end

local function typename(x)
  local mt = getmetatable(x)
  return type(mt) == "table" and type(mt.__name) == "string" and mt.__name or type(x)
end

-- an exact or finite law (one with a mean: the checks subtract it)
local function check_law(fname, argn, dist)
  if getmetatable(dist) ~= TAIL_MT then
    argerror(fname, argn, "alignbound.tail expected, got " .. typename(dist))
  end
  if dist:mean() == nil then
    argerror(fname, argn, "needs an exact or finite law, got " .. tostring(dist))
  end
end

local function check_number(fname, argn, what, x, lo)
  if type(x) ~= "number" then
    argerror(fname, argn, what .. " must be a number, got " .. typename(x))
  end
  if not (x >= lo and x < math.huge) then
    argerror(fname, argn, string.format("%s must be a finite number >= %g, got %s", what, lo, x))
  end
end

-- the number of draws: an estimate needs at least one
local function check_count(fname, argn, k)
  if math.type(k) ~= "integer" and not (type(k) == "number" and k == math.floor(k)
      and k >= 0 and k < 2 ^ 53) then
    argerror(fname, argn, "k must be an integer, got " ..
      (type(k) == "number" and tostring(k) or typename(k)))
  end
  if k < 1 then argerror(fname, argn, "k must be >= 1, got " .. tostring(k)) end
end

-- The result of a core call made on the caller's behalf (a pcall's results):
-- a failure is raised as the caller's own, "mc.bon_gain: <message>", not as
-- an error of an inner function the user did not call (no position, level 0).
local function relay(fname, ok, ...)
  if ok then return ... end
  local msg = tostring((...)):gsub("^bad argument #%d+ to '[^']*' %((.*)%)$", "%1")
  error(fname .. ": " .. msg, 0)
end

local function check_rng(fname, argn, rng)
  if getmetatable(rng) ~= RNG_MT then
    argerror(fname, argn, "alignbound.rng expected, got " .. typename(rng))
  end
end

--- The best-of-n gain E R_(n) - E R by simulation.
-- @tparam alignbound.tail dist an exact or finite law
-- @tparam number n
-- @tparam integer k draws
-- @tparam alignbound.rng rng
-- @return estimate, se
function ab.mc.bon_gain(dist, n, k, rng)
  check_law("mc.bon_gain", 1, dist)
  check_number("mc.bon_gain", 2, "n", n, 1)
  check_count("mc.bon_gain", 3, k)
  check_rng("mc.bon_gain", 4, rng)
  local m, se = relay("mc.bon_gain", pcall(function() return core.estimate.mean(core.bon.sample(dist, n, k, rng)) end))
  return m - dist:mean(), se
end

--- The gain of the tilt at a KL budget by simulation.
-- @tparam alignbound.tail dist
-- @tparam number kl
-- @tparam integer k
-- @tparam alignbound.rng rng
-- @return estimate, se
function ab.mc.tilt_gain(dist, kl, k, rng)
  check_law("mc.tilt_gain", 1, dist)
  check_number("mc.tilt_gain", 2, "kl", kl, 0)
  check_count("mc.tilt_gain", 3, k)
  check_rng("mc.tilt_gain", 4, rng)
  local m, se = relay("mc.tilt_gain", pcall(function()
    return core.estimate.mean(core.tilt.sample(dist, { kl = kl }, k, rng))
  end))
  return m - dist:mean(), se
end

--- The mean of a law by simulation (a check of the sampler).
-- @tparam alignbound.tail dist
-- @tparam integer k
-- @tparam alignbound.rng rng
-- @return estimate, se
function ab.mc.mean(dist, k, rng)
  check_law("mc.mean", 1, dist)
  check_count("mc.mean", 2, k)
  check_rng("mc.mean", 3, rng)
  return relay("mc.mean", pcall(function() return core.estimate.mean(dist:sample(k, rng)) end))
end

--- Hold a logged run against the limit.
-- @section check

local CHECK_FIELDS = { ref_rewards = true, policy_rewards = true, logp_policy = true,
  logp_ref = true, level = true, resamples = true, rng = true, seed = true, threads = true,
  progress = true }

--- From reference-policy reward samples, policy reward samples and the
-- policy's log-probabilities (under the policy and the reference) on its own
-- samples: the estimated KL (k3, with its error), the measured gain (with its
-- error), the bound at that KL under the estimated sub-Gaussian tail (and
-- under its bootstrap upper bound), the exact frontier of the empirical
-- reference law at that KL (with its bootstrap error), and the fraction of
-- the limit the run achieves.
--
-- Errors: `kl_se` and `gain_se` are the usual sd / sqrt(n); the proxy and
-- the frontier are bootstrapped over the reference rewards (`resamples`
-- resamples from `seed`, see `estimate.variance_proxy` and
-- `estimate.frontier`), the frontier's error also carrying the KL estimate's
-- (slope of the frontier times `kl_se`, added in quadrature); `fraction_se`
-- by the delta method from `gain_se` and `frontier_se` (their correlation
-- through the reference rewards neglected).  When the reference rewards have
-- a heavy tail the proxy cannot be trusted: `variance_proxy_trusted` is false,
-- `variance_proxy_caveat` says why, and the bootstrap "upper bound" is no
-- bound on the law's proxy.
-- @tparam table run `{ref_rewards=, policy_rewards=, logp_policy=, logp_ref=,
-- [level=0.95, resamples=200, seed=0 | rng=, threads=0, progress=true]}`
-- @treturn table `{kl=, kl_se=, gain=, gain_se=, variance_proxy=,
-- variance_proxy_se=, variance_proxy_upper=, variance_proxy_trusted=,
-- variance_proxy_caveat=, bound_subgaussian=, bound_subgaussian_upper=,
-- frontier=, frontier_se=, frontier_lo=, frontier_hi=, fraction=,
-- fraction_se=}`; fraction is nil when the frontier is 0 (constant reference
-- rewards)
function ab.check_run(run)
  -- no position (level 0), as the C functions' argument errors
  local function bad(msg) error("bad argument #1 to 'check_run' (" .. msg .. ")", 0) end
  if type(run) ~= "table" then bad("table expected, got " .. typename(run)) end
  for k in pairs(run) do
    if not CHECK_FIELDS[k] then bad("unknown option '" .. tostring(k) .. "'") end
  end
  for _, k in ipairs { "ref_rewards", "policy_rewards", "logp_policy", "logp_ref" } do
    if run[k] == nil then bad(k .. " is required") end
  end
  -- a core call on fields of run: its complaint becomes one about run,
  -- prefixed with `fields` (the fields its first argument came from) unless
  -- it is about its options table (argument `opts`), whose messages name
  -- their field already
  local function call(fields, f, opts, ...)
    local res = table.pack(pcall(f, ...))
    if not res[1] then
      local msg = tostring(res[2])
      local argn, inner = msg:match("^bad argument #(%d+) to '[^']+' %((.*)%)$")
      if opts and tonumber(argn) == opts then bad(inner) end
      bad(fields .. ": " .. (inner or msg))
    end
    return table.unpack(res, 2, res.n)
  end
  local kl, kl_se = call("logp_policy, logp_ref", core.estimate.kl, nil, run.logp_policy, run.logp_ref)
  local mref, sref = call("ref_rewards", core.estimate.mean, nil, run.ref_rewards)
  local mpol, spol = call("policy_rewards", core.estimate.mean, nil, run.policy_rewards)
  local boot = { level = run.level or 0.95, resamples = run.resamples or core.boot_resamples, seed = run.seed,
    rng = run.rng, threads = run.threads, progress = run.progress }
  if boot.seed == nil and boot.rng == nil then boot.seed = 0 end
  local s2, s2_up, proxy = call("ref_rewards", core.estimate.variance_proxy, 2, run.ref_rewards, boot)
  -- the frontier's bootstrap resamples the same way from the same seed
  local fboot = { level = boot.level, resamples = boot.resamples, seed = proxy.seed,
    threads = boot.threads, progress = boot.progress }
  local frontier, frontier_se, fr = call("ref_rewards", core.estimate.frontier, 3, run.ref_rewards, kl, fboot)
  -- the KL's own error moves the frontier by its slope d gain / d kl
  local emp = call("ref_rewards", core.tail.empirical, nil, run.ref_rewards)
  local lo_kl, hi_kl = math.max(kl - kl_se, 0), kl + kl_se
  local slope_part = hi_kl > lo_kl and (emp:gain(hi_kl) - emp:gain(lo_kl)) / 2 or 0
  frontier_se = math.sqrt(frontier_se ^ 2 + slope_part ^ 2)
  local gain = mpol - mref
  local gain_se = math.sqrt(sref ^ 2 + spol ^ 2)
  -- the sub-Gaussian bound of the estimated proxy (0 for constant rewards)
  local function bound(v) return v > 0 and core.tail.subgaussian { variance = v }:gain(kl) or 0 end
  local fraction, fraction_se
  if frontier > 0 then
    fraction = gain / frontier
    fraction_se = math.abs(fraction) * math.sqrt((gain_se / gain) ^ 2 + (frontier_se / frontier) ^ 2)
    if gain == 0 then fraction_se = gain_se / frontier end
  end
  return {
    kl = kl, kl_se = kl_se,
    gain = gain, gain_se = gain_se,
    variance_proxy = s2, variance_proxy_se = proxy.se, variance_proxy_upper = s2_up,
    variance_proxy_trusted = proxy.trusted, variance_proxy_caveat = proxy.caveat,
    bound_subgaussian = bound(s2),
    bound_subgaussian_upper = bound(s2_up),
    frontier = frontier, frontier_se = frontier_se, frontier_lo = fr.lo, frontier_hi = fr.hi,
    -- nil when there is no limit to reach (constant reference rewards)
    fraction = fraction, fraction_se = fraction_se,
  }
end

--- The Renyi refinement (DESIGN 3.3): tail information on the aligned
-- policy too.  If the reward is s_ref^2-sub-Gaussian on its right tail under
-- the reference and s_pi^2-sub-Gaussian on its left tail under the aligned
-- policy, then for every order a in (0, 1]
-- gain ≤ sqrt(2 ((1 - a) s_pi^2 + a s_ref^2) D_a(pi || ref) / a),
-- the KL bound sqrt(2 s_ref^2 KL) at a = 1; as a → 0, (1 - a) D_a / a tends
-- to the reverse KL(ref || pi) (n - 1 - log n for best-of-n).
-- @section renyi
ab.renyi = core.renyi

--- The refined bound and the order that attains it.  Without `alpha=` it is
-- minimised over a in (0, 1]: a grid in logit(a) (a user D_a need not give a
-- unimodal bound), Brent's method around the best grid point, a = 1 exactly,
-- and for `{bon=n}` the limit a → 0 exactly (order 0 is returned then).
-- @function renyi.gain
-- @tparam table opts `{reference=, aligned=, divergence= [, alpha=]}`:
-- `reference` is a tail (its optimal right-tail proxy sup_{l>0} 2 psi(l)/l^2,
-- from the exact cumulant for exact and finite laws) or `{variance=}`;
-- `aligned` is a tail (its left-tail proxy sup_{l<0}) or `{variance=}`;
-- `divergence` is D_alpha as a number (needs `alpha=`), a function
-- `function(a) return D_a end` (a Lua error in it comes out of renyi.gain), or
-- `{bon=n}` (the closed form (a log n - log(1 + a(n-1)))/(a-1), exact for a
-- continuous reward, an upper bound with ties); `alpha` in (0, 1] fixes the order
-- @return bound, order
-- @usage local b, a = ab.renyi.gain{reference = ab.tail.uniform{lo=0, hi=1},
--   aligned = ab.tail.beta{a=100, b=1}, divergence = {bon=100}}

--- The left-tail variance proxy sup_{l<0} 2 psi_n(l)/l^2 of the best-of-n law,
-- from its quantile representation Q(U^{1/n}): the `aligned` proxy for
-- `renyi.gain` with `divergence={bon=n}` (and what `bon.gain`'s "renyi"
-- certificate uses).  Exact laws by quadrature over the quantile (where it
-- is representable, U^{1/n} > 1e-304; an error if the integrals cannot reach
-- 1e-6, as for a bounded law near n = 1e12); finite laws by their exact law
-- with ties, masses F<=^n - F<^n kept in logs so that atoms whose mass is
-- below the double range still count (the proxy decays only like
-- 1/log(1/mass)).  About 10-30 ms for an exact law.
-- @function renyi.bon_proxy
-- @tparam alignbound.tail dist an exact law (gaussian, uniform, exponential,
-- gamma, gumbel, logistic, beta) or a finite law
-- @tparam number n ≥ 1
-- @treturn number
-- @usage local s2 = ab.renyi.bon_proxy(dist, 64)
-- local b = ab.renyi.gain{reference = dist, aligned = {variance = s2}, divergence = {bon = 64}}

--- Goodhart fits of the golden gain against d = sqrt(KL) (DESIGN 3.4).
-- @section goodhart
ab.goodhart = core.goodhart

--- Least squares (GSL multifit, no intercept) of gold = alpha d - beta d^2
-- ("bon", the best-of-n overoptimisation shape) or gold = alpha d - beta d log d
-- ("rl", RL runs), d = sqrt(kl).  With `se=` the fit is weighted by 1/se^2 and
-- the parameter errors come from se; without, from the residual variance.
-- The peak over d ≥ 0 when beta > 0: "bon" d* = max(alpha, 0)/(2 beta)
-- (gain alpha^2/(4 beta)), "rl" d* = exp(alpha/beta - 1) (gain beta d*);
-- peak_kl = d*^2.  When beta ≤ 0 there is no peak: peak_kl = math.huge and
-- peak_gain = nil.
-- @function goodhart.fit
-- @tparam table|alignbound.vector kl at least 3 values ≥ 0, two of them
-- distinct and positive
-- @tparam table|alignbound.vector gold the golden gains, same length
-- @tparam string form "bon" or "rl"
-- @tparam[opt] table opts `{se=}` standard errors of gold (positive)
-- @treturn table `{alpha=, beta=, alpha_se=, beta_se=, r2=, peak_kl=,
-- peak_gain=, form=}`

--- Proxy and golden rewards (DESIGN 3.4).
-- A policy is optimised against a proxy reward; the golden reward is what is
-- wanted.  With e = proxy - gold, gold_gain = proxy_gain - (E_pi e - E_ref e),
-- so a bound D on |E_pi e - E_ref e| puts the golden gain in
-- [proxy_gain - D, proxy_gain + D].  An error model is an object with
-- `e:golden(proxy_gain, div)`, `e.uses` (the divergences it can use, in the
-- order tried), `e.kind`, its parameter as a field, and a `tostring` such as
-- `error.bounded(eps=0.1)`.
-- @section golden
ab.error = core.error

--- The error is bounded: |e| ≤ eps.  D = 2 eps TV (route "tv"),
-- 2 eps min(1, sqrt(KL/2)) (Pinsker, route "kl") or eps min(2, sqrt(chi2))
-- (TV ≤ sqrt(chi2)/2, route "chi2"), the smallest of those available.
-- @function error.bounded
-- @tparam table opts `{eps=}`, eps > 0

--- The error is sub-Gaussian under the reference with variance proxy
-- sigma^2, both tails: D = sqrt(2 sigma^2 KL) (route "kl") or
-- sqrt(sigma^2 chi2) (route "chi2"), the smaller.
-- @function error.subgaussian
-- @tparam table opts `{sigma=}` or `{variance=}`

--- Only the variance of the error under the reference is known:
-- D = sqrt(var chi2) (Cauchy-Schwarz, route "chi2").  For best-of-n chi2 grows
-- like n/2 while KL grows like log n, so this term can outgrow the proxy gain.
-- @function error.variance
-- @tparam table opts `{var=}`, var > 0

--- The proxy overestimates by rate × KL: gold_gain = proxy_gain - rate KL
-- (lo = hi, route "rate"); with a sub-Gaussian proxy bound this is the
-- d (alpha - beta d) shape in d = sqrt(KL) of reward-model overoptimisation.
-- @function error.overestimation
-- @tparam table opts `{rate=}`, rate ≥ 0

--- Bounds on the golden gain at the policy's divergences, by the tightest
-- route available.  An error if `div` holds none of `e.uses`.
-- @function error:golden
-- @tparam number proxy_gain a bound, an exact value or an estimate
-- @tparam table div any subset of `{kl=, chi2=, tv=}` (D(pi || ref))
-- @return lo, hi, route ("tv", "kl", "chi2" or "rate")
-- @usage local lo, hi, route = ab.error.bounded{eps=0.1}:golden(0.8, {kl=0.5, tv=0.3})

--- Joint models of the proxy and the golden reward under the reference.
-- Each is an object with `j:bon(n [, opts])`, `j:tilt(lambda [, opts])`,
-- `j:tilt_kl(kl [, opts])`, `j:proxy_law([opts])` and `tostring(j)`.
-- opts = `{draws=10000, seed=1}` is used by the Monte Carlo of the additive
-- model and accepted (unused) by the exact ones.  `j:bon`, `j:tilt` and
-- `j:tilt_kl` return `{proxy_gain=, gold_gain=, kl=, proxy_se=, gold_se=,
-- exact=}` (the tilts also `kl_se=` and `lambda=`): the gains of best-of-n on
-- the proxy / of the tilt pi ∝ ref e^{lambda proxy} over the reference,
-- KL(pi || ref), and standard errors (0 when exact).  `j:tilt_kl` finds the
-- lambda that spends a KL budget: sqrt(2 kl)/sd_proxy (Gaussian), the
-- empirical tilt's solve (logged pairs; math.huge once saturated), or on the
-- fixed Monte Carlo draws the lambda whose estimated KL is kl (additive; kl
-- must lie below log(draws), the most a reweighting of the draws can spend).
-- @section joint
ab.joint = core.joint

--- Jointly Gaussian proxy and gold with correlation rho: any selection on the
-- proxy moves the gold by rho sd_gold / sd_proxy times the proxy, exactly.
-- bon: proxy gain sd_proxy E[max of n N(0,1)], KL = log n - (n-1)/n;
-- tilt: proxy gain lambda sd_proxy^2, KL = (lambda sd_proxy)^2 / 2.
-- `j:proxy_law()` is `ab.tail.gaussian{mean=mean_proxy, sd=sd_proxy}`.
-- @function joint.gaussian
-- @tparam table opts `{rho=, sd_proxy=, sd_gold= [, mean_proxy=0, mean_gold=0]}`,
-- rho in [-1, 1]

--- proxy = gold + error with gold and error independent (each an exact or
-- finite law with a finite mean, e.g. `ab.tail.student_t` for a heavy-tailed
-- error), by Monte Carlo in the core from `ab.rng(seed)`: best-of-n (integer n
-- up to 1e7; n = 1 is exact) draws n pairs per selection (O(n) each, about
-- 0.1 µs per pair) and keeps the gold of the top proxy;
-- its kl is log n - (n-1)/n (exact for a continuous proxy, an upper bound
-- with ties).  The tilt weighs reference draws by e^{lambda proxy}
-- (self-normalised, log-sum-exp; errors by the delta method) and is an error
-- when E e^{lambda proxy} is infinite (heavy or exponential tails).
-- `j:proxy_law{draws=, seed=}` is the empirical law of that many proxy draws
-- (an estimate).  The same seed gives the same numbers.  In a scenario the
-- other selection rules (ab.policy.*) run on the model's draws (the
-- scenario's monte_carlo= or these defaults).
-- @function joint.additive
-- @tparam table opts `{gold=tail, error=tail}`

--- Logged pairs (proxy_i, gold_i) as their empirical law, exactly: best-of-n
-- is the exact best-of-n law of the empirical proxy law (with replacement,
-- ties broken uniformly, as `ab.bon.policy`; any real n ≥ 1), the tilt is
-- `ab.tilt.policy` on the proxy (lambda = math.huge: the top proxy).  For the
-- unbiased estimate of the population's best-of-n from n ≤ N distinct logged
-- samples use `ab.bon.from_samples(proxy, gold, n)`.
-- `j:proxy_law()` is `ab.tail.empirical(proxy)`.
-- @function joint.samples
-- @tparam table opts `{proxy=, gold=}`: tables, vectors or CSV columns of
-- equal length

--- Policies, scenarios, CSV and figures (pure Lua on the calls above)
-- @section scenario

-- The pure-Lua modules live next to this file.  They are found by require
-- when installed or on LUA_PATH; a host that preloads only this file from the
-- source tree (spec/c/host.c) gets them from this file's directory.
local function sibling(name)
  local full = "alignbound." .. name
  if package.loaded[full] or package.preload[full] or package.searchpath(full, package.path) then
    return require(full)
  end
  local dir = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or ""
  local chunk, err = loadfile(dir .. name .. ".lua")
  if not chunk then error("alignbound: cannot load " .. full .. ": " .. err, 2) end
  package.loaded[full] = chunk(full)
  return package.loaded[full]
end
local policy = sibling "policy"
local io_ = sibling "io"
local plot = sibling "plot"
local scenario = sibling "scenario" -- after the three it requires
local shard = sibling "shard"
local prompts = sibling "prompts"

-- Finite laws remember their atoms (weakly), so that a scenario on them uses
-- the exact law with ties (ab.bon.policy, ab.tilt.policy).  The constructor's
-- error is raised again at the caller's level, so that it points at the
-- caller's line, not at this wrapper.
do
  local tail = core.tail
  local discrete, empirical, bernoulli = tail.discrete, tail.empirical, tail.bernoulli
  function tail.discrete(opts)
    local ok, t = pcall(discrete, opts)
    if not ok then error(t, 2) end
    scenario.atoms[t] = { values = core.vector(opts.values), probs = core.vector(opts.probs) }
    return t
  end
  function tail.empirical(samples, ...)
    local ok, t = pcall(empirical, samples, ...)
    if not ok then error(t, 2) end
    local values = core.vector(samples)
    scenario.atoms[t] = { values = values, probs = core.vector(#values, 1 / #values) }
    return t
  end
  function tail.bernoulli(opts)
    local ok, t = pcall(bernoulli, opts)
    if not ok then error(t, 2) end
    scenario.atoms[t] = { values = core.vector { 0, 1 }, probs = core.vector { 1 - opts.p, opts.p } }
    return t
  end
end

--- Policy families over a list of parameters: `ab.policy.best_of_n{n={...}}`,
-- `ab.policy.kl_budget{kl={...}}`, `ab.policy.kl_penalty{beta={...}}`; see
-- the module alignbound.policy for the interface (`family.name`,
-- `family.param`, `family.values`, `family:evaluate(ctx, value)`) and
-- `ab.policy.define` for adding a rule.
ab.policy = policy

--- A scenario: `ab.scenario{reference= | joint=, policy=, [divergences=,
-- golden=, error=, aligned=, monte_carlo={draws=, seed=}, name=]}` with
-- `s:run()` (rows), `tostring(s)`, `s:csv(path)`, `s:plot(path [, {x=, y=}])`
-- and `s:peak()`; see the module alignbound.scenario for every row field.
-- @function scenario
ab.scenario = scenario.bind(ab)

--- Group rows by prompt id: `ab.group(ids, columns...)` returns
-- `{prompts=, rows=, ids=, offsets=, columns=}` and the grouped columns.
-- ids: a table of strings or of numbers, or a vector; prompts come in the
-- order of their first appearance, rows keep their order within a prompt;
-- prompt q holds the grouped rows offsets[q] .. offsets[q+1] - 1 (a vector
-- of P + 1 entries); each column (table or vector of #ids numbers) is copied
-- once into that order (a vector).  Hashing, O(rows).
-- @function group
ab.group = core.group

--- A logged run per prompt (DESIGN 3.7); see alignbound.prompts and the
-- README: `pr:gain(kl)`, `pr:bound(kl)`, `pr:best_of_n(n)`,
-- `pr:check_run{[beta=]}`, `pr:rows(opts)`, `pr:summary(opts)`,
-- `pr:partial(opts)`, `pr:variance_proxy()`, `pr:size()`, `pr:ids()`,
-- `pr:responses()`, `pr:fingerprint()`.  Options of the constructor
-- besides the columns: `shard="i/k"`, `run=`, `threads=0` (the per-prompt
-- variance proxies on that many threads, 0 = every core; the same bits for
-- any number) and `progress=true` (a progress line on a terminal).
-- Aggregates carry standard errors over prompts by the delta method:
-- `gain_se` of `pr:gain` (and `kl_se`, `gold_gain_se` at a fixed tilt),
-- `kl_se`, `gain_se`, `win_rate_se`, `gold_gain_se` of `pr:best_of_n`,
-- `frontier_se` and `fraction_se` of `pr:check_run`.
-- @function prompts
ab.prompts = prompts.bind(shard)

--- Sharding: `ab.shard.parse("i/k")`, `ab.shard.slice(n, s)`,
-- `ab.shard.save(path, partial)`, `ab.shard.load(path)`,
-- `ab.shard.merge(list)`, `ab.shard.summarize(rows)`; see alignbound.shard.
ab.shard = shard

--- Draw a figure with gnuplot to SVG and PNG; see alignbound.plot.
-- @function plot
ab.plot = plot.plot

--- Write rows or columns to a CSV file, whole or not at all; see alignbound.io.
-- @function write_csv
ab.write_csv = io_.write_csv

--- Verifiable (binary) rewards: GRPO dynamics (DESIGN 3.8; Mroueh 2025,
-- arXiv 2503.06639).  With a reward in {0, 1}, the optimum of each GRPO
-- iteration (no clipping, over all policies) is a tilt of the reference, so
-- only the success probability p moves, by a recurrence in log-odds
-- (Omega(p) = (p (1-p) + eps)^(-1/2)):
--
-- - `"grpo"` (standardised advantages, the default): logit p_n = logit p_ref + Omega(p_{n-1}) / beta
-- - `"dr_grpo"` (mean-only advantages): logit p_n = logit p_ref + 1 / beta
-- - `"mirror"` (KL to the previous policy only): logit p_n = logit p_{n-1} + Omega(p_{n-1}) / beta
-- - `"two_kl"` (weight alpha on the reference, 1 - alpha on the previous policy):
--   logit p_n = alpha logit p_ref + (1 - alpha) logit p_{n-1} + Omega(p_{n-1}) / beta
--
-- Options of every function: `{beta=, eps=1e-5, variant="grpo", alpha=0.5}`
-- (beta > 0 finite, eps >= 0 finite, alpha in [0, 1] and for two_kl only).
-- Success probabilities are carried in log-odds, so values within e^-700 of
-- 1 keep their digits (read them from `logit`).  p_ref = 0 and 1 are
-- absorbing: every variant stays there.
-- @section grpo
ab.grpo = core.grpo

--- One step of the recurrence from p (a number, a table or a vector).
-- @function grpo.step
-- @tparam number|table|alignbound.vector p in [0, 1] (log-odds with `logit=true`)
-- @tparam table opts `{p_ref=, beta= [, eps=, variant=, alpha=, logit=false]}`
-- (p_ref may be left out for the mirror variant)
-- @return the next p and its log-odds, each in the shape of p
-- @usage local p1, x1 = ab.grpo.step(0.2, {p_ref = 0.2, beta = 1})

--- The sequence p_1 .. p_steps from p_0 = p_ref.
-- @function grpo.trajectory
-- @tparam number p_ref in [0, 1]
-- @tparam table opts `{beta=, steps= [, eps=, variant=, alpha=]}`
-- @return a vector of p_n (v[n] = p_n) and a vector of their log-odds

--- Every fixed point p* in (0, 1), ascending: `{p=, logit=, slope=,
-- attracting=, kl=, gain=}` with slope h'(p*), attracting |slope| < 1,
-- kl = kl_bin(p* || p_ref) (the policy is the tilt of the reference with
-- that success rate) and gain p* - p_ref.  Found in log-odds by a
-- subdivision that drops a cell only when bounds of h(x) - x or of its
-- derivative over the cell prove it holds no root or at most one (Omega is
-- monotone on each side of p = 1/2 and bounded by eps^(-1/2)), then Brent's
-- method: none is missed (a double root, at a bifurcation, counts where
-- h(x) - x changes sign in floating point).  dr_grpo has one, mirror none
-- (p only climbs), p_ref = 0 or 1 none.  An error if a fixed point's
-- log-odds overflow a double (beta below about eps^(-1/2) / 1e308).
-- @function grpo.fixed_points
-- @tparam number p_ref in [0, 1]
-- @tparam table opts `{beta= [, eps=, variant=, alpha=]}`
-- @treturn table a list of fixed points

--- Where the iteration from p_0 = p_ref goes: `{kind=, p=, logit=, kl=,
-- gain=, slope=, attracting=, steps=, points=}`, told apart in log-odds.
-- kind "fixed_point" (points = {the point}; reported once a contraction
-- about it is proved from a bound on h', so a slowly converging fixed point
-- is no cycle), "cycle" (a two-cycle h(a) = b, h(b) = a) or "periodic" (a
-- cycle of period 3 to 64): solved from h^k(x) = x by Newton's method with
-- pairwise distinct points, convergence to it proved likewise; `points` =
-- its k points in the order of the orbit from the lowest, each `{p=,
-- logit=, slope=, kl=, gain=}` with slope h'(p) = dp_next/dp (no
-- `attracting` of their own), p, kl and gain their averages, p_min and p_max
-- their range, slope the multiplier (the product of the points' slopes), no
-- top-level logit.  "certainty" (p -> 1: the mirror variant, or eps = 0 past
-- the last fixed point; kl = -log p_ref), "absorbing" (p_ref = 0 or 1) or
-- "irregular" (chaos, found by a positive Lyapunov exponent over steps 10^4
-- to 2 10^4, or no limit in 10^5 steps: p is the last iterate, p_min and
-- p_max the range after the first 10^4).  `steps`: the iterations until
-- the orbit is within 1e-12 (1 + |logit|) of the limit, predicted from the
-- multiplier once convergence is proved.
-- @function grpo.limit
-- @tparam number p_ref in [0, 1]
-- @tparam table opts `{beta= [, eps=, variant=, alpha=]}`
-- @treturn table
-- @usage local l = ab.grpo.limit(0.001, {beta = 5, eps = 1e-5}) -- a two-cycle

--- Best-of-n on a binary reward with success probability p, real n >= 1:
-- pass@n q = 1 - (1-p)^n = -expm1(n log1p(-p)); the law is ref q/p on
-- successes and ref (1-p)^(n-1) on failures, so its exact KL is
-- kl_bin(q || p) (the tilt's KL at the same success rate: best-of-n sits on
-- the frontier of a binary reward); win rate against a reference sample
-- (ties count one half) (1 + q - p)/2; the matching tilt logit q - logit p.
-- Accurate for p down to 1e-300 and n up to 1e15.
-- @function bon.binary
-- @tparam number|table|alignbound.vector p in [0, 1]
-- @tparam number n
-- @treturn table `{pass=, fail=, kl=, win_rate=, tilt=}` (fail = (1-p)^n),
-- each in the shape of p
-- @usage local b = ab.bon.binary(0.01, 64) -- b.pass = 0.4744

return ab
