--- Runs that outgrow one machine: shard i of k processes a deterministic
-- slice (prompts of an `ab.prompts` run, rows of a scenario grid), saves a
-- partial result, and `merge` combines the partials into exactly the
-- unsharded result.  Per-item values are kept and the aggregates are reduced
-- after merging, in item order, by the same reduction as an unsharded run:
-- the merge is bit-identical to it.  The scheduler is the cluster's own (GNU
-- parallel, a Slurm job array); see the README.
-- @module alignbound.shard
local M = {}

local function argerror(fname, argn, msg)
  -- no position (level 0), as the C functions' argument errors
  error(string.format("bad argument #%d to '%s' (%s)", argn, fname, msg), 0)
end

-- parse on behalf of the public function fname, argument argn
local function parse(s, fname, argn)
  if type(s) == "table" and math.type(s.index) == "integer" and math.type(s.count) == "integer"
    and s.index >= 1 and s.index <= s.count then
    return { index = s.index, count = s.count }
  end
  if type(s) == "table" then
    argerror(fname, argn, string.format("shard must be \"i/k\" or {index=i, count=k} with integers "
      .. "1 <= i <= k, got {index=%s, count=%s}", tostring(s.index), tostring(s.count)))
  end
  if type(s) ~= "string" then
    argerror(fname, argn, "shard must be a string \"i/k\" or a table {index=, count=}, got " .. type(s))
  end
  local i, k = s:match("^%s*(%d+)%s*/%s*(%d+)%s*$")
  i, k = math.tointeger(tonumber(i)), math.tointeger(tonumber(k))
  if not i or not k then argerror(fname, argn, "shard must be \"i/k\" with integers, got \"" .. s .. "\"") end
  if k < 1 or i < 1 or i > k then
    argerror(fname, argn, string.format("shard index out of range: %d/%d (need 1 <= i <= k)", i, k))
  end
  return { index = i, count = k }
end

--- Parse "i/k" (1 <= i <= k, integers) into `{index=i, count=k}`.
-- @tparam string|table s "i/k", or a table already parsed
-- @treturn table `{index=, count=}`
function M.parse(s)
  return parse(s, "shard.parse", 1)
end

-- For the modules that shard: parse on behalf of their own function (not
-- public: ab.shard's functions are those above and below).
M.internal = { parse = parse }

-- floor(a b / k) for 0 <= a, b < k without overflow: long multiplication
-- by the bits of a, the running value kept as quotient and remainder (the
-- remainder < k compared unsigned: 2 r and r + b stay below 2^64).
local function muldiv(a, b, k)
  local q, r = 0, 0
  for bit = 62, 0, -1 do
    q, r = 2 * q, 2 * r
    if not math.ult(r, k) then q, r = q + 1, r - k end
    if (a >> bit) & 1 == 1 then
      r = r + b
      if not math.ult(r, k) then q, r = q + 1, r - k end
    end
  end
  return q
end

--- The slice of n items that shard s holds: items lo..hi (1-based,
-- inclusive; empty when hi < lo).  Shards 1..k cover 1..n once, in order.
-- @tparam integer n
-- @tparam string|table s a shard ("i/k" or parsed)
-- @treturn integer lo
-- @treturn integer hi
function M.slice(n, s)
  if math.type(n) ~= "integer" or n < 0 then
    argerror("shard.slice", 1, "n must be an integer >= 0, got " .. tostring(n))
  end
  s = parse(s, "shard.slice", 2)
  -- floor(i n / k) as i q + floor(i r / k) with n = q k + r: no product
  -- beyond n (i n overflows for n near 2^63)
  local q, r, k = n // s.count, n % s.count, s.count
  local function part(i)
    if i == k then return n end
    return i * q + muldiv(i, r, k)
  end
  return part(s.index - 1) + 1, part(s.index)
end

-- A value as Lua source that reads back to the same value (doubles by %a:
-- every bit).
local function serialize(v, out, seen)
  seen = seen or {}
  local t = type(v)
  if t == "number" then
    if math.type(v) == "integer" then out[#out + 1] = string.format("%d", v)
    elseif v ~= v then out[#out + 1] = "0/0"
    elseif v == math.huge then out[#out + 1] = "1/0"
    elseif v == -math.huge then out[#out + 1] = "-1/0"
    else out[#out + 1] = string.format("%a", v) end
  elseif t == "string" then out[#out + 1] = string.format("%q", v)
  elseif t == "boolean" then out[#out + 1] = tostring(v)
  elseif t == "table" then
    if seen[v] then error("shard.save: the partial result contains itself (a cycle)", 0) end
    seen[v] = true
    out[#out + 1] = "{"
    local n = #v
    for i = 1, n do
      serialize(v[i], out, seen)
      out[#out + 1] = ","
    end
    local keys = {}
    for k in pairs(v) do
      if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
    end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do
      if type(k) ~= "string" then error("shard.save: only string keys and array entries can be saved", 0) end
      out[#out + 1] = "[" .. string.format("%q", k) .. "]="
      serialize(v[k], out, seen)
      out[#out + 1] = ","
    end
    out[#out + 1] = "}"
    seen[v] = nil
  else
    error("shard.save: cannot save a " .. t, 0)
  end
end

local PARTIAL_FIELDS = { kind = true, fingerprint = true, shard = true, rows = true, options = true }
local SCALAR = { number = true, string = true, boolean = true }

-- A partial result checked field by field (every row a table of scalars
-- under string keys, the options likewise), with its shard parsed (a
-- shallow copy); what names the partial in messages.
local function check_partial(p, fname, argn, what)
  what = what or "the partial result"
  local function bad(msg) argerror(fname, argn, what .. ": " .. msg) end
  if type(p) ~= "table" or type(p.kind) ~= "string" or type(p.fingerprint) ~= "string"
    or type(p.rows) ~= "table" or p.shard == nil then
    bad("not a partial result (kind=, fingerprint=, shard=, rows= expected)")
  end
  for k in pairs(p) do
    if not PARTIAL_FIELDS[k] then bad("unknown field '" .. tostring(k) .. "'") end
  end
  local n = #p.rows
  for k in pairs(p.rows) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then bad("rows must be a list") end
  end
  for i = 1, n do
    local r = p.rows[i]
    if type(r) ~= "table" then bad("row " .. i .. " is not a table") end
    for k, v in pairs(r) do
      if type(k) ~= "string" or not SCALAR[type(v)] then
        bad(string.format("row %d: field %s is a %s (string keys, number/string/boolean values expected)", i,
          tostring(k), type(v)))
      end
    end
  end
  if p.options ~= nil then
    if type(p.options) ~= "table" then bad("options must be a table, got " .. type(p.options)) end
    for k, v in pairs(p.options) do
      if type(k) ~= "string" or not SCALAR[type(v)] then bad("option " .. tostring(k) .. " is a " .. type(v)) end
    end
  end
  local copy = {}
  for k, v in pairs(p) do copy[k] = v end
  copy.shard = parse(p.shard, fname, argn)
  return copy
end

-- Rows to reduce: a field numeric in one row is numeric in every row.
local function check_rows(rows, fname, argn)
  local first = {}
  for i, r in ipairs(rows) do
    if type(r) ~= "table" then argerror(fname, argn, "row " .. i .. " is not a table") end
    for k, v in pairs(r) do
      if type(v) == "number" and not first[k] then first[k] = i end
    end
  end
  for k, i0 in pairs(first) do
    for i, r in ipairs(rows) do
      if type(r[k]) ~= "number" then
        argerror(fname, argn, string.format("field %s is a number in row %d but a %s in row %d", tostring(k), i0,
          type(r[k]), i))
      end
    end
  end
end

-- The data reader of saved partials: the subset of Lua that serialize
-- writes (return, tables, [%q]= and name= keys, %q strings, integers, %a floats,
-- 0/0, +-1/0, booleans), parsed without executing anything; nil, message
-- with the byte offset where the text is not such data (truncated or
-- corrupted).
local MAX_DEPTH = 16

local function read_data(text)
  local pos = 1
  local function fail(msg) error({ msg = msg .. " at byte " .. pos }, 0) end
  local function ws() pos = text:find("[^ \t\r\n]", pos) or (#text + 1) end
  local value
  local function str()
    local i = pos + 1
    while true do
      local c = text:find('[\\"]', i)
      if not c then fail("unfinished string") end
      if text:sub(c, c) == '"' then i = c break end
      i = c + 2
    end
    local lit = text:sub(pos, i)
    -- one string literal: a single token, nothing to execute
    local f = load("return " .. lit, "=string", "t", {})
    local ok, v = pcall(f or error)
    if not f or not ok or type(v) ~= "string" then fail("bad string") end
    pos = i + 1
    return v
  end
  local function num()
    for _, sp in ipairs { "0/0", "1/0", "-1/0" } do
      if text:sub(pos, pos + #sp - 1) == sp then
        pos = pos + #sp
        return sp == "0/0" and 0 / 0 or (sp == "1/0" and math.huge or -math.huge)
      end
    end
    local tok = text:match("^%-?0[xX][%x%.]+[pP][%+%-]?%d+", pos) or text:match("^%-?%d+", pos)
    local v = tok and tonumber(tok)
    if not v then fail("not a value") end
    pos = pos + #tok
    return v
  end
  local function tbl(depth)
    if depth > MAX_DEPTH then fail("tables nested too deep") end
    pos = pos + 1
    local t, n = {}, 0
    while true do
      ws()
      local c = text:sub(pos, pos)
      if c == "}" then pos = pos + 1 return t end
      if c == "" then fail("unexpected end") end
      local name, after = text:match("^([%a_][%w_]*)%s*=()", pos)
      if name and text:sub(after, after) ~= "=" then -- name = value (not ==)
        pos = after
        if t[name] ~= nil then fail("key " .. name .. " twice") end
        t[name] = value(depth)
      elseif c == "[" then
        pos = pos + 1
        ws()
        if text:sub(pos, pos) ~= '"' then fail("string key expected") end
        local k = str()
        ws()
        if text:sub(pos, pos) ~= "]" then fail("']' expected") end
        pos = pos + 1
        ws()
        if text:sub(pos, pos) ~= "=" then fail("'=' expected") end
        pos = pos + 1
        if t[k] ~= nil then fail("key " .. string.format("%q", k) .. " twice") end
        t[k] = value(depth)
      else
        n = n + 1
        t[n] = value(depth)
      end
      ws()
      c = text:sub(pos, pos)
      if c == "," or c == ";" then pos = pos + 1
      elseif c ~= "}" then fail("',' or '}' expected") end
    end
  end
  function value(depth)
    ws()
    local c = text:sub(pos, pos)
    if c == "{" then return tbl(depth + 1) end
    if c == '"' then return str() end
    if text:find("^true", pos) then pos = pos + 4 return true end
    if text:find("^false", pos) then pos = pos + 5 return false end
    if c == "" then fail("unexpected end") end
    return num()
  end
  local ok, v = pcall(function()
    ws()
    if not text:find("^return[ \t\r\n{]", pos) then fail("'return {' expected") end
    pos = pos + 6
    local r = value(0)
    ws()
    if pos <= #text then fail("text after the value") end
    return r
  end)
  if not ok then
    if type(v) == "table" then return nil, v.msg end
    error(v, 0)
  end
  return v
end

--- Save a partial result to path, whole or not at all (written to a
-- temporary file, then renamed).  The file is Lua source (`return {...}`).
-- @tparam string path
-- @tparam table partial `{kind=, fingerprint=, shard=, rows=}`
function M.save(path, partial)
  if type(path) ~= "string" then argerror("shard.save", 1, "path must be a string, got " .. type(path)) end
  partial = check_partial(partial, "shard.save", 2)
  local out = { "return " }
  serialize(partial, out)
  out[#out + 1] = "\n"
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "w")
  if not f then return nil, err end
  local ok, werr = f:write(table.concat(out))
  f:close()
  if not ok then
    os.remove(tmp)
    return nil, werr
  end
  local rok, rerr = os.rename(tmp, path)
  if not rok then
    os.remove(tmp)
    return nil, rerr
  end
  return true
end

--- Read a partial result saved by `save` (nil, message naming the file if
-- unreadable, truncated or not a partial result).  The file is read as
-- data (the subset of Lua that `save` writes), never executed.
-- @tparam string path
-- @treturn table the partial
function M.load(path)
  if type(path) ~= "string" then argerror("shard.load", 1, "path must be a string, got " .. type(path)) end
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("a")
  f:close()
  if not text then return nil, path .. ": cannot read" end
  local p, perr = read_data(text)
  if p == nil then return nil, path .. ": not a saved partial result (" .. perr .. ")" end
  local ok, cerr = pcall(check_partial, p, "shard.load", 1, path)
  if not ok then return nil, tostring(cerr) end
  return p
end

-- Reducers of the merged rows, by kind: set by the modules that shard.
M.reducers = {}

--- The prompt-ordered means of the numeric fields of rows (the aggregates
-- of a per-prompt run): each field's mean over the rows that have it,
-- reduced in row order.
-- @tparam table rows
-- @treturn table field -> mean
function M.summarize(rows)
  if type(rows) ~= "table" then argerror("shard.summarize", 1, "rows must be a table, got " .. type(rows)) end
  for i, r in ipairs(rows) do
    if type(r) ~= "table" then argerror("shard.summarize", 1, "row " .. i .. " is not a table") end
  end
  check_rows(rows, "shard.summarize", 1)
  return M.reducers.mean(rows)
end

--- Merge partial results (paths or tables) of one run: all shards 1..k,
-- each once, with one fingerprint; the rows are concatenated in shard
-- order and the aggregates recomputed from them.
-- @tparam table partials paths or partial tables
-- @treturn table `{kind=, fingerprint=, rows=, summary=}`
function M.merge(partials)
  if type(partials) ~= "table" or #partials == 0 then
    argerror("shard.merge", 1, "a non-empty list of partial results or paths expected")
  end
  local parts, k, kind, fp = {}, nil, nil, nil
  for i, p in ipairs(partials) do
    local what = "partial " .. i
    if type(p) == "string" then
      local loaded, err = M.load(p)
      if not loaded then argerror("shard.merge", 1, "cannot read partial result " .. tostring(err)) end
      what, p = p, loaded
    end
    p = check_partial(p, "shard.merge", 1, what)
    k = k or p.shard.count
    kind = kind or p.kind
    fp = fp or p.fingerprint
    if p.kind ~= kind or p.fingerprint ~= fp then
      argerror("shard.merge", 1, string.format("partial %d is of another run (%s %s, expected %s %s)", i,
        p.kind, p.fingerprint, kind, fp))
    end
    if p.shard.count ~= k then
      argerror("shard.merge", 1, string.format("partial %d has %d shards, expected %d", i, p.shard.count, k))
    end
    if parts[p.shard.index] then
      argerror("shard.merge", 1, string.format("shard %d/%d given twice", p.shard.index, k))
    end
    parts[p.shard.index] = p
  end
  local rows, owner = {}, {}
  for i = 1, k do
    if not parts[i] then argerror("shard.merge", 1, string.format("shard %d/%d is missing", i, k)) end
    for _, r in ipairs(parts[i].rows) do
      -- a prompt belongs to one shard: in two, the merge would count it twice
      local id = r.prompt
      if id ~= nil then
        if id ~= id then argerror("shard.merge", 1, string.format("shard %d/%d has a NaN prompt id", i, k)) end
        if owner[id] then
          argerror("shard.merge", 1, string.format("prompt %s is in shard %d/%d and in shard %d/%d",
            type(id) == "string" and string.format("%q", id) or tostring(id), owner[id], k, i, k))
        end
        owner[id] = i
      end
      rows[#rows + 1] = r
    end
  end
  local reduce = M.reducers[kind]
  if reduce then check_rows(rows, "shard.merge", 1) end
  return { kind = kind, fingerprint = fp, rows = rows, summary = reduce and reduce(rows) or nil,
    options = parts[1].options }
end

return M
