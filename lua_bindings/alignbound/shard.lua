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
  if type(s) ~= "string" then argerror(fname, argn, "shard must be a string \"i/k\", got " .. type(s)) end
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
  return (s.index - 1) * n // s.count + 1, s.index * n // s.count
end

-- A value as Lua source that reads back to the same value (doubles by %a:
-- every bit).
local function serialize(v, out)
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
    out[#out + 1] = "{"
    local n = #v
    for i = 1, n do
      serialize(v[i], out)
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
      serialize(v[k], out)
      out[#out + 1] = ","
    end
    out[#out + 1] = "}"
  else
    error("shard.save: cannot save a " .. t, 0)
  end
end

-- A partial result checked, with its shard parsed (a shallow copy).
local function check_partial(p, fname, argn)
  if type(p) ~= "table" or type(p.kind) ~= "string" or type(p.fingerprint) ~= "string"
    or type(p.rows) ~= "table" or p.shard == nil then
    argerror(fname, argn, "not a partial result (kind=, fingerprint=, shard=, rows= expected)")
  end
  for i, r in ipairs(p.rows) do
    if type(r) ~= "table" then argerror(fname, argn, "row " .. i .. " of the partial result is not a table") end
  end
  local copy = {}
  for k, v in pairs(p) do copy[k] = v end
  copy.shard = parse(p.shard, fname, argn)
  return copy
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

--- Read a partial result saved by `save` (nil, message if unreadable).
-- @tparam string path
-- @treturn table the partial
function M.load(path)
  if type(path) ~= "string" then argerror("shard.load", 1, "path must be a string, got " .. type(path)) end
  local chunk, err = loadfile(path, "t", {})
  if not chunk then return nil, err end
  local ok, p = pcall(chunk)
  if not ok then return nil, path .. ": " .. tostring(p) end
  if type(p) ~= "table" then return nil, path .. ": not a partial result" end
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
    if type(p) == "string" then
      local loaded, err = M.load(p)
      if not loaded then argerror("shard.merge", 1, "cannot read partial " .. p .. ": " .. tostring(err)) end
      p = loaded
    end
    p = check_partial(p, "shard.merge", 1)
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
  local rows = {}
  for i = 1, k do
    if not parts[i] then argerror("shard.merge", 1, string.format("shard %d/%d is missing", i, k)) end
    for _, r in ipairs(parts[i].rows) do rows[#rows + 1] = r end
  end
  local reduce = M.reducers[kind]
  return { kind = kind, fingerprint = fp, rows = rows, summary = reduce and reduce(rows) or nil,
    options = parts[1].options }
end

return M
