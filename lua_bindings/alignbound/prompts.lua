--- Logged runs per prompt (DESIGN 3.7): the Lua half of `ab.prompts`
-- (the constructor's shard option, `pr:check_run`, `pr:rows`, `pr:summary`,
-- `pr:partial`); the C half is lua_bindings/prompts.c.
-- @module alignbound.prompts
local core = require "alignbound.core"

local M = {}

local P = core._prompts
-- the shard of each object ({index=, count=}), for the methods that need
-- every prompt at once
local SHARD = setmetatable({}, { __mode = "k" })
-- the run's name of an object built from its shard's own rows (run=)
local RUN = setmetatable({}, { __mode = "k" })

local function argerror(fname, argn, msg)
  -- no position (level 0), as the C functions' argument errors
  error(string.format("bad argument #%d to '%s' (%s)", argn, fname, msg), 0)
end

-- The object checked as self of the method fname, the error (if any) at
-- the caller's position, not inside this file.
local function check_self(pr, fname)
  local ok, err = pcall(P.self, pr, fname)
  if not ok then error(err, 3) end
end

local ROW_FIELDS = { beta = true, kl = true, n = true, check = true, check_beta = true }

-- The options of rows/summary/partial, checked.
local function row_options(pr, fname, opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then argerror(fname, 1, "options must be a table, got " .. type(opts)) end
  for k in pairs(opts) do
    if not ROW_FIELDS[k] then argerror(fname, 1, "unknown option '" .. tostring(k) .. "'") end
  end
  if opts.beta ~= nil and opts.kl ~= nil then argerror(fname, 1, "give at most one of beta and kl") end
  for _, k in ipairs { "beta", "kl", "n", "check_beta" } do
    if opts[k] ~= nil and type(opts[k]) ~= "number" then
      argerror(fname, 1, k .. " must be a number, got " .. type(opts[k]))
    end
  end
  if opts.check ~= nil and type(opts.check) ~= "boolean" then
    argerror(fname, 1, "check must be a boolean, got " .. type(opts.check))
  end
  -- the ranges of the methods they go to, checked here to name fname
  local function range(k, ok, what)
    if opts[k] ~= nil and not ok(opts[k]) then argerror(fname, 1, k .. " must be " .. what .. ", got " .. opts[k]) end
  end
  range("beta", function(v) return v > 0 end, "a positive number")
  range("kl", function(v) return v >= 0 end, "a number >= 0")
  range("n", function(v) return v >= 1 and v < math.huge end, "a finite number >= 1")
  range("check_beta", function(v) return v > 0 and v < math.huge end, "a finite positive number")
  if opts.check_beta ~= nil and not opts.check then argerror(fname, 1, "check_beta goes with check=true") end
  if opts.kl ~= nil and SHARD[pr] and SHARD[pr].count > 1 then
    argerror(fname, 1, "a KL budget needs every prompt at once (one common tilt): give the tilt as beta= "
      .. "in a sharded run")
  end
  return opts
end

-- The tilt identity's per-prompt gap gain - beta (KL + reverse KL).
local function gaps(rw, beta)
  local n = #rw.gain
  local gap, jeff = core.vector(n), core.vector(n)
  local kl, rkl, gain = rw.kl, rw.reverse_kl, rw.gain
  for q = 1, n do
    jeff[q] = kl[q] + rkl[q]
    gap[q] = gain[q] - beta * jeff[q]
  end
  return gap, jeff
end

local function rows(pr, opts)
  local ids = pr:ids()
  if #ids == 0 then return {}, { "prompt" } end -- a shard with no prompts
  local resp = pr:responses()
  local s2 = pr:variance_proxy()
  local cols = { { "responses", resp }, { "variance_proxy", s2 } }
  if opts.beta or opts.kl then
    local t = pr:gain(opts.beta and { beta = opts.beta } or opts.kl)
    cols[#cols + 1] = { "tilt_kl", t.prompt.kl }
    cols[#cols + 1] = { "tilt_gain", t.prompt.gain }
    cols[#cols + 1] = { "tilt_gold_gain", t.prompt.gold_gain }
  end
  if opts.n then
    local b = pr:best_of_n(opts.n)
    cols[#cols + 1] = { "bon_kl", b.prompt.kl }
    cols[#cols + 1] = { "bon_gain", b.prompt.gain }
    cols[#cols + 1] = { "bon_gold_gain", b.prompt.gold_gain }
    cols[#cols + 1] = { "bon_win_rate", b.prompt.win_rate }
  end
  if opts.check then
    local rw = P.reweight(pr)
    cols[#cols + 1] = { "check_kl", rw.kl }
    cols[#cols + 1] = { "check_reverse_kl", rw.reverse_kl }
    cols[#cols + 1] = { "check_gain", rw.gain }
    cols[#cols + 1] = { "check_frontier", rw.frontier }
    if opts.check_beta then cols[#cols + 1] = { "check_gap", (gaps(rw, opts.check_beta)) } end
  end
  local out, header = {}, { "prompt" }
  for _, c in ipairs(cols) do
    if c[2] then header[#header + 1] = c[1] end
  end
  for q = 1, #ids do
    local r = { prompt = ids[q] }
    for _, c in ipairs(cols) do
      if c[2] then r[c[1]] = c[1] == "responses" and math.tointeger(c[2][q]) or c[2][q] end
    end
    out[q] = r
  end
  return out, header
end

-- The aggregates of per-prompt rows: each numeric field's mean over the
-- prompts, in prompt order (the reduction the merge of shards repeats).
local function summarize(list)
  local fields, seen = {}, {}
  for _, r in ipairs(list) do
    for k, v in pairs(r) do
      if type(v) == "number" and not seen[k] and k ~= "prompt" then
        seen[k] = true
        fields[#fields + 1] = k
      end
    end
  end
  table.sort(fields)
  local out = { prompts = #list }
  for _, k in ipairs(fields) do
    local v = core.vector(#list)
    for q, r in ipairs(list) do v[q] = r[k] end
    out[k] = P.mean(v)
  end
  return out
end

-- The options as a canonical string, for the fingerprint of a partial.
local function option_key(opts)
  local keys = {}
  for k in pairs(opts) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = opts[k]
    parts[#parts + 1] = k .. "=" .. (type(v) == "number" and string.format("%a", v) or tostring(v))
  end
  return table.concat(parts, ",")
end

function M.bind(shard)
  shard.reducers.prompts = summarize
  shard.reducers.mean = summarize
  local mt = debug.getregistry()["alignbound.prompts"]
  local methods = mt.__index

  --- One row per prompt: `prompt` (its id), `responses`, `variance_proxy`,
  -- with `beta=` or `kl=` the common tilt (`tilt_kl`, `tilt_gain`,
  -- `tilt_gold_gain`), with `n=` best-of-n (`bon_kl`, `bon_gain`,
  -- `bon_gold_gain`, `bon_win_rate`), with `check=true` the reweighted
  -- policy of the logged log-probabilities (`check_kl`, `check_reverse_kl`,
  -- `check_gain`, `check_frontier`, and with `check_beta=` the tilt
  -- identity's `check_gap`).  Returns the rows and the field names in
  -- order (for `ab.write_csv(path, rows, header)`).
  -- @function prompts:rows
  function methods.rows(pr, opts)
    check_self(pr, "prompts:rows")
    return rows(pr, row_options(pr, "prompts:rows", opts))
  end

  --- The aggregates of `pr:rows(opts)`: each numeric field's mean over
  -- prompts (summed in prompt order: a merge of shards gives the same bits).
  -- @function prompts:summary
  function methods.summary(pr, opts)
    check_self(pr, "prompts:summary")
    return summarize(rows(pr, row_options(pr, "prompts:summary", opts)))
  end

  --- This shard's partial result for `ab.shard.save` / `ab.shard.merge`:
  -- its rows, the shard, and a fingerprint of the run's inputs and options.
  -- @function prompts:partial
  function methods.partial(pr, opts)
    check_self(pr, "prompts:partial")
    opts = row_options(pr, "prompts:partial", opts)
    local id = RUN[pr] and ("run " .. RUN[pr]) or pr:fingerprint()
    return { kind = "prompts", fingerprint = id .. ":" .. option_key(opts),
      shard = SHARD[pr] or { index = 1, count = 1 }, rows = rows(pr, opts), options = opts }
  end

  --- Hold a logged per-prompt run against the limit.  The rows are
  -- responses of the reference policy; the policy is their reweighting
  -- pi_x(j) proportional to e^{logp_policy - logp_ref} on each prompt's
  -- responses (at least two per prompt).  Overall (means over prompts with
  -- standard errors over prompts): `kl`, `kl_se`, `gain`, `gain_se`,
  -- `frontier` (pr:gain(kl), the common tilt at that prompt-averaged KL)
  -- and `frontier_se`, `bound` (pr:bound(kl)), `variance_proxy` (E_x
  -- s2(x)), `fraction` (gain / frontier, nil when the frontier is 0) and
  -- `fraction_se`.  The standard errors are the delta method over prompts
  -- (deterministic, no resampling): the frontier's influence of prompt x is
  -- g_x(l) - (KL_x(l) - kl_x) / l, l the common tilt; with `beta=` the tilt
  -- identity `tilt = {beta=, gain=, beta_jeffreys=, gap=, gap_se=}`:
  -- gain = beta (KL(pi||ref) + KL(ref||pi)) at the KL-regularised optimum
  -- (DESIGN 3.6).  `prompt`: per-prompt vectors kl, reverse_kl, gain,
  -- frontier (each prompt's own frontier at its own KL) and gap.
  -- @function prompts:check_run
  function methods.check_run(pr, opts)
    check_self(pr, "prompts:check_run")
    if opts == nil then opts = {} end
    if type(opts) ~= "table" then argerror("prompts:check_run", 1, "options must be a table, got " .. type(opts)) end
    for k in pairs(opts) do
      if k ~= "beta" then argerror("prompts:check_run", 1, "unknown option '" .. tostring(k) .. "'") end
    end
    local beta = opts.beta
    if beta ~= nil and not (type(beta) == "number" and beta > 0 and beta < math.huge) then
      argerror("prompts:check_run", 1, "beta must be a positive number, got " .. tostring(beta))
    end
    local rw = P.reweight(pr)
    for _, k in ipairs { "kl", "reverse_kl", "gain" } do
      local v = rw[k]
      for q = 1, #v do
        if not (v[q] > -math.huge and v[q] < math.huge) then
          error(("prompts:check_run: values out of range: prompt %d's reweighted %s overflows a double")
            :format(q, k), 0)
        end
      end
    end
    local kl, gain = P.mean(rw.kl), P.mean(rw.gain)
    local _, kl_se = core.estimate.mean(rw.kl)
    local _, gain_se = core.estimate.mean(rw.gain)
    local t = pr:gain(kl)
    local frontier = t.gain
    local bound, s2 = pr:bound(kl)
    local r = { kl = kl, kl_se = kl_se, gain = gain, gain_se = gain_se, frontier = frontier, bound = bound,
      variance_proxy = s2, fraction = frontier > 0 and gain / frontier or nil, prompt = rw }
    -- the delta method over prompts: the frontier at the run's KL moves with
    -- the common tilt's gains and with that KL; its influence is
    -- g_x - (KL_x(l) - kl_x) / l (the envelope slope is 1/l); the fraction's
    -- is (gain_x - fraction phi_x) / frontier
    local l = t.lambda
    local inv = (l > 0 and l < math.huge) and 1 / l or 0
    local tk, tg = t.prompt.kl, t.prompt.gain
    r.frontier_se = P.se({ tg, tk, rw.kl }, { 1, -inv, inv })
    if r.fraction then
      local f = r.fraction
      r.fraction_se = P.se({ rw.gain, tg, tk, rw.kl }, { 1 / frontier, -f / frontier, f * inv / frontier,
        -f * inv / frontier })
    end
    if beta then
      local gap, jeff = gaps(rw, beta)
      for q = 1, #gap do
        if not (gap[q] > -math.huge and gap[q] < math.huge) then
          error(("prompts:check_run: values out of range: prompt %d's gap gain - beta (KL + reverse KL) "
            .. "overflows a double (beta = %g)"):format(q, beta), 0)
        end
      end
      local g, g_se = core.estimate.mean(gap)
      rw.gap = gap
      r.tilt = { beta = beta, gain = gain, beta_jeffreys = beta * P.mean(jeff), gap = g, gap_se = g_se }
    end
    return r
  end

  --- Group a logged run by prompt: `ab.prompts{ids=, reward=, [gold=,
  -- logp_policy=, logp_ref=, shard="i/k", run=]}`.  ids: a table of strings
  -- or numbers, or a vector; the columns: tables or vectors of the same
  -- length.  With shard=, the object holds only shard i of k (a contiguous
  -- slice of the prompts in order of first appearance); with shard= and
  -- run= (a name every shard of the run shares), the rows given are shard
  -- i's own (a log split into k files by prompt beforehand), kept whole.
  -- @function prompts
  return function(opts)
    if type(opts) == "table" and (opts.shard ~= nil or opts.run ~= nil) then
      if opts.run ~= nil and type(opts.run) ~= "string" then
        argerror("prompts", 1, "run must be a string naming the run, got " .. type(opts.run))
      end
      if opts.shard == nil then argerror("prompts", 1, "run= goes with shard=: the name of a run split by prompt") end
      local s = shard.internal.parse(opts.shard, "prompts", 1)
      local copy = {}
      for k, v in pairs(opts) do copy[k] = v end
      copy.run = nil
      copy.shard = opts.run == nil and s or nil -- run=: these rows are the shard
      local ok, pr = pcall(P.new, copy)
      if not ok then error(pr, 2) end
      SHARD[pr] = s
      RUN[pr] = opts.run
      return pr
    end
    local ok, pr = pcall(P.new, opts)
    if not ok then error(pr, 2) end
    return pr
  end
end

return M
