-- fuzz/pool.lua: the random-argument fuzzer over every public Lua function
-- and method of alignbound, shared by spec/fuzz_spec.lua (choices from a
-- seeded math.random) and the libFuzzer target fuzz/fuzz_lua.c (choices
-- from the fuzz input).
--
--   local fuzz = dofile "fuzz/pool.lua"
--   local f = fuzz.new(ab, draw, { csv = path })  -- draw(k): integer in 1..k
--   local problem = f.step()    -- one call: nil, or a string describing what
--                               -- is wrong (with a reproducer)
--
-- A call passes if it returns values without NaN (tables and vectors are
-- walked) or raises an error whose message is a string that names a public
-- function: "bad argument #k to 'name' (...)", "calling 'name' on bad self",
-- or "name: ..." (never a stock "attempt to ..." message, a file:line of
-- init.lua, or the name '?').  The functions are enumerated from the `ab`
-- table and from the metatables of the userdata types (metamethods too).
local fuzz = {}

local MARK = "fuzz-callback" -- in every error a pool callback raises

local function has(labels, pat)
  for _, l in ipairs(labels) do
    if l:find(pat) then return true end
  end
  return false
end
fuzz.has = has

-- does a call get a table or vector argument with no elements (#x == 0)?
function fuzz.empty_arg(args)
  for i = 1, args.n or #args do
    local a = args[i]
    if type(a) == "table" or type(a) == "userdata" then
      local ok, n = pcall(function() return #a end)
      if ok and n == 0 then return true end
    end
  end
  return false
end


-- Calls known to fail on this branch, fixed on other branches.  Each entry is
-- one line: a reason, and a predicate on (name, labels, outcome, args); `outcome`
-- is nil before the call (for calls that crash the process and must not be
-- made at all) and {kind = "nan" | "message", text = ...} after.
-- The lead empties this list after merging the fixes (FUZZ_NO_KNOWN=1 in the
-- environment ignores it, to check).
-- a beta tail in the labels whose (a, b) satisfy pred
local function beta_law(labels, pred)
  for _, x in ipairs(labels) do
    local a, b = x:match("^beta%(a=([^,]+), b=([^)]+)%)")
    if a and pred(tonumber(a), tonumber(b)) then return true end
  end
  return false
end

fuzz.KNOWN = {
  -- open: Beta laws with a or b above ~1e3 are slow in best-of-n gains, comparisons and sampling
  -- (GSL's beta CDF: bon.gain(beta{a=1e4, b=1e4}, 100) 1.7 s; a = b = 9.4e81 does not return in 24 s)
  { "slow large beta", function(n, l)
    return (n:find("^bon%.") or n:find("^mc%.") or n:find("^tilt%.") or n:find("^renyi%.") or n == "tail:sample")
      and beta_law(l, function(a, b) return math.max(a, b) > 1e3 end)
  end },
  -- open: tilt.sample of a beta law at a strong tilt takes seconds per draw when the exponent at
  -- the far end is below 1 or a, b are large (beta{a=3, b=0.5} at lambda -1e5, beta{a=100, b=100}
  -- at -1000; beta{a=2, b=3} at any tilt is fast since the Gamma-side sampler)
  { "slow tilted beta sampler", function(n, l)
    return (n == "tilt.sample" or n == "mc.tilt_gain") and (has(l, "^beta%(") or has(l, "^tail#14"))
  end },
}


-- a value as Lua source, for reproducers (numbers to 17 digits)
local function describe(v, depth)
  depth = depth or 0
  local t = type(v)
  if t == "number" then
    if v ~= v then return "0/0" end
    if v == math.huge then return "math.huge" end
    if v == -math.huge then return "-math.huge" end
    if math.type(v) == "integer" then return tostring(v) end
    return string.format("%.17g", v)
  elseif t == "string" then
    return string.format("%q", v)
  elseif t == "table" and depth < 2 then
    local parts, n = {}, #v
    for i = 1, n do parts[#parts + 1] = describe(v[i], depth + 1) end
    for k, x in pairs(v) do
      if not (math.type(k) == "integer" and k >= 1 and k <= n) then
        parts[#parts + 1] = tostring(k) .. "=" .. describe(x, depth + 1)
      end
    end
    return "{" .. table.concat(parts, ", ") .. "}"
  elseif t == "userdata" then
    local ok, s = pcall(tostring, v)
    if ok and type(s) == "string" and s:find("^vector") then
      local ok2, tt = pcall(function() return v:totable() end)
      if ok2 then return "ab.vector" .. describe(tt, depth) end
    end
    return ok and tostring(s) or "userdata"
  end
  return tostring(v)
end
fuzz.describe = describe

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do
    if type(k) == "string" then ks[#ks + 1] = k end
  end
  table.sort(ks)
  return ks
end

--- The public functions: { {name=, fn=, self=type of self or nil}, ... }.
function fuzz.functions(ab, samples)
  local list = {}
  local function add(name, fn, self) list[#list + 1] = { name = name, fn = fn, self = self } end
  for _, k in ipairs(sorted_keys(ab)) do
    local v = ab[k]
    if type(v) == "function" then
      add(k, v)
    elseif type(v) == "table" then
      for _, k2 in ipairs(sorted_keys(v)) do
        if type(v[k2]) == "function" then add(k .. "." .. k2, v[k2]) end
      end
    end
  end
  -- methods and metamethods of each userdata type, from a sample object
  for _, kind in ipairs(sorted_keys(samples)) do
    local mt = getmetatable(samples[kind])
    for _, k in ipairs(sorted_keys(mt)) do
      local v = mt[k]
      if type(v) == "function" then
        add(kind .. "." .. k, v, kind)
      elseif type(v) == "table" and k == "__index" then
        for _, m in ipairs(sorted_keys(v)) do
          if type(v[m]) == "function" then add(kind .. ":" .. m, v[m], kind) end
        end
      end
    end
    -- a vector's __index is a function whose methods live in an upvalue
    if type(mt.__index) == "function" then
      local _, methods = debug.getupvalue(mt.__index, 1)
      if type(methods) == "table" then
        for _, m in ipairs(sorted_keys(methods)) do
          add(kind .. ":" .. m, methods[m], kind)
        end
      end
    end
  end
  return list
end

--- A new fuzzer over the module `ab`, drawing its choices with draw(k).
function fuzz.new(ab, draw, opts)
  opts = opts or {}
  local f = {}
  local depth = 0
  local pick -- forward: a random pool value and its label

  local function chance(k) return draw(k) == 1 end

  -- callbacks the user could write: honest, broken, erroring, yielding,
  -- re-entrant (they call a random public function, collect garbage)
  local callbacks = {
    { "function(l) return l*l/2 end", function(l) return l * l / 2 end },
    { "function() return 0/0 end", function() return 0 / 0 end },
    { "function() return -1 end", function() return -1 end },
    { "function() return math.huge end", function() return math.huge end },
    { "function() return 'x' end", function() return "x" end },
    { "function() end", function() end },
    { "function() error(MARK) end", function() error(MARK) end },
    { "function() error({}) end", function() error(setmetatable({}, { __tostring = function() return MARK end })) end },
    { "function() coroutine.yield() end", function(x)
      if coroutine.isyieldable() then coroutine.yield() end
      return x
    end },
    { "reentrant function", function(x)
      if depth < 2 then
        depth = depth + 1
        pcall(f.call_random)
        collectgarbage()
        depth = depth - 1
      end
      return type(x) == "number" and x * x / 2 or x
    end },
  }

  local function callback()
    local c = callbacks[draw(#callbacks)]
    return c[2], c[1]
  end

  -- a tail whose user cumulant calls the tail itself with a bad argument
  -- inside pcall and collects garbage (issue 9: use-after-free)
  local function self_calling_tail()
    local t
    t = ab.tail.cumulant(function(l)
      if t and depth < 1 then
        depth = depth + 1
        pcall(t.gain, t, -1)
        collectgarbage()
        depth = depth - 1
      end
      if coroutine.isyieldable() and chance(4) then coroutine.yield() end
      return l * l / 2
    end)
    return t
  end

  local function numbers(n)
    local t = {}
    for i = 1, n do t[i] = ({ 0.5, 1, 0, -1, 1e-300, 1e308, 0 / 0, math.huge, 2 })[draw(9)] end
    return t
  end

  local FIELDS = { "sigma", "variance", "v", "c", "nu", "b", "lo", "hi", "mean", "sd", "p",
    "rate", "shape", "scale", "loc", "a", "values", "probs", "lambda_max", "numeric", "side",
    "out", "derivative", "alpha", "beta", "kl", "estimator", "level", "resamples", "rng",
    "columns", "ref_rewards", "policy_rewards", "logp_policy", "logp_ref", "bogus" }

  -- value makers: { label, function() return value end }
  local V = {
    { "nil", function() return nil end },
    { "true", function() return true end },
    { "false", function() return false end },
    { "0", function() return 0 end },
    { "-0.0", function() return -0.0 end },
    { "-1", function() return -1 end },
    { "1", function() return 1 end },
    { "0.5", function() return 0.5 end },
    { "2", function() return 2 end },
    { "4", function() return 4 end },
    { "1e-320", function() return 1e-320 end },
    { "1e-300", function() return 1e-300 end },
    { "1e308", function() return 1e308 end },
    { "math.huge", function() return math.huge end },
    { "-math.huge", function() return -math.huge end },
    { "0/0", function() return 0 / 0 end },
    { "math.maxinteger", function() return math.maxinteger end },
    { "math.mininteger", function() return math.mininteger end },
    { "2^53", function() return 2 ^ 53 end },
    { "2^62", function() return 2 ^ 62 end },
    { "1e15", function() return 1e15 end },
    { "''", function() return "" end },
    { "'kl'", function() return "kl" end },
    { "family", function()
      return ({ "kl", "reverse_kl", "chi2", "hellinger", "tv", "js", "alpha", "renyi", "nope" })[draw(9)]
    end },
    { "'1'", function() return "1" end },
    { "'0x10'", function() return "0x10" end },
    { "'1e400'", function() return "1e400" end },
    { "'nan'", function() return "nan" end },
    { "'gain'", function() return "gain" end },
    { "'loss'", function() return "loss" end },
    { "{}", function() return {} end },
    { "{0.5, 0.5}", function() return { 0.5, 0.5 } end },
    { "{1, 0}", function() return { 1, 0 } end },
    { "{0, 1}", function() return { 0, 1 } end },
    { "{0.1, 0.2, 0.7}", function() return { 0.1, 0.2, 0.7 } end },
    { "{1, 2, 3}", function() return { 1, 2, 3 } end },
    { "{1e-300, 1}", function() return { 1e-300, 1 } end },
    { "{'1', 2}", function() return { "1", 2 } end },
    { "{1, nil, 3}", function() return { 1, nil, 3 } end },
    { "{{}}", function() return { {} } end },
    { "{a=1}", function() return { a = 1 } end },
    { "numbers", function() return numbers(draw(6) - 1) end },
    { "vector{}", function() return ab.vector {} end },
    { "vector{0.5, 0.5}", function() return ab.vector { 0.5, 0.5 } end },
    { "vector(3, 1/3)", function() return ab.vector(3, 1 / 3) end },
    { "vector of numbers", function() return ab.vector(numbers(draw(5))) end },
    { "options", function()
      local o = {}
      for _ = 1, draw(3) do
        local v = pick()
        o[FIELDS[draw(#FIELDS)]] = v
      end
      return o
    end },
    { "{beta=1}", function() return { beta = 1 } end },
    { "{kl=0.5}", function() return { kl = 0.5 } end },
    { "{alpha=0.5}", function() return { alpha = 0.5 } end },
    { "{numeric=true}", function() return { numeric = true } end },
    { "{side='loss'}", function() return { side = "loss" } end },
    { "{derivative=2}", function() return { derivative = 2 } end },
    { "{out=vector(2)}", function() return { out = ab.vector(2) } end },
    { "tail", function()
      local ctors = {
        function() return ab.tail.subgaussian { sigma = 1 } end,
        function() return ab.tail.subgamma { v = 1, c = 0.5 } end,
        function() return ab.tail.subgamma { v = 1, c = 0 } end,
        function() return ab.tail.subexponential { nu = 1, b = 1 } end,
        function() return ab.tail.bounded { lo = 0, hi = 1 } end,
        function() return ab.tail.bounded { lo = 0, hi = 1, mean = 0.2 } end,
        function() return ab.tail.gaussian { mean = 0, sd = 1 } end,
        function() return ab.tail.uniform { lo = -1, hi = 1 } end,
        function() return ab.tail.bernoulli { p = 0.3 } end,
        function() return ab.tail.exponential { rate = 2 } end,
        function() return ab.tail.gamma { shape = 2, scale = 1 } end,
        function() return ab.tail.gumbel { loc = 0, scale = 1 } end,
        function() return ab.tail.logistic { loc = 0, scale = 1 } end,
        function() return ab.tail.beta { a = 2, b = 3 } end,
        function() return ab.tail.discrete { values = { 0, 1, 5 }, probs = { 0.5, 0.3, 0.2 } } end,
        function() return ab.tail.empirical { 1, 2, 2, 7 } end,
        function()
          local fn, l = callback()
          return ab.tail.cumulant(fn), l
        end,
        function()
          local fn, l = callback()
          return ab.tail.cumulant(fn, { lambda_max = 2 }), l
        end,
        self_calling_tail,
      }
      local k = draw(#ctors)
      local t, l = ctors[k]()
      return t, k .. (l and (":" .. l) or "")
    end },
    { "fdiv", function() return ab.fdiv((callback())) end },
    { "ab.fdiv(chi2)", function() return ab.fdiv(function(t) return (t - 1) ^ 2 end) end },
    { "rng", function() return ab.rng(draw(3)) end },
    { "closed rng", function()
      local r = ab.rng(1)
      getmetatable(r).__close(r)
      return r
    end },
    { "function", function() return (callback()) end },
    { "print", function() return print end },
    { "coroutine", function() return coroutine.create(print) end },
    { "csv path", function() return opts.csv or "/nonexistent.csv" end },
    { "'/nonexistent.csv'", function() return "/nonexistent.csv" end },
    { "'/'", function() return "/" end },
    { "{columns={'a'}}", function() return { columns = { "a", "zz" } } end },
    { "run table", function()
      return { ref_rewards = pick(), policy_rewards = { 1, 2, 3 }, logp_policy = { -1, -2, -1 },
        logp_ref = pick(), rng = ab.rng(1), resamples = 5 }
    end },
  }
  f.values = V


  -- typed arguments, to get past the argument checks into the maths:
  -- numbers at every scale (and the special values), probability vectors
  -- with zeros and tiny entries, option tables of a function's own fields
  local SPECIAL = { 0, -0.0, 1, -1, 0.5, 2, 1e-320, 1e-300, 1e-16, 1 - 1e-16, 1e15,
    1e300, 1e308, math.huge, -math.huge, 0 / 0, 2 ^ 53, math.maxinteger }
  local function num()
    local k = draw(4)
    if k == 1 then return SPECIAL[draw(#SPECIAL)] end
    local e = draw(641) - 321 -- 10^-320 .. 10^320
    local x = (draw(1000) / 100) * 10 ^ e
    if k == 2 and chance(2) then x = -x end
    if k == 4 then x = draw(64) end
    return x
  end
  local function probs()
    local n = draw(6) - 1
    local p, s = {}, 0
    for i = 1, n do
      local k = draw(5)
      p[i] = k == 1 and 0 or k == 2 and 10 ^ -(draw(320)) or draw(100)
      s = s + p[i]
    end
    if s > 0 and not chance(10) then
      for i = 1, n do p[i] = p[i] / s end
    end
    if chance(3) then return ab.vector(p) end
    return p
  end
  local function nums()
    local t = {}
    for i = 1, draw(6) - 1 do t[i] = num() end
    if chance(3) then return ab.vector(t) end
    return t
  end
  local function numlike() -- a number, a table or a vector of numbers
    if chance(3) then return nums() end
    return num()
  end
  local function opts_of(fields)
    return function()
      local o = {}
      for _, k in ipairs(fields) do
        if not chance(3) then o[k] = num() end
      end
      if chance(10) then o.bogus = 1 end
      return o
    end
  end
  local function family()
    if chance(6) then return ab.fdiv((callback())) end
    return ({ "kl", "reverse_kl", "chi2", "hellinger", "tv", "js", "alpha", "renyi" })[draw(8)]
  end
  local function small() return draw(6) - 1 end
  local function rng() return ab.rng(draw(100)) end
  local function csv() return chance(2) and opts.csv or "/nonexistent.csv" end
  local tail_of -- set below from the "tail" maker, and exact laws with adversarial parameters
  local CTOR = {
    subgaussian = { "sigma" }, subgamma = { "v", "c" }, subexponential = { "nu", "b" },
    bounded = { "lo", "hi", "mean" }, gaussian = { "mean", "sd" }, uniform = { "lo", "hi" },
    bernoulli = { "p" }, exponential = { "rate" }, gamma = { "shape", "scale" },
    gumbel = { "loc", "scale" }, logistic = { "loc", "scale" }, beta = { "a", "b" },
  }
  local function any_tail()
    if chance(2) then return tail_of() end -- with a label: tail#k[:callback]
    local names = sorted_keys(CTOR)
    local name = names[draw(#names)]
    local ok, t = pcall(ab.tail[name], opts_of(CTOR[name])())
    if ok then return t end
    return tail_of()
  end
  local function discrete_opts()
    return { values = nums(), probs = probs() }
  end
  local function tilt_opts()
    return chance(2) and { beta = num() } or { kl = num() }
  end
  -- argument makers by function name (methods: after self)
  local SIG = {
    ["bon.divergence"] = { numlike, family, opts_of { "alpha" } },
    ["bon.kl"] = { numlike }, ["bon.win_rate"] = { numlike },
    ["bon.gain"] = { any_tail, numlike }, ["bon.expected_gain"] = { any_tail, numlike },
    ["bon.policy"] = { probs, nums, num }, ["bon.kl_estimate"] = { numlike, num },
    ["bon.from_samples"] = { nums, nums, small }, ["bon.sample"] = { any_tail, num, small, rng },
    ["tilt.policy"] = { probs, nums, tilt_opts }, ["tilt.kl"] = { any_tail, numlike },
    ["tilt.beta"] = { any_tail, numlike }, ["tilt.compare_bon"] = { any_tail, num },
    ["tilt.sample"] = { any_tail, tilt_opts, small, rng },
    divergence = { probs, probs, family, opts_of { "alpha" } },
    generator = { family, num, opts_of { "alpha" } },
    ["estimate.mean"] = { nums }, ["estimate.kl"] = { nums, nums },
    ["estimate.renyi"] = { nums, nums, opts_of { "alpha" } },
    ["estimate.variance_proxy"] = { nums, function() return { level = num(), resamples = small(), rng = rng() } end },
    read_csv = { csv, function() return { columns = { "a", ({ "b", "zz" })[draw(2)] } } end },
    ["mc.bon_gain"] = { any_tail, num, small, rng }, ["mc.tilt_gain"] = { any_tail, num, small, rng },
    ["mc.mean"] = { any_tail, small, rng },
    rng = { num, num }, vector = { numlike, num },
    ["tail.discrete"] = { discrete_opts }, ["tail.empirical"] = { nums },
    ["tail.cumulant"] = { function() return (callback()) end, opts_of { "lambda_max" } },
    ["tail:gain"] = { numlike, opts_of { "numeric" } }, ["tail:loss"] = { numlike },
    ["tail:kl_needed"] = { numlike, function() return { side = ({ "gain", "loss" })[draw(2)] } end },
    ["tail:tilt"] = { numlike }, ["tail:cumulant"] = { numlike, function() return { derivative = draw(3) - 1 } end },
    ["tail:sample"] = { small, rng }, ["rng:uniform"] = { small },
  }
  for name, fields in pairs(CTOR) do SIG["tail." .. name] = { opts_of(fields) } end

  pick = function()
    local k = draw(#V)
    local ok, v, sub = pcall(V[k][2])
    if not ok then return nil, V[k][1] .. " (failed: " .. tostring(v) .. ")" end
    return v, V[k][1] .. (sub and ("#" .. sub) or "")
  end

  local samples = {
    tail = ab.tail.gaussian { sd = 1 },
    vector = ab.vector { 1 },
    rng = ab.rng(0),
    fdiv = ab.fdiv(print),
  }
  local self_makers = {} -- a value of the type a method expects as self
  for _, v in ipairs(V) do
    if v[1] == "tail" then self_makers.tail = v[2] end
    if v[1] == "vector of numbers" then self_makers.vector = v[2] end
    if v[1] == "rng" then self_makers.rng = v[2] end
    if v[1] == "fdiv" then self_makers.fdiv = v[2] end
  end
  tail_of = self_makers.tail
  self_makers.tail = any_tail
  local fns = fuzz.functions(ab, samples)
  f.functions = fns

  -- functions whose results may hold NaN by design: containers
  local CONTAINER = { vector = true, ["vector.__index"] = true, ["vector:totable"] = true }

  -- walk a result for NaN (tables and vectors, cycles guarded)
  local function nan_in(v, seen)
    if type(v) == "number" then return v ~= v end
    seen = seen or {}
    if seen[v] then return false end
    if type(v) == "table" then
      seen[v] = true
      for k, x in pairs(v) do
        if nan_in(k, seen) or nan_in(x, seen) then return true end
      end
    elseif type(v) == "userdata" and getmetatable(v) == getmetatable(samples.vector) then
      seen[v] = true
      for i = 1, #v do
        if v[i] ~= v[i] then return true end
      end
    end
    return false
  end

  -- the position of the caller (this file) is standard Lua; init.lua's is not
  local function strip(msg)
    if type(msg) ~= "string" then return tostring(msg) end
    return (msg:gsub("^[^:\n]*pool%.lua:%d+: ", ""))
  end

  -- does an error message name a public function the right way?
  local function good_message(msg)
    if type(msg) ~= "string" then -- a callback's own error object passes through
      local ok, s = pcall(tostring, msg)
      if ok and type(s) == "string" and s:find(MARK, 1, true) then return true end
      return false, "error is a " .. type(msg)
    end
    if msg:find(MARK, 1, true) then return true end
    if msg == "not enough memory" then return true end -- Lua's own allocation failure
    msg = strip(msg)
    if msg:find("'?'", 1, true) then return false, "names '?'" end
    if msg:find("^[^:\n]*%.lua:%d+:") then return false, "file:line of a Lua file" end
    if msg:find("^attempt to ") then return false, "stock Lua error" end
    if msg:find("^bad argument #%d+ to '[%w_.:]+'") then return true end
    if msg:find("^calling '[%w_.:]+' on bad self") then return true end
    if msg:find("^[%a_][%w_.:]*: ") then return true end
    return false, "does not name a function"
  end

  local function skipped(name, labels, outcome, args)
    if os.getenv("FUZZ_NO_KNOWN") then return false end -- check the list can go
    for _, k in ipairs(fuzz.KNOWN) do
      if k[2](name, labels, outcome, args or {}) then return true end
    end
    return false
  end

  local ALLOCATES = { vector = true, ["rng:uniform"] = true, ["tail:sample"] = true,
    ["bon.sample"] = true, ["tilt.sample"] = true, ["mc.bon_gain"] = true,
    ["mc.tilt_gain"] = true, ["mc.mean"] = true }
  local calls = 0
  f.stats = { calls = 0, errors = 0, returns = 0, skipped = 0 }

  -- one random call; returns a problem description or nil
  local function one()
    local fd = fns[draw(#fns)]
    local args, labels = {}, {}
    local n = draw(5) - 1
    local start = 1
    if fd.self and not chance(8) then
      local obj, sub = self_makers[fd.self]()
      args[1], labels[1] = obj, sub and (fd.self .. "#" .. sub) or describe(obj)
      start = 2
      n = math.max(n, 1)
    end
    local sig = SIG[fd.name]
    if sig and not chance(4) then -- typed arguments, each sometimes replaced
      n = start - 1 + #sig
      for i = start, n do
        if chance(10) then args[i], labels[i] = pick()
        else
          local sub
          args[i], sub = sig[i - start + 1]()
          labels[i] = type(sub) == "string" and ("tail#" .. sub) or describe(args[i])
        end
      end
    else
      for i = start, n do args[i], labels[i] = pick() end
    end
    local name = fd.name
    args.n = n
    if opts.no_huge_alloc and ALLOCATES[name] then
      -- under ASan a request beyond its 1 TB limit aborts the process
      -- instead of failing (Lua's "not enough memory"): not a defect
      for i = 1, n do
        if type(args[i]) == "number" and args[i] > 1e7 then return nil end
      end
    end
    if skipped(name, labels, nil, args) then
      f.stats.skipped = f.stats.skipped + 1
      return nil
    end
    local repro = name .. "(" .. table.concat(labels, ", ") .. ")"
    if opts.trace then opts.trace(repro) end
    local res
    if chance(5) then -- inside a coroutine, resumed until it ends
      local co = coroutine.create(function()
        local r = table.pack(fd.fn(table.unpack(args, 1, n))) -- not a tail call
        return table.unpack(r, 1, r.n)
      end)
      for _ = 1, 8 do
        res = table.pack(coroutine.resume(co))
        if coroutine.status(co) == "dead" then break end
      end
      if coroutine.status(co) ~= "dead" then res = { n = 1, true } end
      repro = repro .. " in a coroutine"
    else
      res = table.pack(pcall(fd.fn, table.unpack(args, 1, n)))
    end
    calls = calls + 1
    f.stats.calls = calls
    if res[1] then
      f.stats.returns = f.stats.returns + 1
      if not CONTAINER[name] then
        for i = 2, res.n do
          if nan_in(res[i]) and not skipped(name, labels, { kind = "nan" }) then
            return "NaN in the result of " .. repro
          end
        end
      end
    else
      f.stats.errors = f.stats.errors + 1
      local ok, why = good_message(res[2])
      if not ok and not skipped(name, labels, { kind = "message", text = strip(res[2]) }) then
        return string.format("bad error message (%s) from %s: %s", why, repro, tostring(res[2]))
      end
    end
    return nil
  end

  -- used by re-entrant callbacks: a call whose outcome is not judged
  function f.call_random()
    local fd = fns[draw(#fns)]
    local a, la = pick()
    local b, lb = pick()
    if skipped(fd.name, { la, lb }, nil, { a, b, n = 2 }) then return end
    return fd.fn(a, b)
  end

  f.step = one
  return f
end

return fuzz
