--- Figures: drive gnuplot (Debian package gnuplot-nox) to SVG and PNG.
-- @module alignbound.plot

local plot = {}

local FIELDS = { path = true, series = true, title = true, xlabel = true, ylabel = true,
  logx = true, logy = true, formats = true, width = true, height = true, gnuplot = true,
  key = true, xrange = true, yrange = true }
local SERIES_FIELDS = { x = true, y = true, err = true, title = true, style = true }
local STYLES = { lines = true, points = true, linespoints = true, errorbars = true }
-- the lists named by "unknown option" errors, as the C functions' are
local FIELD_LIST = "path, series, title, xlabel, ylabel, logx, logy, xrange, yrange, key, formats, width, "
  .. "height, gnuplot"
local SERIES_LIST = "x, y, err, title, style"

-- Like the C functions' argument errors: no position (the depth of the
-- check varies, so a level would point inside this file).
local function argerror(msg)
  error("bad argument #1 to 'plot' (" .. msg .. ")", 0)
end

local function array(x)
  if type(x) == "userdata" and x.totable then return x:totable() end
  if type(x) == "table" then return x end
end

-- gnuplot strings: single-quoted, a quote doubled.
local function quote(s)
  return "'" .. tostring(s):gsub("'", "''") .. "'"
end

-- A shell word: single-quoted, a quote as '\''.
local function shell(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- A data value: %.17g, "?" (gnuplot's missing value here) for nil, nan, inf.
local function datum(v)
  if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then return "?" end
  return string.format("%.17g", v)
end

local function check(opts)
  if type(opts) ~= "table" then argerror("table expected, got " .. type(opts)) end
  for k in pairs(opts) do
    if not FIELDS[k] then argerror("unknown option '" .. tostring(k) .. "' (expected " .. FIELD_LIST .. ")") end
  end
  if type(opts.path) ~= "string" or opts.path == "" then
    argerror("path must be a non-empty string (the files are path.svg and path.png)")
  end
  if type(opts.series) ~= "table" or #opts.series == 0 then
    argerror("series must be a non-empty array of {x=, y= [, err=, title=, style=]}")
  end
  for _, k in ipairs { "title", "xlabel", "ylabel", "key", "gnuplot" } do
    if opts[k] ~= nil and type(opts[k]) ~= "string" then
      argerror(k .. " must be a string, got " .. type(opts[k]))
    end
  end
  for _, k in ipairs { "xrange", "yrange" } do
    local r = opts[k]
    if r ~= nil and (type(r) ~= "table" or type(r[1]) ~= "number" or type(r[2]) ~= "number") then
      argerror(k .. " must be {lo, hi}")
    end
  end
  local series = {}
  for i, s in ipairs(opts.series) do
    local where = "series[" .. i .. "]"
    if type(s) ~= "table" then argerror(where .. " must be a table, got " .. type(s)) end
    for k in pairs(s) do
      if not SERIES_FIELDS[k] then
        argerror(where .. ": unknown option '" .. tostring(k) .. "' (expected " .. SERIES_LIST .. ")")
      end
    end
    local x, y, e = array(s.x), array(s.y), s.err ~= nil and array(s.err) or nil
    if not x then argerror(where .. ".x must be a table or vector of numbers") end
    if not y then argerror(where .. ".y must be a table or vector of numbers") end
    if s.err ~= nil and not e then argerror(where .. ".err must be a table or vector of numbers") end
    if #x == 0 then argerror(where .. ".x is empty") end
    if #x ~= #y or (e and #e ~= #x) then
      argerror(string.format("%s: x, y%s differ in length (%d, %d%s)", where, e and " and err" or "",
        #x, #y, e and ", " .. #e or ""))
    end
    local style = s.style or (e and "errorbars" or "linespoints")
    if not STYLES[style] then argerror(where .. ".style must be lines, points, linespoints or errorbars") end
    if style == "errorbars" and not e then argerror(where .. ": style errorbars needs err=") end
    if s.title ~= nil and type(s.title) ~= "string" then argerror(where .. ".title must be a string") end
    series[i] = { x = x, y = y, err = e, title = s.title or ("series " .. i), style = style }
  end
  local formats = opts.formats or { "svg", "png" }
  for _, f in ipairs(formats) do
    if f ~= "svg" and f ~= "png" then argerror("formats must list 'svg' and/or 'png', got " .. tostring(f)) end
  end
  return series, formats
end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

--- Draw one figure with gnuplot, to `path.svg` and `path.png`.
-- The data go through a temporary file; gnuplot's exit status is checked.
-- Misuse raises an error naming 'plot'; when gnuplot is missing or fails
-- (its stderr is in the message), or a file cannot be written, it returns
-- nil and a message ("plot: gnuplot not found; install gnuplot-nox").
-- @function plot
-- @tparam table opts `{path=, series={{x=, y= [, err=, title=, style=]}, ...}
-- [, title=, xlabel=, ylabel=, logx=, logy=, xrange={lo, hi}, yrange=,
-- key="top left", formats={"svg", "png"}, width=800, height=500,
-- gnuplot="gnuplot"]}`; style is lines, points, linespoints (default) or
-- errorbars (the default with err=, y +- err)
-- @treturn[1] table the files written
-- @treturn[2] nil
-- @treturn[2] string message
function plot.plot(opts)
  local series, formats = check(opts)
  local width, height = opts.width or 800, opts.height or 500
  local data = os.tmpname()
  local script = os.tmpname()
  local errs = os.tmpname()
  local function cleanup() os.remove(data); os.remove(script); os.remove(errs) end

  local blocks = {}
  for i, s in ipairs(series) do
    local lines = {}
    for k = 1, #s.x do
      lines[k] = datum(s.x[k]) .. " " .. datum(s.y[k]) .. (s.err and (" " .. datum(s.err[k])) or "")
    end
    blocks[i] = table.concat(lines, "\n")
  end
  local f = io.open(data, "w")
  if not f then cleanup(); return nil, "plot: cannot write a temporary file " .. data end
  f:write(table.concat(blocks, "\n\n\n"), "\n")
  f:close()

  local common = { "set datafile missing '?'", "set grid", "set key " .. (opts.key or "top left") }
  if opts.title then common[#common + 1] = "set title " .. quote(opts.title) end
  if opts.xlabel then common[#common + 1] = "set xlabel " .. quote(opts.xlabel) end
  if opts.ylabel then common[#common + 1] = "set ylabel " .. quote(opts.ylabel) end
  if opts.logx then common[#common + 1] = "set logscale x" end
  if opts.logy then common[#common + 1] = "set logscale y" end
  for _, axis in ipairs { "x", "y" } do
    local r = opts[axis .. "range"]
    if r then common[#common + 1] = string.format("set %srange [%.17g:%.17g]", axis, r[1], r[2]) end
  end
  local parts = {}
  for i, s in ipairs(series) do
    local using = s.style == "errorbars" and "1:2:3 with yerrorbars" or ("1:2 with " .. s.style)
    if s.err and s.style ~= "errorbars" then using = "1:2:3 with yerrorlines" end
    parts[i] = string.format("%s index %d using %s lw 2 title %s", quote(data), i - 1, using, quote(s.title))
  end
  local plotline = "plot " .. table.concat(parts, ", \\\n  ")
  local files = {}
  local text = {}
  for _, fmt in ipairs(formats) do
    local out = opts.path .. "." .. fmt
    files[#files + 1] = out
    if fmt == "svg" then
      text[#text + 1] = string.format("set terminal svg size %d,%d dynamic noenhanced font 'Arial,12'", width, height)
    else
      text[#text + 1] = string.format("set terminal pngcairo size %d,%d noenhanced font 'Arial,10'", width, height)
    end
    text[#text + 1] = "set output " .. quote(out)
    for _, c in ipairs(common) do text[#text + 1] = c end
    text[#text + 1] = plotline
    text[#text + 1] = "unset output"
  end
  f = io.open(script, "w")
  if not f then cleanup(); return nil, "plot: cannot write a temporary file " .. script end
  f:write(table.concat(text, "\n"), "\n")
  f:close()

  -- each output must be writable (its directory exists): say so plainly, as
  -- write_csv does, rather than return gnuplot's multi-line complaint.  A
  -- probe file that did not exist before is removed again.
  for _, out in ipairs(files) do
    local before = io.open(out, "rb")
    if before then before:close() end
    local g, err = io.open(out, "ab")
    if not g then
      cleanup()
      return nil, "plot: cannot write " .. tostring(err)
    end
    g:close()
    if not before then os.remove(out) end
  end

  local program = opts.gnuplot or "gnuplot"
  local ok, how, code = os.execute(string.format("%s %s 2>%s", shell(program), shell(script), shell(errs)))
  local stderr = slurp(errs)
  cleanup()
  if not ok then
    if how == "exit" and code == 127 then
      return nil, "plot: " .. program .. " not found; install gnuplot-nox"
    end
    return nil, string.format("plot: gnuplot failed (%s %s): %s", how, tostring(code), stderr)
  end
  for _, out in ipairs(files) do
    local g = io.open(out, "rb")
    local size = g and g:seek("end") or 0
    if g then g:close() end
    if size == 0 then return nil, "plot: gnuplot wrote no " .. out .. " " .. stderr end
  end
  return files
end

return plot
