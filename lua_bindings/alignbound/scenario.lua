--- Scenarios: a reference (or a joint model of proxy and golden rewards), a
-- policy family and divergence families, composed into rows.
--
-- Every number in a row comes from a core call (closed forms, exact laws,
-- the core's samplers); nothing here loops over samples.
-- @module alignbound.scenario

local core = require "alignbound.core"
local policy = require "alignbound.policy"
local io_ = require "alignbound.io"
local plot = require "alignbound.plot"

local M = {}

local FIELDS = { reference = true, joint = true, golden = true, error = true, aligned = true,
  policy = true, divergences = true, monte_carlo = true, name = true }
local FAMILIES = { kl = true, reverse_kl = true, chi2 = true, hellinger = true, tv = true, js = true,
  alpha = true, renyi = true }

--- The atoms of finite laws made by ab.tail.discrete / empirical / bernoulli
-- (weak keys: a dropped tail drops its atoms), so that a scenario on such a
-- reference uses the exact law with ties.
M.atoms = setmetatable({}, { __mode = "k" })

--- The parts of ab.joint.additive (`{gold=, error=}`) and ab.joint.samples
-- (`{proxy=, gold=}` as vectors), weakly, so that the selection rules other
-- than best-of-n and the tilts run on them (on the logged pairs exactly, on
-- Monte Carlo draws of the additive model).
M.joint_parts = setmetatable({}, { __mode = "k" })
do
  local J = core.joint
  local additive, samples = J.additive, J.samples
  function J.additive(opts)
    local ok, j = pcall(additive, opts)
    if not ok then error(j, 2) end
    M.joint_parts[j] = { kind = "additive", gold = opts.gold, error = opts.error }
    return j
  end
  function J.samples(opts)
    local ok, j = pcall(samples, opts)
    if not ok then error(j, 2) end
    M.joint_parts[j] = { kind = "samples", proxy = core.vector(opts.proxy), gold = core.vector(opts.gold) }
    return j
  end
end

local function argerror(msg)
  error("bad argument #1 to 'scenario' (" .. msg .. ")", 0)
end

local function is_tail(x)
  local mt = type(x) == "userdata" and getmetatable(x)
  return mt and mt.__name == "alignbound.tail" or false
end

-- x has a method `name` (a table, or a userdata whose __index gives one)
local function has_method(x, name)
  if type(x) ~= "table" and type(x) ~= "userdata" then return false end
  local ok, f = pcall(function() return x[name] end)
  return ok and type(f) == "function"
end

local function fmt_alpha(a)
  if a == math.huge then return "inf" end
  return string.format("%.6g", a)
end

-- {"kl", "chi2", {"renyi", alpha=0.5 [, name=]}} -> {{family=, alpha=, label=}}
local function parse_divergences(list)
  if list == nil then return {} end
  if type(list) ~= "table" then argerror("divergences must be an array, got " .. type(list)) end
  local out, seen = {}, {}
  for i, d in ipairs(list) do
    local fam, alpha, label
    if type(d) == "string" then
      fam = d
    elseif type(d) == "table" then
      for k in pairs(d) do
        if k ~= 1 and k ~= "alpha" and k ~= "name" then
          argerror(string.format("divergences[%d]: unknown option '%s' (expected alpha, name)", i, tostring(k)))
        end
      end
      fam, alpha, label = d[1], d.alpha, d.name
    else
      argerror(string.format("divergences[%d] must be a family name or {name, alpha=}, got %s", i, type(d)))
    end
    if not FAMILIES[fam] then
      argerror(string.format("divergences[%d]: unknown family '%s'", i, tostring(fam)))
    end
    if fam == "renyi" or fam == "alpha" then
      if type(alpha) ~= "number" or alpha ~= alpha or (fam == "renyi" and alpha <= 0) then
        argerror(string.format("divergences[%d]: %s needs alpha= (%s), got %s", i, fam,
          fam == "renyi" and "in (0, inf]" or "a real number", tostring(alpha)))
      end
      label = label or string.format("%s(%s)", fam, fmt_alpha(alpha))
    elseif alpha ~= nil then
      argerror(string.format("divergences[%d]: %s takes no alpha", i, fam))
    end
    label = label or fam
    if not seen[label] then
      seen[label] = true
      out[#out + 1] = { family = fam, alpha = alpha, label = label }
    end
  end
  return out
end

local Scenario = {}
Scenario.__index = Scenario

local function finite_name(t)
  local s = tostring(t)
  return s:match("^discrete%(") or s:match("^empirical%(") or s:match("^bernoulli%(")
end

-- Make a scenario: check every part, build the context the family runs on.
local function new(ab, opts)
  if type(opts) ~= "table" then argerror("table expected, got " .. type(opts)) end
  for k in pairs(opts) do
    if not FIELDS[k] then
      argerror("unknown field '" .. tostring(k) .. "' (expected reference, joint, golden, error, aligned, "
        .. "policy, divergences, monte_carlo, name)")
    end
  end
  if opts.reference ~= nil and opts.joint ~= nil then argerror("give reference= or joint=, not both") end
  if opts.reference == nil and opts.joint == nil then argerror("give reference= or joint= (the proxy reward)") end
  if opts.policy == nil then argerror("policy= is missing (e.g. ab.policy.best_of_n{n={1, 4, 16}})") end
  if not policy.is_family(opts.policy) then
    argerror("policy= must be a policy family (ab.policy.best_of_n{...}, ...), got " .. type(opts.policy))
  end
  local s = setmetatable({ policy = opts.policy, name = opts.name, reference = opts.reference,
    joint = opts.joint, golden = opts.golden, error = opts.error, aligned = opts.aligned }, Scenario)
  if opts.name ~= nil and type(opts.name) ~= "string" then argerror("name= must be a string") end

  local ctx = { needs = parse_divergences(opts.divergences) }
  s.requested = {}
  for i, d in ipairs(ctx.needs) do s.requested[i] = d.label end

  if opts.monte_carlo ~= nil then
    local mc = opts.monte_carlo
    if type(mc) ~= "table" then argerror("monte_carlo= must be a table {draws=, seed=}, got " .. type(mc)) end
    for k in pairs(mc) do
      if k ~= "draws" and k ~= "seed" then
        argerror("monte_carlo: unknown field '" .. tostring(k) .. "' (expected draws, seed)")
      end
    end
    if math.type(mc.draws) ~= "integer" or mc.draws < 2 then
      argerror("monte_carlo.draws must be an integer >= 2, got " .. tostring(mc.draws))
    end
    if mc.seed ~= nil and math.type(mc.seed) ~= "integer" then
      argerror("monte_carlo.seed must be an integer, got " .. tostring(mc.seed))
    end
    ctx.monte_carlo = { draws = mc.draws, seed = mc.seed or 0 }
  end

  if opts.reference ~= nil then
    local ref = opts.reference
    if is_tail(ref) then
      ctx.law = ref
      ctx.atoms = M.atoms[ref]
    elseif type(ref) == "table" and ref.values ~= nil and ref.probs ~= nil then
      for k in pairs(ref) do
        if k ~= "values" and k ~= "probs" then argerror("reference: unknown field '" .. tostring(k) .. "'") end
      end
      local ok, law = pcall(ab.tail.discrete, { values = ref.values, probs = ref.probs })
      if not ok then argerror("reference: " .. tostring(law):gsub("^bad argument #1 to 'discrete' %((.*)%)$", "%1")) end
      ctx.law = law
      ctx.atoms = M.atoms[ctx.law]
    else
      argerror("reference= must be a tail (ab.tail.*) or a finite law {values=, probs=}, got " .. type(ref))
    end
  else
    local j = opts.joint
    for _, m in ipairs { "bon", "tilt", "proxy_law" } do
      if not has_method(j, m) then argerror("joint= must be a joint model (ab.joint.*), it lacks :" .. m .. "()") end
    end
    ctx.joint = j
    ctx.law = j:proxy_law(ctx.monte_carlo)
  end
  ctx.exact = ctx.law:mean() ~= nil
  ctx.finite = ctx.atoms ~= nil or finite_name(ctx.law) ~= nil
  if ctx.monte_carlo and not ctx.exact and not ctx.joint then
    argerror("monte_carlo= needs an exact or finite reference law to sample, got " .. tostring(ctx.law))
  end

  if opts.golden ~= nil and not is_tail(opts.golden) then
    argerror("golden= must be a tail of the golden reward under the reference (ab.tail.*), got " .. type(opts.golden))
  end
  if opts.error ~= nil then
    if not has_method(opts.error, "golden") then
      argerror("error= must be an error model (ab.error.*), got " .. type(opts.error))
    end
    -- the divergences the error model may use, computed when the rule can
    local have = {}
    for _, d in ipairs(ctx.needs) do have[d.label] = true end
    for _, u in ipairs(opts.error.uses or {}) do
      if u ~= "kl" and FAMILIES[u] and not have[u] then
        ctx.needs[#ctx.needs + 1] = { family = u, label = u, optional = true }
      end
    end
  end
  if opts.aligned ~= nil then
    if not (ab.renyi and ab.renyi.gain) then argerror("aligned= needs ab.renyi.gain, not in this build") end
    local a = opts.aligned
    if not (is_tail(a) or type(a) == "function" or (type(a) == "table" and a.variance)) then
      argerror("aligned= must be a tail, {variance=} or a function of the parameter returning one "
        .. "(the aligned policy's left tail)")
    end
  end
  if s.policy.check_context then
    local why = s.policy:check_context(ctx)
    if why then argerror(why) end
  end
  s.ctx, s.ab = ctx, ab
  return s
end

local function pick(...)
  local n = select("#", ...)
  for i = 1, n, 2 do
    local v = select(i, ...)
    if v ~= nil then return v, select(i + 1, ...) end
  end
end

-- Is stderr a terminal?  (a progress line only then)
local function stderr_is_tty()
  return core._isatty ~= nil and core._isatty(2)
end

--- Run the scenario: one row per parameter of the policy family.
--
-- Row fields (nil when they do not apply):
--
-- - `policy`: the family's name; `[param]` (`n`, `budget` or `beta`): the parameter
-- - `kl`: KL(pi || ref), nats; exact with ties when the reference is a finite
--   law with known atoms; `kl_exact`: false when kl is the continuous-reward
--   formula on a law that may have ties (then an upper bound); `kl_se`: its
--   standard error when it is a Monte Carlo estimate
-- - `lambda`: the tilting parameter (tilts), 1/beta
-- - one field per requested divergence, by its label ("chi2", "renyi(0.5)")
-- - `proxy_exact`: the exact proxy gain; `proxy_bound`, `proxy_certificate`: the
--   certified bound and how it was obtained; `proxy_mc`, `proxy_se`: the Monte
--   Carlo estimate and its standard error
-- - `proxy_gain`: the best of those (exact, else Monte Carlo, else bound), and
--   `proxy_kind` ("exact", "mc" or "bound")
-- - `gold_exact`, `gold_mc`, `gold_se`: the golden gain of a joint model;
--   `gold_gain`, `gold_kind` likewise
-- - `gold_lo`, `gold_hi`, `gold_route`: with error=, the interval on the golden
--   gain from e:golden(proxy_gain, divergences) and the route it used
-- - `gold_bound`: with golden=, golden:gain(kl) (the golden gain of any policy
--   at that KL is at most this)
-- - `renyi_bound`, `renyi_alpha`: with aligned= (a tail or {variance=} for
--   the aligned policy's left tail, or a function of the parameter returning
--   one), the Renyi refinement (ab.renyi.gain) and the order that attains it
-- @function scenario:run
-- @treturn table an array of rows
function Scenario:run(opts)
  local ctx, fam = self.ctx, self.policy
  local lo, hi = 1, #fam.values
  if opts ~= nil then
    local function bad(msg) error("bad argument #1 to 'scenario:run' (" .. msg .. ")", 0) end
    if type(opts) ~= "table" then bad("options must be a table {shard=}, got " .. type(opts)) end
    for k in pairs(opts) do
      if k ~= "shard" then bad("unknown option '" .. tostring(k) .. "' (expected shard)") end
    end
    if opts.shard ~= nil then lo, hi = self.ab.shard.slice(#fam.values, opts.shard) end
  end
  local show = (ctx.monte_carlo ~= nil or ctx.joint ~= nil) and stderr_is_tty()
  local rows = {}
  for i = lo, hi do
    local v = fam.values[i]
    -- each row its own stream of the seed: a row's draws do not depend on
    -- the rows run before it, so shards of the grid merge into the full run
    if ctx.monte_carlo then ctx.rng = core.rng(ctx.monte_carlo.seed, i) end
    if show then io.stderr:write(string.format("\rscenario %s: %s = %.6g (%d/%d)  ", fam.name, fam.param, v,
      i, #fam.values)) end
    local r = fam:evaluate(ctx, v)
    local row = { policy = fam.name, [fam.param] = v, kl = r.kl, kl_se = r.kl_se, kl_exact = r.kl_exact,
      lambda = r.lambda, proxy_exact = r.proxy_exact, proxy_bound = r.proxy_bound,
      proxy_certificate = r.proxy_certificate, proxy_mc = r.proxy_mc, proxy_se = r.proxy_se,
      gold_exact = r.gold_exact, gold_mc = r.gold_mc, gold_se = r.gold_se }
    local divs = r.divergences or {}
    for _, label in ipairs(self.requested) do
      if label == "kl" then divs[label] = r.kl end
      row[label] = divs[label]
    end
    row.proxy_gain, row.proxy_kind = pick(r.proxy_exact, "exact", r.proxy_mc, "mc", r.proxy_bound, "bound")
    row.gold_gain, row.gold_kind = pick(r.gold_exact, "exact", r.gold_mc, "mc")
    if self.error and row.proxy_gain then
      local div = { kl = row.kl, chi2 = divs.chi2, tv = divs.tv }
      row.gold_lo, row.gold_hi, row.gold_route = self.error:golden(row.proxy_gain, div)
    end
    if self.golden and row.kl then row.gold_bound = self.golden:gain(row.kl) end
    if self.aligned and r.renyi_divergence then
      local aligned = self.aligned
      if type(aligned) == "function" then aligned = aligned(v) end
      row.renyi_bound, row.renyi_alpha = self.ab.renyi.gain { reference = ctx.law, aligned = aligned,
        divergence = r.renyi_divergence }
    end
    rows[#rows + 1] = row
  end
  if show then io.stderr:write("\r" .. string.rep(" ", 60) .. "\r") end
  if lo == 1 and hi == #fam.values then self.rows = rows end
  return rows
end

--- Shard i of k of the grid's rows as a partial result for ab.shard.save /
-- ab.shard.merge (merged: the rows of s:run(), the same bits).
-- @function scenario:partial
-- @tparam string shard "i/k"
function Scenario:partial(shard)
  local s = self.ab.shard.internal.parse(shard, "scenario:partial", 1)
  local values = {}
  for i, v in ipairs(self.policy.values) do values[i] = string.format("%a", v) end
  local mc = self.ctx.monte_carlo
  local fp = self:describe() .. "|" .. table.concat(values, ",") .. "|"
    .. (mc and (mc.draws .. "," .. mc.seed) or "exact")
  return { kind = "scenario", fingerprint = fp, shard = s, rows = self:run { shard = s } }
end

local function rows_of(s)
  return s.rows or s:run()
end

-- The columns shown and written, in order, that some row has.
function Scenario:columns()
  local rows = rows_of(self)
  local order = { self.policy.param, "kl", "kl_se", "lambda" }
  for _, l in ipairs(self.requested) do if l ~= "kl" then order[#order + 1] = l end end
  for _, c in ipairs { "proxy_gain", "proxy_kind", "proxy_exact", "proxy_mc", "proxy_se", "proxy_bound",
    "proxy_certificate", "gold_gain", "gold_kind", "gold_exact", "gold_mc", "gold_se", "gold_lo", "gold_hi",
    "gold_route", "gold_bound", "renyi_bound", "renyi_alpha", "kl_exact", "policy" } do
    order[#order + 1] = c
  end
  local out, seen = {}, {}
  for _, c in ipairs(order) do
    if not seen[c] then
      seen[c] = true
      for _, r in ipairs(rows) do
        if r[c] ~= nil then out[#out + 1] = c; break end
      end
    end
  end
  return out
end

function Scenario:describe()
  local what = self.reference and ("reference " .. tostring(self.ctx.law)) or ("joint " .. tostring(self.joint))
  local parts = { (self.name and self.name .. ": " or "") .. tostring(self.policy) .. " on " .. what }
  if self.error then parts[#parts + 1] = "error " .. tostring(self.error) end
  if self.golden then parts[#parts + 1] = "golden " .. tostring(self.golden) end
  local a = self.aligned
  if type(a) == "function" then
    parts[#parts + 1] = "aligned tail: a function of " .. self.policy.param
  elseif type(a) == "table" then
    parts[#parts + 1] = string.format("aligned {variance=%.6g}", a.variance)
  elseif a then
    parts[#parts + 1] = "aligned " .. tostring(a)
  end
  if self.ctx.monte_carlo then
    parts[#parts + 1] = string.format("monte carlo %d draws, seed %d", self.ctx.monte_carlo.draws,
      self.ctx.monte_carlo.seed)
  end
  return table.concat(parts, "; ")
end

local HIDDEN = { proxy_exact = true, gold_exact = true, kl_exact = true, policy = true, proxy_certificate = true }

-- Every row's `kind` column says "mc" (then the _gain column is the estimate).
local function all_mc(rows, kind)
  for _, r in ipairs(rows) do if r[kind] ~= "mc" then return false end end
  return true
end

function Scenario:__tostring()
  local rows = rows_of(self)
  local cols = {}
  local hide = setmetatable({ proxy_mc = all_mc(rows, "proxy_kind"), gold_mc = all_mc(rows, "gold_kind") },
    { __index = HIDDEN })
  for _, c in ipairs(self:columns()) do if not hide[c] then cols[#cols + 1] = c end end
  local cells, width = { cols }, {}
  for _, r in ipairs(rows) do
    local line = {}
    for j, c in ipairs(cols) do
      local v = r[c]
      if type(v) == "number" then
        v = v == math.huge and "inf" or v == -math.huge and "-inf" or string.format("%.6g", v)
      end
      line[j] = v == nil and "-" or tostring(v)
    end
    cells[#cells + 1] = line
  end
  for _, line in ipairs(cells) do
    for j, c in ipairs(line) do width[j] = math.max(width[j] or 0, #c) end
  end
  local out = { "scenario: " .. self:describe() }
  for i, line in ipairs(cells) do
    local padded = {}
    for j, c in ipairs(line) do padded[j] = string.rep(" ", width[j] - #c) .. c end
    out[#out + 1] = table.concat(padded, "  ")
    if i == 1 then
      local total = #cols * 2 - 2
      for _, w in ipairs(width) do total = total + w end
      out[#out + 1] = string.rep("-", total)
    end
  end
  return table.concat(out, "\n")
end

--- Write the rows to a CSV file (ab.write_csv: written whole or not at all).
-- @function scenario:csv
-- @tparam string path
-- @return path, or nil and a message if the file cannot be written
function Scenario:csv(path)
  return io_.write_csv(path, rows_of(self), self:columns())
end

local function column(rows, name)
  local out = {}
  for i, r in ipairs(rows) do
    local v = r[name]
    out[i] = type(v) == "number" and v or (0 / 0)
  end
  return out
end

--- Plot columns of the rows (ab.plot): y against x, with standard errors as
-- error bars where the rows have them.
-- @function scenario:plot
-- @tparam string path files path.svg and path.png
-- @tparam[opt] table opts `{x=param, y={"proxy_gain", "gold_gain", ...}, title=, logx=, logy=}`;
-- by default every gain column present
-- @return the files, or nil and a message
function Scenario:plot(path, opts)
  opts = opts or {}
  if type(opts) ~= "table" then
    error("bad argument #2 to 'scenario:plot' (table expected, got " .. type(opts) .. ")", 0)
  end
  for k in pairs(opts) do
    if k ~= "x" and k ~= "y" and k ~= "title" and k ~= "logx" and k ~= "logy" then
      error("bad argument #2 to 'scenario:plot' (unknown option '" .. tostring(k)
        .. "' (expected x, y, title, logx, logy))", 0)
    end
  end
  local rows = rows_of(self)
  local have, names = {}, {}
  for _, c in ipairs(self:columns()) do have[c], names[#names + 1] = true, c end
  local function nocolumn(which, c)
    error("bad argument #2 to 'scenario:plot' (" .. which .. ": no column '" .. tostring(c)
      .. "' (the columns are " .. table.concat(names, ", ") .. "))", 0)
  end
  local x = opts.x or self.policy.param
  if not have[x] then nocolumn("x", x) end
  local ys = opts.y or {}
  if type(ys) == "string" then ys = { ys } end
  if #ys == 0 then
    for _, c in ipairs { "proxy_gain", "proxy_bound", "gold_gain", "gold_lo", "gold_hi", "gold_bound",
      "renyi_bound" } do
      if have[c] and not (c == "proxy_bound" and have.proxy_exact) then ys[#ys + 1] = c end
    end
  end
  local series = {}
  for _, y in ipairs(ys) do
    if not have[y] then nocolumn("y", y) end
    local se = (y == "proxy_mc" or (y == "proxy_gain" and all_mc(rows, "proxy_kind"))) and "proxy_se"
      or (y == "gold_mc" or (y == "gold_gain" and all_mc(rows, "gold_kind"))) and "gold_se" or nil
    if se and not have[se] then se = nil end
    local s = { x = column(rows, x), y = column(rows, y), title = y:gsub("_", " ") }
    if se then s.err = column(rows, se); s.style = "errorbars" end
    series[#series + 1] = s
  end
  return plot.plot { path = path, series = series, title = opts.title or self:describe(),
    xlabel = x, ylabel = "gain", logx = opts.logx == nil and x == "n" or opts.logx, logy = opts.logy }
end

--- Where the golden gain peaks over the family's parameter: the row with the
-- largest gold_gain (or, without a joint model, the largest gold_lo, the
-- golden gain guaranteed by the error model).
-- @function scenario:peak
-- @treturn table `{param=, value=, index=, kl=, gold=, column=, interior=}`
-- (interior false: the largest golden gain is at an end of the grid, not a peak)
function Scenario:peak()
  local rows = rows_of(self)
  local col = rows[1].gold_gain ~= nil and "gold_gain" or rows[1].gold_lo ~= nil and "gold_lo" or nil
  if not col then
    error("bad argument #1 to 'scenario:peak' (no golden gain: give joint= or error=)", 0)
  end
  local best
  for i, r in ipairs(rows) do
    if r[col] == r[col] and (best == nil or r[col] > rows[best][col]) then best = i end
  end
  if not best then error("bad argument #1 to 'scenario:peak' (every " .. col .. " is nan)", 0) end
  local r = rows[best]
  return { param = self.policy.param, value = r[self.policy.param], index = best, kl = r.kl,
    gold = r[col], column = col, interior = best > 1 and best < #rows }
end

--- Make a scenario.  Its parts (an unknown field, a missing or conflicting
-- part is an error naming 'scenario' and the field):
--
-- - `reference=`: the (proxy) reward's law under the reference policy: a tail
--   (an assumption class gives bounds; an exact or finite law exact gains),
--   or a finite law `{values=, probs=}`; or else
-- - `joint=`: a joint model of proxy and golden reward (ab.joint.*), whose
--   `bon` / `tilt` give both gains and whose `proxy_law` plays the reference
-- - `policy=`: a policy family (ab.policy.*), required
-- - `divergences=`: families to report, `{"chi2", {"renyi", alpha=0.5 [, name=]}}`
-- - `error=`: an error model of e = proxy - gold (ab.error.*): the golden interval
-- - `golden=`: a tail of the golden reward under the reference: `gold_bound`
-- - `aligned=`: the aligned policy's left tail (a tail, `{variance=}`, or a
--   function of the parameter returning one): the Renyi refinement
-- - `monte_carlo={draws=, seed=0}`: Monte Carlo estimates (through the core's
--   samplers) next to the exact values, and the draws of an additive joint model
-- - `name=`: a title for the table and the figure
-- @function scenario
-- @tparam table opts
function M.bind(ab)
  return function(opts) return new(ab, opts) end
end

return M
