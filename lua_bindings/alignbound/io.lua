--- Writing results: CSV files written whole or not at all.
-- @module alignbound.io

local io_ = {}

-- Like the C functions' argument errors: no position (the depth of the
-- check varies, so a level would point inside this file).
local function argerror(n, msg)
  error("bad argument #" .. n .. " to 'write_csv' (" .. msg .. ")", 0)
end

-- One CSV field: numbers with %.17g (they read back to the same double;
-- integers as integers), booleans as true/false, nil as an empty field,
-- strings quoted per RFC 4180 when they hold a comma, a quote or a line break.
local function field(v, where)
  local t = type(v)
  if t == "number" then
    if math.type(v) == "integer" then return string.format("%d", v) end
    if v ~= v then return "nan" end
    if v == math.huge then return "inf" end
    if v == -math.huge then return "-inf" end
    return string.format("%.17g", v)
  elseif t == "nil" then
    return ""
  elseif t == "boolean" then
    return tostring(v)
  elseif t == "string" then
    if v:find('[,"\r\n]') then return '"' .. v:gsub('"', '""') .. '"' end
    return v
  end
  argerror(2, where .. " must be a number, string or boolean, got " .. t)
end

local function is_array(x)
  return type(x) == "table" or (type(x) == "userdata" and x.totable ~= nil)
end

-- The header and the cells of rows (an array of tables) or of columns (a
-- table of arrays or vectors by name), checked.
local function layout(data, header)
  if type(data) ~= "table" then argerror(2, "rows or columns must be a table, got " .. type(data)) end
  local rows = type(data[1]) == "table"
  if header ~= nil then
    if type(header) ~= "table" or #header == 0 then argerror(3, "header must be a non-empty array of names") end
    for i, h in ipairs(header) do
      if type(h) ~= "string" then argerror(3, "header[" .. i .. "] must be a string, got " .. type(h)) end
    end
  end
  if rows then
    if header == nil then
      local seen = {}
      header = {}
      for i, r in ipairs(data) do
        if type(r) ~= "table" then argerror(2, "rows[" .. i .. "] must be a table, got " .. type(r)) end
        for k in pairs(r) do
          if type(k) ~= "string" then argerror(2, "rows[" .. i .. "] has a key that is not a string") end
          if not seen[k] then seen[k], header[#header + 1] = true, k end
        end
      end
      table.sort(header)
      if #header == 0 then argerror(2, "rows have no fields") end
    end
    for k in pairs(data) do
      if math.type(k) ~= "integer" or k < 1 or k > #data then
        argerror(2, "rows must be an array of tables (found key " .. tostring(k) .. ")")
      end
    end
    return header, #data, function(i, j) return data[i][header[j]] end
  end
  if next(data) == nil then argerror(2, "rows or columns are empty") end
  if header == nil then
    header = {}
    for k in pairs(data) do
      if type(k) ~= "string" then argerror(2, "columns must be keyed by name, found " .. tostring(k)) end
      header[#header + 1] = k
    end
    table.sort(header)
  end
  local cols, n = {}, nil
  for j, name in ipairs(header) do
    local c = data[name]
    if not is_array(c) then argerror(2, "column '" .. name .. "' must be a table or vector, got " .. type(c)) end
    cols[j] = c
    local len = #c
    if n == nil then n = len end
    if len ~= n then
      argerror(2, string.format("columns differ in length ('%s' has %d rows, '%s' has %d)",
        header[1], n, name, len))
    end
  end
  return header, n, function(i, j) return cols[j][i] end
end

--- Write rows or columns to a CSV file.
-- The file is written to `path .. ".tmp"` in the same directory and renamed
-- over `path` once complete, so a failed run leaves no half-written file.
-- Numbers use %.17g (read back, they are the same doubles; inf and nan as
-- `inf` and `nan`), booleans true/false, nil an empty field, strings are
-- quoted (RFC 4180) when they hold a comma, a quote or a line break.
-- Misuse (bad rows, mismatched columns) raises an error naming 'write_csv';
-- a file that cannot be written returns nil and a message, as io.open does.
-- @function write_csv
-- @tparam string path
-- @tparam table data rows (an array of tables with the same fields; the
-- header is the union of their fields, sorted, unless `header` is given) or
-- columns (a table of equal-length tables or vectors by name)
-- @tparam[opt] table header the column names, in order
-- @treturn[1] string path
-- @treturn[2] nil
-- @treturn[2] string message
function io_.write_csv(path, data, header)
  if type(path) ~= "string" or path == "" then
    argerror(1, "path must be a non-empty string, got " .. (type(path) == "string" and "''" or type(path)))
  end
  local names, n, cell = layout(data, header)
  local lines = {}
  for j, h in ipairs(names) do lines[j] = field(h, "header") end
  local out = { table.concat(lines, ",") }
  for i = 1, n do
    local cells = {}
    for j = 1, #names do cells[j] = field(cell(i, j), "row " .. i .. ", column '" .. names[j] .. "'") end
    out[i + 1] = table.concat(cells, ",")
  end
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, "write_csv: cannot write " .. path .. ": " .. err end
  local ok, werr = f:write(table.concat(out, "\n"), "\n")
  local closed, cerr = f:close()
  if not ok or not closed then
    os.remove(tmp)
    return nil, "write_csv: cannot write " .. path .. ": " .. tostring(werr or cerr)
  end
  local moved, merr = os.rename(tmp, path)
  if not moved then
    os.remove(tmp)
    return nil, "write_csv: cannot write " .. path .. ": " .. merr
  end
  return path
end

return io_
