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
-- `{family=, alpha=}` takes another budget (see below)
-- @return the bound, in the shape of kl

--- With `{family=, alpha=}`: the largest gain over D(pi || ref) ≤ budget for
-- family "chi2", "tv", "hellinger", "reverse_kl", "renyi" (alpha in (0, inf])
-- or "alpha" (Amari, any real alpha); "kl" is the call above.  Finite and
-- exact laws: the exact frontier (DESIGN 3.5); classes: the tightest
-- certified route.  +inf for tv, hellinger, reverse_kl and orders below 1 on
-- a reward not bounded above.
-- @function tail:gain
-- @tparam number|table|alignbound.vector budget ≥ 0
-- @tparam table opts `{family=, alpha=, out=}`
-- @return the value, in the shape of budget
-- @return for a number budget, the route: "exact", "sd sqrt(chi2)",
-- "kl via log(1 + chi2)", "kl via kl <= renyi", "(hi - lo) tv",
-- "(hi - lo) tv, tv from hellinger", "(hi - lo) tv, tv by pinsker", "unbounded"

--- The smallest budget of a family whose frontier reaches a gain (the
-- inverse of tail:gain with family=; KL by default).
-- @function tail:budget_needed
-- @tparam number|table|alignbound.vector g
-- @tparam[opt] table opts `{family=, alpha=, out=}`
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
-- @tparam[opt] table opts `{numeric=true}`

--- KL needed for a gain g: sup_l (l g - psi(l)); 0 for g ≤ 0, inf beyond
-- the essential supremum.
-- @function tail:kl_needed
-- @tparam number|table|alignbound.vector g
-- @tparam[opt] table opts `{numeric=true, side="gain"|"loss"}`

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

--- A reproducible generator (GSL mt19937): the same seed and stream give the
-- same numbers on every run and machine; (seed, stream) is mixed with
-- splitmix64 into the generator's seed, so streams of one seed are unrelated
-- and sweeps can be split across processes and merged.  `r:uniform([k])`.
-- @function rng
-- @tparam integer seed
-- @tparam[opt=0] integer stream
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

--- The empirical optimal sub-Gaussian variance proxy, and with an rng a
-- bootstrap upper confidence bound (percentile method).
-- @function estimate.variance_proxy
-- @tparam table|alignbound.vector samples
-- @tparam[opt] table opts `{level=0.95, resamples=200, rng=}`
-- @return estimate, upper bound (nil without rng)

--- Read numeric columns of a CSV file (header of names, comma or tab, quoted
-- header fields, blank lines, CRLF) into vectors.  A malformed or missing
-- value is an error naming the file, the line and the column; a file that
-- cannot be read returns nil and a message, as io.open does.
-- @function read_csv
-- @tparam string path
-- @tparam[opt] table opts `{columns={"a", "b"}}` (default: every column)
-- @return a table of vectors by column name, and the number of rows
ab.read_csv = core.read_csv

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
  logp_ref = true, level = true, resamples = true, rng = true }

--- From reference-policy reward samples, policy reward samples and the
-- policy's log-probabilities (under the policy and the reference) on its own
-- samples: the estimated KL (k3, with its error), the measured gain (with its
-- error), the bound at that KL under the estimated sub-Gaussian tail (and
-- under its bootstrap upper bound), the exact frontier of the empirical
-- reference law at that KL, and the fraction of the limit the run achieves.
-- @tparam table run `{ref_rewards=, policy_rewards=, logp_policy=, logp_ref=,
-- [level=0.95, resamples=100, rng=ab.rng(0)]}`
-- @treturn table `{kl=, kl_se=, gain=, gain_se=, variance_proxy=,
-- variance_proxy_upper=, bound_subgaussian=, bound_subgaussian_upper=,
-- frontier=, fraction=}`; fraction is nil when the frontier is 0 (constant
-- reference rewards)
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
  -- a core call on fields of run: its complaint becomes one about run
  local function call(fields, f, ...)
    local res = table.pack(pcall(f, ...))
    if not res[1] then
      local msg = tostring(res[2])
      bad(fields .. ": " .. (msg:match("^bad argument #%d+ to '[^']+' %((.*)%)$") or msg))
    end
    return table.unpack(res, 2, res.n)
  end
  local kl, kl_se = call("logp_policy, logp_ref", core.estimate.kl, run.logp_policy, run.logp_ref)
  local mref, sref = call("ref_rewards", core.estimate.mean, run.ref_rewards)
  local mpol, spol = call("policy_rewards", core.estimate.mean, run.policy_rewards)
  local s2, s2_up = call("ref_rewards, level, resamples, rng", core.estimate.variance_proxy,
    run.ref_rewards, { level = run.level or 0.95, resamples = run.resamples or 100, rng = run.rng or core.rng(0) })
  local frontier = call("ref_rewards", core.tail.empirical, run.ref_rewards):gain(kl)
  local gain = mpol - mref
  -- the sub-Gaussian bound of the estimated proxy (0 for constant rewards)
  local function bound(v) return v > 0 and core.tail.subgaussian { variance = v }:gain(kl) or 0 end
  return {
    kl = kl, kl_se = kl_se,
    gain = gain, gain_se = math.sqrt(sref ^ 2 + spol ^ 2),
    variance_proxy = s2, variance_proxy_upper = s2_up,
    bound_subgaussian = bound(s2),
    bound_subgaussian_upper = bound(s2_up),
    frontier = frontier,
    -- nil when there is no limit to reach (constant reference rewards)
    fraction = frontier > 0 and gain / frontier or nil,
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

--- Draw a figure with gnuplot to SVG and PNG; see alignbound.plot.
-- @function plot
ab.plot = plot.plot

--- Write rows or columns to a CSV file, whole or not at all; see alignbound.io.
-- @function write_csv
ab.write_csv = io_.write_csv

return ab
