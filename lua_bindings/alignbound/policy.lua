--- Policy families: a selection rule over a list of parameters.
--
-- A family is a plain table with a small interface, so that a scenario can
-- run any rule without knowing it:
--
--   family.name    the rule, e.g. "best_of_n"
--   family.param   the name of its parameter, e.g. "n" (a column of the rows;
--                  kl_budget's is "budget", since "kl" is the KL it spends)
--   family.field   the constructor's field, e.g. "n" ("kl" for kl_budget)
--   family.values  the parameters, an array of numbers
--   family:evaluate(ctx, value)  the numbers of one row (see below)
--   family:check_context(ctx)    optional: nil, or why the rule cannot run on ctx
--
-- `ctx` is what the scenario knows (built once per run):
--
--   ctx.law     the proxy reward's tail under the reference (a tail object:
--               the scenario's reference, or joint:proxy_law())
--   ctx.exact   true when ctx.law is an exact or finite law (it has a mean
--               and can be sampled), false for an assumption class
--   ctx.atoms   {values=, probs=} when the reference is a finite law whose
--               atoms are known (the exact law with ties is used), else nil
--   ctx.joint   a joint model of (proxy, gold), or nil
--   ctx.needs   the divergences to compute: an array of {family=, alpha=, label=}
--   ctx.monte_carlo  {draws=, seed=} or nil; ctx.rng the generator of the run
--
-- `evaluate` returns a table with any of: kl, kl_se, kl_exact (true when kl
-- is the policy's exact KL, false when it is the continuous-reward formula,
-- an upper bound if the reward has ties), lambda (tilts: the tilting
-- parameter 1/beta), divergences ({label = value}), proxy_exact,
-- proxy_bound, proxy_certificate, proxy_mc, proxy_se, gold_exact, gold_mc,
-- gold_se, and renyi_divergence (what ab.renyi.gain takes as divergence=:
-- {bon=n}, or a function of the order a returning D_a).
--
-- New rules join with `policy.define`, without touching the scenario.
-- @module alignbound.policy

local core = require "alignbound.core"

local policy = {}

local Family = {}
Family.__index = Family

function Family:__tostring()
  local shown = {}
  for i = 1, math.min(#self.values, 6) do shown[i] = string.format("%.6g", self.values[i]) end
  if #self.values > 6 then shown[#shown + 1] = "... (" .. #self.values .. " values)" end
  return string.format("%s(%s = %s)", self.name, self.field, table.concat(shown, ", "))
end

--- Is x a policy family?
-- @param x anything
-- @treturn boolean
function policy.is_family(x)
  return getmetatable(x) == Family
end

local function argerror(fname, msg)
  error("bad argument #1 to '" .. fname .. "' (" .. msg .. ")", 0)
end

-- The list of parameters: a number, a table or a vector of numbers, each
-- passing check(x) (which returns nil or what is wrong).
local function parameters(fname, field, list, check)
  if type(list) == "number" then list = { list } end
  local vec = type(list) == "userdata" and list.totable
  if type(list) ~= "table" and not vec then
    argerror(fname, field .. " must be a number, a table or a vector of numbers, got " .. type(list))
  end
  if vec then list = list:totable() end
  if #list == 0 then argerror(fname, field .. " is empty") end
  local out = {}
  for i = 1, #list do
    local x = list[i]
    if type(x) ~= "number" then
      argerror(fname, string.format("%s[%d] must be a number, got %s", field, i, type(x)))
    end
    if x ~= x then argerror(fname, string.format("%s[%d] must be a number, got nan", field, i)) end
    local bad = check(x)
    if bad then argerror(fname, string.format("%s[%d] must be %s, got %.17g", field, i, bad, x)) end
    out[i] = x
  end
  return out
end

local RESERVED = { policy = true, kl = true, kl_se = true, kl_exact = true, lambda = true }

-- Methods of a family (p:kl(), p:divergence(...), ...): rule.methods[name]
-- is function(family, value, ...) for one parameter; the method maps it over
-- the family's values and returns a number (or one result) when the family
-- was made from a single number, else a table of them in order.
local METHODS = { "divergence", "kl", "win_rate", "gain", "law", "sample" }
for _, m in ipairs(METHODS) do
  Family[m] = function(self, ...)
    if getmetatable(self) ~= Family then
      error("calling 'policy:" .. m .. "' on bad self (a policy family expected, got " .. type(self) .. ")", 0)
    end
    local f = self.methods and self.methods[m]
    if not f then
      error("policy." .. self.name .. ":" .. m .. ": not available for this rule (" .. (self.methods
        and self.methods.why or "its law depends on the reward law beyond its quantile") .. ")", 0)
    end
    if self.scalar then return f(self, self.values[1], ...) end
    local out = {}
    for i, v in ipairs(self.values) do out[i] = f(self, v, ...) end
    return out
  end
end

--- Define a rule: `policy.define{name=, param=, check=, evaluate= [, field=,
-- check_context=]}` makes `policy[name]`, a constructor
-- `policy[name]{[field or param] = {...}}` of families over those parameters.  `check(x)` returns nil for a valid
-- parameter or what it must be ("a number >= 1").
-- @tparam table rule
-- @treturn function the constructor
function policy.define(rule)
  if type(rule) ~= "table" or type(rule.name) ~= "string" or type(rule.param) ~= "string"
    or type(rule.evaluate) ~= "function" then
    error("bad argument #1 to 'policy.define' (table {name=, param=, evaluate= [, check=, field=, "
      .. "check_context=]} expected)", 0)
  end
  if RESERVED[rule.param] or rule.param:match("^proxy_") or rule.param:match("^gold_")
    or rule.param:match("^renyi_") then
    error("bad argument #1 to 'policy.define' (param '" .. rule.param .. "' is a row field; name the column "
      .. "otherwise and pass field=)", 0)
  end
  rule.check = rule.check or function() end
  local fname = "policy." .. rule.name
  local function make(opts)
    if type(opts) ~= "table" then argerror(fname, "table expected, got " .. type(opts)) end
    local field = rule.field or rule.param
    for k in pairs(opts) do
      if k ~= field then
        argerror(fname, "unknown option '" .. tostring(k) .. "' (expected " .. field .. ")")
      end
    end
    if opts[field] == nil then argerror(fname, field .. " is required") end
    local values = parameters(fname, field, opts[field], rule.check)
    return setmetatable({ name = rule.name, param = rule.param, field = field, values = values,
      scalar = type(opts[field]) == "number", methods = rule.methods,
      evaluate = rule.evaluate, check_context = rule.check_context }, Family)
  end
  policy[rule.name] = make
  return make
end

-- Divergences of a finite policy law from the reference atoms, exact.
local function finite_divergences(ctx, law)
  local out = {}
  for _, d in ipairs(ctx.needs) do
    out[d.label] = core.divergence(law, ctx.atoms.probs, d.family, d.alpha and { alpha = d.alpha } or nil)
  end
  return out
end

-- Divergences of the tilt pi_l = ref e^{l r} / Z of an exact law from the
-- reference, in closed form from the cumulant (core: tilt.divergence); tv,
-- js and a user f have none.
local function tilt_divergences(ctx, l, kl, who)
  local out = {}
  for _, d in ipairs(ctx.needs) do
    local v
    if d.family == "kl" or (d.alpha == 1 and (d.family == "renyi" or d.family == "alpha")) then
      v = kl
    else
      local ok, r = pcall(core.tilt.divergence, ctx.law, l, d.family, d.alpha and { alpha = d.alpha } or nil)
      if ok then v = r
      elseif not d.optional then
        error(string.format("%s: divergence '%s' of a tilt needs a finite reference law ({values=, probs=})",
          who, d.label), 0)
      end
    end
    out[d.label] = v
  end
  return out
end

local function mc_rng(ctx)
  return ctx.monte_carlo and ctx.exact and ctx.rng
end

-- The options of p:divergence(family, opts): alpha= and reference=.
local function divergence_opts(fname, opts)
  if opts == nil then return nil, nil end
  if type(opts) ~= "table" then
    error("bad argument #2 to '" .. fname .. "' (table of options expected, got " .. type(opts) .. ")", 0)
  end
  for k in pairs(opts) do
    if k ~= "alpha" and k ~= "reference" then
      error("bad argument #2 to '" .. fname .. "' (unknown option '" .. tostring(k)
        .. "' (expected alpha, reference))", 0)
    end
  end
  return opts.alpha ~= nil and { alpha = opts.alpha } or nil, opts.reference
end

-- The methods of a rule whose law is a density q(u) of the reward quantile:
-- the core does the maths (core/rules.c).
local function quantile_methods(name)
  local R = core.rules
  return {
    divergence = function(_, v, family, opts)
      local o = divergence_opts("policy." .. name .. ":divergence", opts)
      return R.divergence(name, v, family, o)
    end,
    kl = function(_, v) return R.kl(name, v) end,
    win_rate = function(_, v) return R.win_rate(name, v) end,
    gain = function(_, v, dist) return R.expected_gain(dist, name, v) end,
    law = function(_, v, probs, rewards) return R.policy(probs, rewards, name, v) end,
    sample = function(_, v, dist, k, rng) return R.sample(dist, name, v, k, rng) end,
  }
end

--- Best-of-n on the proxy reward, n real >= 1.
-- KL: log n - (n-1)/n (exact for a continuous reward; with the atoms of a
-- finite reference, the exact law with ties, ab.bon.policy).  Proxy gain:
-- exact for an exact or finite law (ab.bon.expected_gain), the certified
-- bound (ab.bon.gain) for every tail, Monte Carlo with monte_carlo=.  With a
-- joint model: joint:bon(n).
-- @function best_of_n
-- @tparam table opts `{n = {...}}`
policy.define {
  name = "best_of_n", param = "n",
  check = function(n) if not (n >= 1 and n < math.huge) then return "a finite number >= 1" end end,
  methods = quantile_methods("best_of_n"),
  evaluate = function(_, ctx, n)
    local row = { renyi_divergence = { bon = n } }
    if ctx.atoms then
      local r = core.bon.policy(ctx.atoms.probs, ctx.atoms.values, n)
      row.kl, row.kl_exact = r.kl, true
      row.divergences = finite_divergences(ctx, r.policy)
    else
      row.kl, row.kl_exact = core.bon.kl(n), ctx.exact and not ctx.finite
      row.divergences = {}
      for _, d in ipairs(ctx.needs) do
        row.divergences[d.label] = core.bon.divergence(n, d.family, d.alpha and { alpha = d.alpha } or nil)
      end
    end
    if ctx.joint then
      local j = ctx.joint:bon(n, ctx.monte_carlo)
      -- the joint model's own KL: exact with ties for logged pairs
      if j.kl then row.kl, row.kl_exact = j.kl, j.exact and true or false end
      if j.exact then
        row.proxy_exact, row.gold_exact = j.proxy_gain, j.gold_gain
      else
        row.proxy_mc, row.proxy_se, row.gold_mc, row.gold_se = j.proxy_gain, j.proxy_se, j.gold_gain, j.gold_se
      end
      return row
    end
    row.proxy_bound, row.proxy_certificate = core.bon.gain(ctx.law, n)
    if ctx.exact then row.proxy_exact = core.bon.expected_gain(ctx.law, n) end
    local rng = mc_rng(ctx)
    if rng then
      local m, se = core.estimate.mean(core.bon.sample(ctx.law, n, ctx.monte_carlo.draws, rng))
      row.proxy_mc, row.proxy_se = m - ctx.law:mean(), se
    end
    return row
  end,
}

-- The tilt at parameter l (and, when known, its KL): the row of a tilting
-- rule, shared by kl_budget and kl_penalty.
local function tilt_row(ctx, l, kl, who, opts)
  local row = { lambda = l }
  if ctx.joint then
    local j
    if opts.kl and ctx.joint.tilt_kl then
      -- the model's own solve for the budget (on its draws for a Monte Carlo model)
      j = ctx.joint:tilt_kl(opts.kl, ctx.monte_carlo)
      l = j.lambda or l
      row.lambda = l
    else
      j = ctx.joint:tilt(l, ctx.monte_carlo)
    end
    row.kl, row.kl_exact = j.kl, j.exact and true or false
    if not j.exact then row.kl_se = j.kl_se end
    if j.exact then
      row.proxy_exact, row.gold_exact = j.proxy_gain, j.gold_gain
    else
      row.proxy_mc, row.proxy_se, row.gold_mc, row.gold_se = j.proxy_gain, j.proxy_se, j.gold_gain, j.gold_se
    end
    if ctx.exact then row.divergences = tilt_divergences(ctx, l, row.kl, who) end
    row.renyi_divergence = function(a) return (ctx.law:cumulant(a * l) - a * ctx.law:cumulant(l)) / (a - 1) end
    return row
  end
  if ctx.atoms then
    local t = core.tilt.policy(ctx.atoms.probs, ctx.atoms.values, opts)
    row.kl, row.kl_exact, row.proxy_exact = t.kl, true, t.gain
    row.lambda = t.beta > 0 and 1 / t.beta or math.huge
    row.divergences = finite_divergences(ctx, t.policy)
  else
    row.kl, row.kl_exact = kl, true
    row.proxy_exact = ctx.law:cumulant(l, { derivative = 1 })
    row.divergences = tilt_divergences(ctx, l, kl, who)
  end
  row.proxy_bound = ctx.law:gain(row.kl)
  row.renyi_divergence = function(a)
    if a == 1 then return row.kl end
    return (ctx.law:cumulant(a * row.lambda) - a * ctx.law:cumulant(row.lambda)) / (a - 1)
  end
  local rng = mc_rng(ctx)
  if rng then
    local draws
    if row.lambda == 0 then
      draws = ctx.law:sample(ctx.monte_carlo.draws, rng) -- no tilt: the reference itself
    elseif row.lambda == math.huge then
      draws = { row.proxy_exact + ctx.law:mean(), row.proxy_exact + ctx.law:mean() } -- saturated: the top reward
    else
      draws = core.tilt.sample(ctx.law, { beta = 1 / row.lambda }, ctx.monte_carlo.draws, rng)
    end
    local m, se = core.estimate.mean(draws)
    row.proxy_mc, row.proxy_se = m - ctx.law:mean(), se
  end
  return row
end

--- The optimum of KL-constrained RL at each budget: the tilt pi ∝ ref e^{l r}
-- with KL(pi||ref) = kl (l = law:tilt(kl)).  Proxy gain: law:gain(kl), exact
-- for an exact law (the tilt attains it) and the bound over every policy at
-- that KL for an assumption class.  With a joint model: joint:tilt_kl(kl)
-- (else joint:tilt(l), l from the proxy law).  The rows' parameter column is
-- `budget`; their `kl` is the KL spent, which is smaller once a finite law
-- saturates (all the mass on its top reward, at KL = -log P(top)).
-- @function kl_budget
-- @tparam table opts `{kl = {...}}`
policy.define {
  name = "kl_budget", param = "budget", field = "kl",
  methods = { kl = function(_, v) return v end,
    why = "its law is the tilt of the reward law at that KL: ab.tilt.*" },
  check = function(k) if not (k >= 0 and k < math.huge) then return "a finite number >= 0" end end,
  evaluate = function(_, ctx, kl)
    if not ctx.exact and not ctx.joint then
      -- an assumption class: no policy to speak of, only the bound over all of them
      return { kl = kl, kl_exact = true, proxy_bound = ctx.law:gain(kl), divergences = {},
        renyi_divergence = function() return kl end }
    end
    local l = (not ctx.joint or not ctx.joint.tilt_kl) and ctx.law:tilt(kl) or nil
    if kl == 0 then l = 0 end
    return tilt_row(ctx, l, kl, "policy.kl_budget", { kl = kl })
  end,
  check_context = function(_, ctx)
    if not ctx.exact and not ctx.joint then
      for _, d in ipairs(ctx.needs) do
        if d.family ~= "kl" and not (d.family == "renyi" and d.alpha == 1) and not d.optional then
          return "policy kl_budget on an assumption class gives only the KL, not '" .. d.label .. "'"
        end
      end
    end
  end,
}

--- KL-regularised RL with penalty beta: the tilt pi ∝ ref e^{r/beta}.  Its
-- KL is ab.tilt.kl(law, beta) and its gain psi'(1/beta).  Needs an exact or
-- finite law (or a joint model).
-- @function kl_penalty
-- @tparam table opts `{beta = {...}}` (beta > 0)
policy.define {
  name = "kl_penalty", param = "beta",
  methods = { why = "its law is the tilt of the reward law: ab.tilt.* (its KL: ab.tilt.kl)" },
  check = function(b) if not (b > 0 and b < math.huge) then return "a finite number > 0" end end,
  evaluate = function(_, ctx, beta)
    local kl = (ctx.exact or ctx.joint) and not ctx.atoms and core.tilt.kl(ctx.law, beta) or nil
    return tilt_row(ctx, 1 / beta, kl, "policy.kl_penalty", { beta = beta })
  end,
  check_context = function(_, ctx)
    if not ctx.exact and not ctx.joint then
      return "policy kl_penalty needs an exact or finite reference law or a joint model, got " .. tostring(ctx.law)
    end
  end,
}

-- ---- selection rules in quantile space (DESIGN 3.6) ----------------------

local function joint_name(j)
  return tostring(j):match("^([%w_.]+)")
end

-- The pairs (proxy, gold) of joint.samples (exact = true) or, for
-- joint.additive, Monte Carlo draws of it (the scenario's monte_carlo= or
-- the model's default {draws=10000, seed=1}; drawn once per run, so that
-- every parameter sees the same draws); nil for other models.
local function joint_pairs(ctx)
  local scenario = require "alignbound.scenario"
  local parts = ctx.joint and scenario.joint_parts[ctx.joint]
  if not parts then return nil end
  if parts.kind == "samples" then return parts.proxy, parts.gold, true end
  if not ctx.pairs then
    local mc = ctx.monte_carlo or { draws = 10000, seed = 1 }
    local p, g = core.rules.additive_draws(parts.gold, parts.error, mc.draws, core.rng(mc.seed), "joint.additive")
    ctx.pairs = { p, g }
  end
  return ctx.pairs[1], ctx.pairs[2], false
end

-- A policy law over the pairs: its gains (exact on logged pairs, Monte
-- Carlo with standard errors on draws) into row.
local function pair_row(row, law, proxy, gold, exact)
  local g = core.rules.pair_gains(law, proxy, gold, "scenario")
  if exact then
    row.proxy_exact, row.gold_exact = g.proxy_gain, g.gold_gain
  else
    row.proxy_mc, row.proxy_se, row.gold_mc, row.gold_se = g.proxy_gain, g.proxy_se, g.gold_gain, g.gold_se
  end
  return row
end

-- Divergences of a law over the pairs from their uniform reference.
local function pair_divergences(ctx, law, probs)
  local out = {}
  for _, d in ipairs(ctx.needs) do
    out[d.label] = core.divergence(law, probs, d.family, d.alpha and { alpha = d.alpha } or nil)
  end
  return out
end

-- The row of a quantile rule (name, parameter v) in a scenario.
local function quantile_row(ctx, name, v)
  local R = core.rules
  local row = {}
  local proxy, gold, exact = joint_pairs(ctx)
  if proxy then
    -- the rule's exact law with ties over the pairs (logged pairs: exactly
    -- the rule on their empirical law; draws: its Monte Carlo estimate)
    local probs = core.vector(#proxy, 1 / #proxy)
    local r = R.policy(probs, proxy, name, v)
    if exact then
      row.kl, row.kl_exact, row.divergences = r.kl, true, pair_divergences(ctx, r.policy, probs)
    else -- a continuous proxy: the rule's own KL and divergences (upper bounds with ties)
      row.kl, row.kl_exact, row.divergences = R.kl(name, v), false, {}
      for _, d in ipairs(ctx.needs) do
        row.divergences[d.label] = R.divergence(name, v, d.family, d.alpha and { alpha = d.alpha } or nil)
      end
    end
    row.renyi_divergence = function(a)
      if a == 1 then return row.kl end
      return R.divergence(name, v, "renyi", { alpha = a })
    end
    return pair_row(row, r.policy, proxy, gold, exact)
  end
  if ctx.atoms then
    local r = R.policy(ctx.atoms.probs, ctx.atoms.values, name, v)
    row.kl, row.kl_exact = r.kl, true
    row.divergences = finite_divergences(ctx, r.policy)
  else
    row.kl, row.kl_exact = R.kl(name, v), ctx.exact and not ctx.finite
    row.divergences = {}
    for _, d in ipairs(ctx.needs) do
      row.divergences[d.label] = R.divergence(name, v, d.family, d.alpha and { alpha = d.alpha } or nil)
    end
  end
  row.renyi_divergence = function(a)
    if a == 1 then return row.kl end
    return R.divergence(name, v, "renyi", { alpha = a })
  end
  if ctx.exact then row.proxy_exact = R.expected_gain(ctx.law, name, v) end
  if ctx.joint then
    -- jointly Gaussian: the gold moves by rho sd_gold / sd_proxy times the
    -- proxy, exactly, whatever the rule (read off the model's exact tilt)
    local t = ctx.joint:tilt(1)
    row.gold_exact = row.proxy_exact * (t.gold_gain / t.proxy_gain)
    return row
  end
  row.proxy_bound = ctx.law:gain(row.kl)
  local rng = mc_rng(ctx)
  if rng then
    local m, se = core.estimate.mean(R.sample(ctx.law, name, v, ctx.monte_carlo.draws, rng))
    row.proxy_mc, row.proxy_se = m - ctx.law:mean(), se
  end
  return row
end

-- Which contexts a quantile rule runs on: any reference, and the joint
-- models whose pairs the scenario knows (joint.gaussian in closed form,
-- joint.samples and joint.additive over their pairs).
local function quantile_context(name)
  return function(_, ctx)
    local scenario = require "alignbound.scenario"
    if ctx.joint and joint_name(ctx.joint) ~= "joint.gaussian" and not scenario.joint_parts[ctx.joint] then
      return "policy " .. name .. " on the joint model " .. tostring(ctx.joint)
        .. ": only joint.gaussian, joint.additive and joint.samples are supported; "
        .. "use reference= with golden= or error=, or best_of_n / kl_budget / kl_penalty"
    end
  end
end

local function define_quantile(name, param, check)
  policy.define {
    name = name, param = param, check = check, methods = quantile_methods(name),
    evaluate = function(_, ctx, v) return quantile_row(ctx, name, v) end,
    check_context = quantile_context(name),
  }
end

--- Best-of-Poisson: the best of N = 1 + Poisson(mu) reference samples.
-- q(u) = (1 + mu u) e^{mu (u-1)}, G(u) = u e^{mu (u-1)}; win rate
-- 1 - (e^{-mu} - 1 + mu)/mu^2; KL by quadrature.  Same expected number of
-- samples as best-of-(1 + mu), at a smaller KL.  Methods as for every rule
-- family (see `divergence`).  In a scenario: exact KL on a finite reference
-- (the law with ties), exact proxy gain for an exact law, Monte Carlo by the
-- sampler; with joint.gaussian the exact golden gain, with joint.samples the
-- rule's exact law over the logged pairs, with joint.additive that law over
-- the model's Monte Carlo draws (golden gain with its standard error).
-- @function best_of_poisson
-- @tparam table opts `{mu = {...}}` (mu >= 0)
define_quantile("best_of_poisson", "mu",
  function(mu) if not (mu >= 0 and mu < math.huge) then return "a finite number >= 0" end end)

--- Rejection to the top fraction eps of the reference's reward quantile:
-- q = 1/eps on [1 - eps, 1]; KL = -log eps (every Renyi order too), win rate
-- 1 - eps/2, gain = the mean of the top eps minus the mean.
-- @function top_fraction
-- @tparam table opts `{eps = {...}}` (0 < eps <= 1)
define_quantile("top_fraction", "eps",
  function(e) if not (e > 0 and e <= 1) then return "a number in (0, 1]" end end)

--- The win-rate tilt ref e^{c F(r)} / Z: q(u) = c e^{cu}/(e^c - 1), the
-- largest win rate at its KL (ab.frontier.win_rate); win rate
-- 1/(1 - e^{-c}) - 1/c, KL = log(c/(e^c - 1)) + c win rate (closed forms
-- without cancellation near c = 0).
-- @function win_rate_tilt
-- @tparam table opts `{c = {...}}` (c >= 0)
define_quantile("win_rate_tilt", "c",
  function(c) if not (c >= 0 and c < math.huge) then return "a finite number >= 0" end end)

--- Methods of every rule family (best_of_n, best_of_poisson, top_fraction,
-- win_rate_tilt, soft_best_of_n).  Each returns one value per parameter of
-- the family: a number (or one table / vector) when the family was made
-- from a single number, else a table of them in the order of the
-- parameters.
--
-- - `p:divergence(family [, {alpha=, reference=}])`: D(pi || ref) for a
--   continuous reward, int_0^1 f(q(u)) du (an upper bound with ties, by data
--   processing); family a name or ab.fdiv.
-- - `p:kl()`, `p:win_rate()`: KL and the win rate against an independent
--   reference sample (continuous reward).
-- - `p:gain(dist)`: the exact expected reward gain for an exact or finite
--   law (int Q(u) (q(u) - 1) du, or the sum over the atoms with ties).
-- - `p:law(probs, rewards)`: the exact law on a discrete reference with
--   ties broken uniformly, pi(y) = ref(y)/q(y) (G(F<=(y)) - G(F<(y))):
--   `{policy=vector, kl=, win_rate=, mean=}` (ties count one half).
-- - `p:sample(dist, k, rng)`: k draws Q(V), V ~ q, O(1) each (a vector).
--
-- kl_budget and kl_penalty have only `p:kl()` (their law is the tilt of the
-- reward law: ab.tilt.*).
-- @section methods

--- Soft best-of-n: of n reference samples keep one with probability
-- proportional to e^{r/temperature}.  It depends on the reward law, not only
-- on its quantile: the exact law on a discrete reference by the Laplace
-- form pi(y) = n ref(y) w(y) int_0^inf e^{-t w(y)} M(t)^{n-1} dt,
-- M(t) = E_ref e^{-t w}, w = e^{(r - max r)/temperature}.  temperature -> 0
-- gives best-of-n, temperature -> inf the reference.  One of n and
-- temperature is the list of parameters (the rows' column), the other a
-- number; n is an integer.  Methods: p:law(probs, rewards), p:gain(dist)
-- and p:sample(dist, k, rng) (n draws each, by simulation) take the law;
-- p:kl{reference=}, p:win_rate{reference=} and
-- p:divergence(family, {reference=}) take a reference law: a finite one (a
-- discrete or empirical tail, or {values=, probs=}) over its atoms, an
-- exact continuous one by the Laplace form on a tanh-sinh discretisation
-- of its quantile, refined until two levels agree to 1e-12 (total
-- variation, whose |q - 1| has a kink, only on a finite law).  In a
-- scenario it runs on an exact or finite reference and on every joint model
-- (joint.gaussian exactly, joint.samples over the logged pairs exactly,
-- joint.additive by Monte Carlo over its draws).
-- @function soft_best_of_n
-- @tparam table opts `{n = {...} | number, temperature = number | {...}}`
local function soft_atoms(fname, ref)
  local scenario = require "alignbound.scenario"
  if type(ref) == "table" and ref.values ~= nil and ref.probs ~= nil then return ref end
  local a = ref ~= nil and scenario.atoms[ref]
  if not a then
    error(fname .. ": needs reference= a finite law (ab.tail.discrete / empirical / bernoulli, or "
      .. "{values=, probs=}), got " .. tostring(ref), 0)
  end
  return a
end

-- a law (ab.tail.*): exact laws by the Laplace form on their quantile,
-- finite ones over their atoms (core.rules.soft_exact)
local function soft_exact_law(ref)
  return type(ref) == "userdata"
end

local function soft_nt(self, v)
  if self.param == "n" then return v, self.fixed end
  return self.fixed, v
end

-- Soft best-of-n's summary (kl, win_rate, ...) at parameter v against the
-- reference of opts: exact for an exact law, over the atoms of a finite one.
local function soft_summary(self, v, opts, fname)
  local _, ref = divergence_opts(fname, opts)
  if soft_exact_law(ref) then
    local n, t = soft_nt(self, v)
    return core.rules.soft_exact(ref, n, t, nil, nil, fname)
  end
  local a = soft_atoms(fname, ref)
  local n, t = soft_nt(self, v)
  return core.rules.soft_policy(a.probs, a.values, n, t)
end

local soft_methods = {
  law = function(self, v, probs, rewards)
    local n, t = soft_nt(self, v)
    return core.rules.soft_policy(probs, rewards, n, t)
  end,
  gain = function(self, v, dist)
    local n, t = soft_nt(self, v)
    return core.rules.soft_gain(dist, n, t)
  end,
  sample = function(self, v, dist, k, rng)
    local n, t = soft_nt(self, v)
    return core.rules.soft_sample(dist, n, t, k, rng)
  end,
  kl = function(self, v, opts)
    return soft_summary(self, v, opts, "policy.soft_best_of_n:kl").kl
  end,
  win_rate = function(self, v, opts)
    return soft_summary(self, v, opts, "policy.soft_best_of_n:win_rate").win_rate
  end,
  divergence = function(self, v, family, opts)
    local fname = "policy.soft_best_of_n:divergence"
    local o, ref = divergence_opts(fname, opts)
    if soft_exact_law(ref) then
      local n, t = soft_nt(self, v)
      return core.rules.soft_exact(ref, n, t, family, o, fname).divergence
    end
    local a = soft_atoms(fname, ref)
    local n, t = soft_nt(self, v)
    return core.divergence(core.rules.soft_policy(a.probs, a.values, n, t).policy, a.probs, family, o)
  end,
}

-- an exact continuous reference without a joint model: the Laplace form
local function soft_evaluate_exact(ctx, n, t)
  local fname = "policy.soft_best_of_n"
  local r = core.rules.soft_exact(ctx.law, n, t, nil, nil, fname)
  local row = { kl = r.kl, kl_exact = true, divergences = {} }
  for _, d in ipairs(ctx.needs) do
    local ok, x = pcall(core.rules.soft_exact, ctx.law, n, t, d.family, d.alpha and { alpha = d.alpha } or nil,
      fname)
    if ok then row.divergences[d.label] = x.divergence end
  end
  row.proxy_exact = r.gain
  row.proxy_bound = ctx.law:gain(r.kl)
  row.renyi_divergence = function(a)
    if a == 1 then return r.kl end
    return core.rules.soft_exact(ctx.law, n, t, "renyi", { alpha = a }, fname).divergence
  end
  local rng = mc_rng(ctx)
  if rng then
    local m, se = core.estimate.mean(core.rules.soft_sample(ctx.law, n, t, ctx.monte_carlo.draws, rng))
    row.proxy_mc, row.proxy_se = m - ctx.law:mean(), se
  end
  return row
end

local function soft_evaluate(self, ctx, v)
  local n, t = soft_nt(self, v)
  local proxy, gold, exact = joint_pairs(ctx)
  if proxy then
    local probs = core.vector(#proxy, 1 / #proxy)
    local r = core.rules.soft_policy(probs, proxy, n, t)
    -- on draws of a continuous proxy, the KL of the law over the draws
    -- estimates the KL of the rule
    local row = { kl = r.kl, kl_exact = exact, divergences = pair_divergences(ctx, r.policy, probs) }
    row.renyi_divergence = function(a)
      if a == 1 then return r.kl end
      return core.divergence(r.policy, probs, "renyi", { alpha = a })
    end
    return pair_row(row, r.policy, proxy, gold, exact)
  end
  if ctx.joint then
    -- jointly Gaussian: the gold moves by rho sd_gold / sd_proxy times the proxy
    local row = soft_evaluate_exact(ctx, n, t)
    local tl = ctx.joint:tilt(1)
    row.gold_exact = row.proxy_exact * (tl.gold_gain / tl.proxy_gain)
    row.proxy_mc, row.proxy_se, row.proxy_bound = nil, nil, nil
    return row
  end
  if not ctx.atoms then return soft_evaluate_exact(ctx, n, t) end
  local r = core.rules.soft_policy(ctx.atoms.probs, ctx.atoms.values, n, t)
  local row = { kl = r.kl, kl_exact = true, divergences = finite_divergences(ctx, r.policy) }
  row.proxy_exact = r.mean - ctx.law:mean()
  row.proxy_bound = ctx.law:gain(r.kl)
  row.renyi_divergence = function(a)
    if a == 1 then return r.kl end
    return core.divergence(r.policy, ctx.atoms.probs, "renyi", { alpha = a })
  end
  local rng = mc_rng(ctx)
  if rng then
    local m, se = core.estimate.mean(core.rules.soft_sample(ctx.law, n, t, ctx.monte_carlo.draws, rng))
    row.proxy_mc, row.proxy_se = m - ctx.law:mean(), se
  end
  return row
end

local function soft_context(_, ctx)
  local scenario = require "alignbound.scenario"
  local ok = ctx.atoms or (ctx.exact and not ctx.joint)
    or (ctx.joint and (scenario.joint_parts[ctx.joint] or joint_name(ctx.joint) == "joint.gaussian"))
  if not ok then
    return "policy soft_best_of_n needs a finite or exact reference law or a joint model, got "
      .. (ctx.joint and tostring(ctx.joint) or tostring(ctx.law))
  end
end

function policy.soft_best_of_n(opts)
  local fname = "policy.soft_best_of_n"
  if type(opts) ~= "table" then argerror(fname, "table expected, got " .. type(opts)) end
  for k in pairs(opts) do
    if k ~= "n" and k ~= "temperature" then
      argerror(fname, "unknown option '" .. tostring(k) .. "' (expected n, temperature)")
    end
  end
  if opts.n == nil then argerror(fname, "n is required") end
  if opts.temperature == nil then argerror(fname, "temperature is required") end
  local check_n = function(n)
    if not (n >= 1 and n < 1e15 and n == math.floor(n)) then return "an integer >= 1" end
  end
  local check_t = function(t) if t <= 0 then return "a number > 0" end end
  local ns = parameters(fname, "n", opts.n, check_n)
  local ts = parameters(fname, "temperature", opts.temperature, check_t)
  local param, values, fixed, scalar
  if type(opts.n) == "number" then
    param, values, fixed, scalar = "temperature", ts, ns[1], type(opts.temperature) == "number"
  elseif type(opts.temperature) == "number" then
    param, values, fixed, scalar = "n", ns, ts[1], false
  else
    argerror(fname, "give a list for one of n and temperature and a number for the other")
  end
  return setmetatable({ name = "soft_best_of_n", param = param, field = param, values = values,
    fixed = fixed, scalar = scalar, methods = soft_methods, evaluate = soft_evaluate,
    check_context = soft_context }, Family)
end

-- ---- GRPO on a verifiable (binary) reward (DESIGN 3.8) --------------------

--- GRPO's limit policy on a binary reward, one row per beta: the policy the
-- iteration from the reference settles on (ab.grpo.limit).  Without
-- clipping each iterate is a tilt of the reference, so the limit is the
-- binary law with success rate q: probs q/p_ref on the top reward's atoms
-- and (1 - q)/(1 - p_ref) on the others (p_ref the reference's probability
-- of the top reward), KL kl_bin(q || p_ref), gain (hi - lo)(q - p_ref).
-- For a two-cycle the row is the average of the cycle's two policies
-- (q their mean success rate); for "certainty" (mirror) all the mass is on
-- the top reward.  The row's `lambda` is the matching tilt
-- (logit q - logit p_ref) / (hi - lo).  Needs a reference with two reward
-- values (ab.tail.bernoulli, or a discrete or empirical law on two values);
-- golden transfer through error= and golden= as for every family.
-- Methods: p:law(probs, rewards) (`{policy=, kl=, win_rate=, mean=, q=,
-- kind=}`), p:gain(dist), p:sample(dist, k, rng), and p:kl{reference=},
-- p:win_rate{reference=}, p:divergence(family, {reference= [, alpha=]})
-- with a binary reference law.
-- @function grpo
-- @tparam table opts `{beta = {...} [, eps=1e-5, variant="grpo", alpha=0.5]}`
-- (the options of ab.grpo.limit)
-- @usage local fam = ab.policy.grpo{beta = {0.5, 1, 2}, eps = 1e-5}
-- local rows = ab.scenario{reference = ab.tail.bernoulli{p = 0.2}, policy = fam}:run()

-- The binary law of finite atoms: p_ref (mass on the top reward), the top
-- and the bottom reward (nil, or why it is not binary).
local function binary_of(probs, values)
  local hi, lo
  for i = 1, #values do
    if probs[i] > 0 then
      local v = values[i]
      hi, lo = math.max(hi or v, v), math.min(lo or v, v)
    end
  end
  local p_ref = 0
  for i = 1, #values do
    if probs[i] > 0 then
      local v = values[i]
      if v ~= hi and v ~= lo then return nil, "a reward law with two values (a verifiable reward)" end
      if v == hi then p_ref = p_ref + probs[i] end
    end
  end
  if lo == nil then return nil, "a law with positive probabilities" end
  return { p_ref = math.min(p_ref, 1), hi = hi, lo = lo }
end

-- The limit of one beta on the binary law b, with q its success rate;
-- beta checked on behalf of the method fname (its methods are reachable
-- without the family's own check of its values).
local function grpo_limit(self, beta, b, fname)
  if not (type(beta) == "number" and beta > 0 and beta < math.huge) then
    error(string.format("bad argument #1 to '%s' (beta must be a finite number > 0, got %s)", fname,
      beta ~= beta and "nan" or tostring(beta)), 0)
  end
  local o = { beta = beta, eps = self.opts.eps, variant = self.opts.variant, alpha = self.opts.alpha }
  local l = core.grpo.limit(b.p_ref, o)
  return l, l.p
end

-- The law on the atoms (probs, values) of the limit: the probabilities of
-- the top atoms scaled by q/p_ref, the others by (1-q)/(1-p_ref).
local function grpo_law(self, beta, probs, values, fname)
  local b, why = binary_of(probs, values)
  if not b then error(fname .. ": needs " .. why, 0) end
  local l, q = grpo_limit(self, beta, b, fname)
  local up = b.p_ref > 0 and q / b.p_ref or 0
  local down = b.p_ref < 1 and (1 - q) / (1 - b.p_ref) or 0
  local law = core.vector(#values)
  for i = 1, #values do law[i] = probs[i] * (values[i] == b.hi and up or down) end
  return law, l, q, b
end

local function grpo_atoms(fname, ref)
  local scenario = require "alignbound.scenario"
  if type(ref) == "table" and ref.values ~= nil and ref.probs ~= nil then return ref end
  local a = ref ~= nil and scenario.atoms[ref]
  if not a then
    error(fname .. ": needs reference= a binary law (ab.tail.bernoulli, a discrete or empirical law on two "
      .. "values, or {values=, probs=}), got " .. tostring(ref), 0)
  end
  return a
end

local function grpo_reference(fname, opts, with_alpha)
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #1 to '" .. fname .. "' (table of options expected, got " .. type(opts) .. ")", 0)
  end
  for k in pairs(opts or {}) do
    if k ~= "reference" and not (with_alpha and k == "alpha") then
      error("bad argument #1 to '" .. fname .. "' (unknown option '" .. tostring(k) .. "' (expected reference"
        .. (with_alpha and ", alpha" or "") .. "))", 0)
    end
  end
  return grpo_atoms(fname, (opts or {}).reference)
end

-- A finite law (probs, rewards) checked as ab.bon.policy checks it: each
-- probability in [0, 1], their sum 1 within 1e-9, rewards finite, the same
-- length.
local function finite_law(fname, probs, rewards)
  local function bad(argn, msg) error(string.format("bad argument #%d to '%s' (%s)", argn, fname, msg), 0) end
  local function list(argn, what, x)
    local ok, v = pcall(core.vector, x)
    if type(x) == "number" or not ok then
      bad(argn, what .. " must be a table or a vector of numbers, got " .. type(x))
    end
    return v:totable()
  end
  local p, r = list(1, "probs", probs), list(2, "rewards", rewards)
  if #p ~= #r then bad(2, string.format("probs and rewards differ in length (%d and %d)", #p, #r)) end
  if #p == 0 then bad(1, "probs is empty") end
  local sum = 0
  for i = 1, #p do
    if not (p[i] >= 0 and p[i] <= 1) then bad(1, string.format("probs[%d] must be a probability, got %s", i,
      p[i] ~= p[i] and "nan" or tostring(p[i]))) end
    if not (r[i] > -math.huge and r[i] < math.huge) then bad(2, string.format("rewards[%d] must be finite, got %s",
      i, r[i] ~= r[i] and "nan" or tostring(r[i]))) end
    sum = sum + p[i]
  end
  if math.abs(sum - 1) > core.prob_tolerance then
    bad(1, string.format("probs must sum to 1 within %g, got sum %.17g", core.prob_tolerance, sum))
  end
  return p, r
end

local grpo_methods = {
  law = function(self, beta, probs, rewards)
    local p, r = finite_law("policy.grpo:law", probs, rewards)
    local law, l, q, b = grpo_law(self, beta, p, r, "policy.grpo:law")
    local mean = 0
    local values = core.vector(rewards)
    for i = 1, #law do mean = mean + law[i] * values[i] end
    return { policy = law, kl = l.kl, win_rate = 0.5 * (1 + q - b.p_ref), mean = mean, q = q, kind = l.kind }
  end,
  kl = function(self, beta, opts)
    local a = grpo_reference("policy.grpo:kl", opts)
    local b, why = binary_of(a.probs, a.values)
    if not b then error("policy.grpo:kl: needs " .. why, 0) end
    return (grpo_limit(self, beta, b, "policy.grpo:kl")).kl
  end,
  win_rate = function(self, beta, opts)
    local a = grpo_reference("policy.grpo:win_rate", opts)
    local b, why = binary_of(a.probs, a.values)
    if not b then error("policy.grpo:win_rate: needs " .. why, 0) end
    local _, q = grpo_limit(self, beta, b, "policy.grpo:win_rate")
    return 0.5 * (1 + q - b.p_ref)
  end,
  gain = function(self, beta, dist)
    local a = grpo_atoms("policy.grpo:gain", dist)
    local b, why = binary_of(a.probs, a.values)
    if not b then error("policy.grpo:gain: needs " .. why, 0) end
    return (b.hi - b.lo) * (grpo_limit(self, beta, b, "policy.grpo:gain")).gain
  end,
  divergence = function(self, beta, family, opts)
    local a = grpo_reference("policy.grpo:divergence", opts, true)
    local law = grpo_law(self, beta, a.probs, a.values, "policy.grpo:divergence")
    return core.divergence(law, a.probs, family, opts and opts.alpha ~= nil and { alpha = opts.alpha } or nil)
  end,
  sample = function(self, beta, dist, k, rng)
    local a = grpo_atoms("policy.grpo:sample", dist)
    local law = grpo_law(self, beta, a.probs, a.values, "policy.grpo:sample")
    -- the law on the atoms, drawn by the core's finite-law sampler
    local d = core.tail.discrete { values = a.values, probs = law }
    return d:sample(k, rng)
  end,
}

local function grpo_evaluate(self, ctx, beta)
  local law, l, q, b = grpo_law(self, beta, ctx.atoms.probs:totable(), ctx.atoms.values:totable(), "policy.grpo")
  local row = { kl = l.kl, kl_exact = true, divergences = finite_divergences(ctx, law) }
  if l.kind == "cycle" then row.kl = core.divergence(law, ctx.atoms.probs, "kl") end
  local width = b.hi - b.lo
  local function logit(p) return math.log(p) - math.log(1 - p) end
  if l.kind == "absorbing" or width == 0 then row.lambda = 0
  elseif l.kind == "certainty" then row.lambda = math.huge
  else
    -- the fixed point's own log-odds keep q's digits near 1
    row.lambda = ((l.kind == "fixed_point" and l.logit or logit(q)) - logit(b.p_ref)) / width
  end
  row.proxy_exact = width * l.gain
  row.proxy_bound = ctx.law:gain(row.kl)
  row.renyi_divergence = function(a)
    if a == 1 then return row.kl end
    return core.divergence(law, ctx.atoms.probs, "renyi", { alpha = a })
  end
  local rng = mc_rng(ctx)
  if rng then
    local d = core.tail.discrete { values = ctx.atoms.values, probs = law }
    local m, se = core.estimate.mean(d:sample(ctx.monte_carlo.draws, rng))
    row.proxy_mc, row.proxy_se = m - ctx.law:mean(), se
  end
  return row
end

local function grpo_context(_, ctx)
  if not ctx.atoms then
    return "policy grpo needs a binary reference law (ab.tail.bernoulli, or a discrete or empirical law on "
      .. "two values), got " .. (ctx.joint and tostring(ctx.joint) or tostring(ctx.law))
  end
  local b, why = binary_of(ctx.atoms.probs:totable(), ctx.atoms.values:totable())
  if not b then return "policy grpo needs " .. why .. ", got " .. tostring(ctx.law) end
end

function policy.grpo(opts)
  local fname = "policy.grpo"
  if type(opts) ~= "table" then argerror(fname, "table expected, got " .. type(opts)) end
  for k in pairs(opts) do
    if k ~= "beta" and k ~= "eps" and k ~= "variant" and k ~= "alpha" then
      argerror(fname, "unknown option '" .. tostring(k) .. "' (expected beta, eps, variant, alpha)")
    end
  end
  if opts.beta == nil then argerror(fname, "beta is required") end
  local betas = parameters(fname, "beta", opts.beta,
    function(b) if not (b > 0 and b < math.huge) then return "a finite number > 0" end end)
  -- the other options are checked once here by the core, on a valid p_ref
  local ok, err = pcall(core.grpo.limit, 0.5, { beta = betas[1], eps = opts.eps, variant = opts.variant,
    alpha = opts.alpha })
  if not ok then
    argerror(fname, (tostring(err):gsub("^bad argument #%d+ to '[^']*' %((.*)%)$", "%1")))
  end
  return setmetatable({ name = "grpo", param = "beta", field = "beta", values = betas,
    scalar = type(opts.beta) == "number", methods = grpo_methods, evaluate = grpo_evaluate,
    check_context = grpo_context, opts = { eps = opts.eps, variant = opts.variant, alpha = opts.alpha } },
    Family)
end

return policy
