-- ab.write_csv: exact numbers, RFC 4180 quoting, whole-or-nothing writes,
-- misuse raised, unwritable paths returned as nil, message.  ab.read_csv and
-- ab.read_jsonl on real logs (issue 10): text columns, RFC 4180 fields,
-- nested JSON fields, errors naming file, line and field.
local ab = require "alignbound"
local helper = require "helper"
local raises = helper.raises
local H = helper

local slurp = helper.slurp

local function exists(path) return slurp(path) ~= nil end

describe("write_csv", function()
  local path
  before_each(function() path = os.tmpname() end)
  after_each(function() os.remove(path); os.remove(path .. ".tmp") end)

  it("writes doubles that read back to the same bits (%.17g)", function()
    local x = { 0.1, 1 / 3, math.pi * 1e-300, 2 ^ 53 + 1.0, -5e-324, 1.7976931348623157e308 }
    local y = { 1, 2, 3, 4, 5, 6 }
    assert.are.equal(path, ab.write_csv(path, { x = x, y = ab.vector(y) }))
    local cols, n = ab.read_csv(path)
    assert.are.equal(#x, n)
    for i = 1, #x do
      assert.are.equal(x[i], cols.x[i])
      assert.are.equal(y[i], cols.y[i])
    end
    -- integers stay integers, columns sorted by name
    assert.are.equal("x,y\n0.10000000000000001,1\n", slurp(path):sub(1, 26))
  end)

  it("quotes strings per RFC 4180 and writes nil, booleans and infinities", function()
    local rows = { { a = 'say "hi", twice', b = true, c = math.huge },
      { a = "two\nlines", c = -math.huge }, { a = "plain", b = false, c = 0 / 0 } }
    assert(ab.write_csv(path, rows, { "a", "b", "c" }))
    assert.are.equal('a,b,c\n"say ""hi"", twice",true,inf\n"two\nlines",,-inf\nplain,false,nan\n', slurp(path))
  end)

  it("takes the header of rows as the sorted union of their fields", function()
    assert(ab.write_csv(path, { { b = 1 }, { a = 2 } }))
    assert.are.equal("a,b\n,1\n2,\n", slurp(path))
  end)

  it("replaces a file whole, leaving no temporary file", function()
    assert(ab.write_csv(path, { a = { 1, 2, 3 } }))
    assert(ab.write_csv(path, { a = { 4 } }))
    assert.are.equal("a\n4\n", slurp(path))
    assert.is_false(exists(path .. ".tmp"))
  end)

  it("returns nil and a message for a path it cannot write, leaving nothing behind", function()
    local ok, msg = ab.write_csv("/nonexistent-dir/out.csv", { a = { 1 } })
    assert.is_nil(ok)
    assert.truthy(msg:find("write_csv: cannot write /nonexistent-dir/out.csv", 1, true), msg)
    -- a directory in the way: the temporary file is written, the rename fails
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. dir .. " && touch " .. dir .. "/keep"))
    ok, msg = ab.write_csv(dir, { a = { 1 } })
    assert.is_nil(ok)
    assert.truthy(msg:find("write_csv: cannot write " .. dir, 1, true), msg)
    assert.is_false(exists(dir .. ".tmp"))
    assert.is_true(exists(dir .. "/keep"))
    os.execute("rm -r " .. dir)
  end)

  it("raises on misuse, naming write_csv and the field, and writes nothing", function()
    os.remove(path)
    raises(function() ab.write_csv(path, { a = { 1, 2 }, b = { 1 } }) end, "write_csv", "columns differ in length",
      "'b' has 1")
    raises(function() ab.write_csv(path, {}) end, "write_csv", "empty")
    raises(function() ab.write_csv(path, 3) end, "write_csv", "table")
    raises(function() ab.write_csv(nil, { a = { 1 } }) end, "bad argument #1 to 'write_csv'", "path")
    raises(function() ab.write_csv(path, { a = 1 }) end, "write_csv", "column 'a'")
    raises(function() ab.write_csv(path, { { a = 1 }, { a = {} } }) end, "write_csv", "row 2, column 'a'")
    raises(function() ab.write_csv(path, { a = { 1 } }, {}) end, "bad argument #3 to 'write_csv'", "header")
    assert.is_false(exists(path))
    assert.is_false(exists(path .. ".tmp"))
  end)
end)

local function write(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

describe("read_csv on real logs", function()
  it("skips the columns it is not asked for, whatever they hold", function()
    -- issue 10: any text column used to fail the read, asked for or not
    local p = write('prompt_id,response,proxy,gold,note\n' ..
      'p1,"Sure, here is ""the"" answer\nin two lines",0.5,1,\n' ..
      'p2,,-1.25,2,"quoted"\n')
    local t, rows = ab.read_csv(p, { columns = { "proxy", "gold" } })
    os.remove(p)
    assert.are.equal(2, rows)
    assert.are.same({ 0.5, -1.25 }, t.proxy:totable())
    assert.are.same({ 1, 2 }, t.gold:totable())
    assert.is_nil(t.prompt_id)
  end)

  it("reads text columns as arrays of strings, with RFC 4180 quoting undone", function()
    local rows = {
      { prompt_id = "p1", response = 'say "hi", twice', reward = 0.25 },
      { prompt_id = "p1", response = "two\nlines", reward = -1 },
      { prompt_id = "p2", response = "", reward = 3e-7 },
      { prompt_id = "p3,x", response = "plain", reward = 2 },
    }
    local p = os.tmpname()
    assert(ab.write_csv(p, rows))
    local t, n = ab.read_csv(p, { columns = { "reward" }, text = { "prompt_id", "response" } })
    assert.are.equal(#rows, n)
    assert.are.equal("table", type(t.prompt_id))
    for i, r in ipairs(rows) do
      assert.are.equal(r.prompt_id, t.prompt_id[i])
      assert.are.equal(r.response, t.response[i])
      assert.are.equal(r.reward, t.reward[i])
    end
    -- without columns=: every column that is not text, as numbers
    local all = ab.read_csv(p, { text = { "prompt_id", "response" } })
    assert.are.same(t.reward:totable(), all.reward:totable())
    os.remove(p)
  end)

  it("names the file, the line and the column of a ragged row or an unclosed quote", function()
    local cases = {
      { 'id,r\n"a\nb",1\nc\n', ":4: column 1 ('id'): fewer fields than the header has (2)" },
      { "id,r\na,1,2\n", ":2: column 2 ('r'): more fields than the header has (2)" },
      { 'id,r\na,1\n"b,2\n', ":3: column 1 ('id'): quoted field not closed" },
      { 'id,r\n"a"b,1\n', ":2: column 1 ('id'): text after the closing quote" },
    }
    for _, c in ipairs(cases) do
      local p = write(c[1])
      H.raises(function() return ab.read_csv(p, { columns = { "r" } }) end, "read_csv: " .. p .. c[2])
      os.remove(p)
    end
    -- an empty last field is missing, not the next line's number (strtod
    -- skips line breaks: this read as one row {a = 1, b = 5} before)
    local p = write("a,b\n1,\n5\n")
    H.raises(function() return ab.read_csv(p) end, "read_csv: " .. p .. ":2: column 2 ('b'): missing value")
    os.remove(p)
    p = write("prompt_id,reward\np1,1\n")
    H.raises(function() return ab.read_csv(p, { columns = { "rewrd" } }) end,
      "bad argument #2 to 'read_csv'", "no column named 'rewrd' (the columns are 'prompt_id', 'reward')")
    H.raises(function() return ab.read_csv(p, { text = { "prompt" } }) end, "no column named 'prompt'")
    H.raises(function() return ab.read_csv(p, { columns = { "reward" }, text = { "reward" } }) end,
      "bad argument #2 to 'read_csv'", "column 'reward' requested twice")
    H.raises(function() return ab.read_csv(p, { text = {} }) end, "bad argument #2 to 'read_csv'", "text is empty")
    H.raises(function() return ab.read_csv(p, { text = { 1 } }) end, "text[1] must be a name")
    H.raises(function() return ab.read_csv(p, { fields = { "reward" } }) end, "unknown option 'fields'")
    os.remove(p)
  end)

  it("reads a file larger than its chunks the same as line by line in Lua", function()
    -- 60000 records, some with quoted line breaks, about 2.5 MB: records
    -- cross the reader's 1 MiB chunks
    local rng = ab.rng(7)
    local u = rng:uniform(60000)
    local lines, ids, texts = { "id,x,text" }, {}, {}
    for i = 1, #u do
      ids[i] = "p" .. (i % 1000)
      texts[i] = i % 3 == 0 and ("line " .. i .. "\n\"" .. i .. "\"") or ("t" .. i)
      local quoted = i % 3 == 0 and ('"' .. texts[i]:gsub('"', '""') .. '"') or texts[i]
      lines[#lines + 1] = string.format("%s,%.17g,%s", ids[i], u[i], quoted)
    end
    local p = write(table.concat(lines, "\r\n") .. "\r\n")
    local t, n = ab.read_csv(p, { columns = { "x" }, text = { "id", "text" } })
    os.remove(p)
    assert.are.equal(#u, n)
    local same = true
    for i = 1, n do
      same = same and t.x[i] == u[i] and t.id[i] == ids[i] and t.text[i] == texts[i]
    end
    assert.is_true(same)
  end)
end)

describe("read_jsonl", function()
  it("reads numeric and text fields, nested ones by dotted path, as read_csv does", function()
    local p = write('{"reward": 0.5, "meta": {"prompt_id": "p1", "step": 3}, "gold": 1}\n' ..
      '\n' ..
      '{"meta": {"prompt_id": "p2", "step": 4}, "reward": -2.5e-3, "gold": 2, "extra": [1, {"x": null}]}\r\n' ..
      '{"reward": 7, "gold": 3, "meta": {"prompt_id": 17, "step": 5}}')
    local t, rows = ab.read_jsonl(p, { fields = { "reward", "meta.step" }, text = { "meta.prompt_id" } })
    assert.are.equal(3, rows)
    assert.are.same({ 0.5, -2.5e-3, 7 }, t.reward:totable())
    assert.are.same({ 3, 4, 5 }, t["meta.step"]:totable())
    assert.are.same({ "p1", "p2", "17" }, t["meta.prompt_id"])
    assert.is_nil(t.gold)
    local only = ab.read_jsonl(p, { text = { "meta.prompt_id" } })
    assert.are.same(t["meta.prompt_id"], only["meta.prompt_id"])
    os.remove(p)
  end)

  it("agrees with read_csv on the same log", function()
    local rng = ab.rng(11)
    local u = rng:uniform(3000)
    local csv, jsonl = { "prompt_id,reward" }, {}
    for i = 1, #u do
      local id = "p" .. (i // 16)
      csv[#csv + 1] = string.format("%s,%.17g", id, u[i] - 0.5)
      jsonl[#jsonl + 1] = string.format('{"prompt_id": "%s", "reward": %.17g}', id, u[i] - 0.5)
    end
    local pc, pj = write(table.concat(csv, "\n")), write(table.concat(jsonl, "\n"))
    local a = ab.read_csv(pc, { text = { "prompt_id" } })
    local b = ab.read_jsonl(pj, { fields = { "reward" }, text = { "prompt_id" } })
    os.remove(pc)
    os.remove(pj)
    assert.are.same(a.reward:totable(), b.reward:totable())
    assert.are.same(a.prompt_id, b.prompt_id)
  end)

  it("names the file, the line and the field of bad input, and returns nothing", function()
    local good = '{"prompt_id": "p1", "reward": 1}\n'
    local cases = {
      { good .. '{"prompt_id": "p2", "reward": NaN}\n', ":2: field 'reward' is NaN" },
      { good .. '{"prompt_id": "p2", "reward": Infinity}\n', ":2: field 'reward': not a finite number" },
      { good .. good .. '{"prompt_id": "p2", "reward": 1,}\n', ":3: JSON syntax error at column 33" },
      { good .. '{"prompt_id": "p2", "reward": 1\n', ":2: JSON syntax error: the line ends inside a value" },
      { good .. '{"prompt_id": "p2", "rewrd": 1}\n', ":2: no field 'reward' (the keys are 'prompt_id', 'rewrd')" },
      { good .. '{"prompt_id": "p2", "reward": "1"}\n', ":2: field 'reward' is a string ('1'), not a number" },
      { good .. '{"prompt_id": ["p2"], "reward": 1}\n', ":2: field 'prompt_id' is array, not a string" },
      { good .. '"p2"\n', ":2: a string, not a JSON object" },
    }
    for _, c in ipairs(cases) do
      local p = write(c[1])
      local ok, err = pcall(ab.read_jsonl, p, { fields = { "reward" }, text = { "prompt_id" } })
      os.remove(p)
      assert.is_false(ok)
      assert.truthy(tostring(err):find("read_jsonl: " .. p .. c[2], 1, true), tostring(err))
    end
  end)

  it("raises on misuse and returns nil, message for a file it cannot read", function()
    local t, msg = ab.read_jsonl("/nonexistent/run.jsonl", { fields = { "reward" } })
    assert.is_nil(t)
    assert.truthy(msg:find("/nonexistent/run.jsonl", 1, true))
    -- a directory opens, and its read fails: the message says why
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. dir))
    t, msg = ab.read_jsonl(dir, { fields = { "reward" } })
    assert.is_nil(t)
    assert.truthy(msg:find(dir .. ": Is a directory", 1, true), msg)
    t, msg = ab.read_csv(dir)
    assert.is_nil(t)
    assert.truthy(msg:find(dir .. ": Is a directory", 1, true), msg)
    os.execute("rmdir " .. dir)
    H.raises(function() return ab.read_jsonl("x.jsonl") end, "bad argument #2 to 'read_jsonl'", "{fields=, text=}")
    H.raises(function() return ab.read_jsonl("x.jsonl", {}) end, "bad argument #2 to 'read_jsonl'",
      "no fields requested")
    H.raises(function() return ab.read_jsonl("x.jsonl", { fields = { "a" }, text = { "a" } }) end,
      "bad argument #2 to 'read_jsonl'", "field 'a' requested twice")
    H.raises(function() return ab.read_jsonl("x.jsonl", { columns = { "a" } }) end, "unknown option 'columns'")
  end)
end)

describe("readers on what a fuzzer found", function()
  local function read_err(f, ...)
    local ok, err = pcall(f, ...)
    assert.is_false(ok)
    return tostring(err)
  end

  it("read a header of 10^5 columns in linear time", function()
    -- plan() looked each name up by scanning the header and scanned it again
    -- for a repeat: 32000 columns took 5.8 s, 10^5 over 120 s (now ~0.3 s)
    local n = 100000
    local names, values, kv = {}, {}, {}
    for i = 1, n do
      names[i] = "c" .. i
      values[i] = tostring(i)
      kv[i] = string.format('"c%d":%d', i, i)
    end
    local p = write(table.concat(names, ",") .. "\n" .. table.concat(values, ",") .. "\n")
    local pj = write("{" .. table.concat(kv, ",") .. "}\n")
    local t0 = os.clock()
    local all, rows = ab.read_csv(p)
    local some = ab.read_csv(p, { columns = names })
    local j = ab.read_jsonl(pj, { fields = names })
    local took = os.clock() - t0
    os.remove(p)
    os.remove(pj)
    assert.are.equal(1, rows)
    assert.are.equal(n, all["c" .. n][1])
    assert.are.equal(77777, some.c77777[1])
    assert.are.equal(31, j.c31[1])
    assert.is_true(took < 5, "three reads of 10^5 columns took " .. took .. " s")
  end)

  it("stop at the first NUL byte, naming file and line", function()
    -- /dev/zero used to be buffered until memory ran out
    local err = read_err(ab.read_csv, "/dev/zero")
    assert.truthy(err:find("/dev/zero:1: column 1: NUL byte", 1, true), err)
    err = read_err(ab.read_jsonl, "/dev/zero", { fields = { "a" } })
    assert.truthy(err:find("/dev/zero:1: NUL byte at column 1", 1, true), err)
    -- a NUL inside a quoted field (it was text holding a NUL) and after an
    -- opening quote (it was read to the end of the file)
    for _, text in ipairs { 'a\n1\n"x\0y"\n', 'a\n1\n"' .. ("\0"):rep(100) } do
      local p = write(text)
      err = read_err(ab.read_csv, p, { text = { "a" } })
      os.remove(p)
      assert.truthy(err:find(p .. ":3: column 1 ('a'): NUL byte in a field", 1, true), err)
    end
    local p = write("a\n1\n\t\0\n")
    err = read_err(ab.read_csv, p)
    os.remove(p)
    assert.truthy(err:find(p .. ":3: column 1 ('a'): NUL byte in a field", 1, true), err)
    p = write('{"a": 1}\n{"a": 2}\0\n')
    err = read_err(ab.read_jsonl, p, { fields = { "a" } })
    os.remove(p)
    assert.truthy(err:find(p .. ":2: NUL byte at column 9", 1, true), err)
  end)

  it("read_jsonl keeps integers beyond 64 bits: numbers as doubles, ids as their digits", function()
    -- json-c clamps them: 10^20 read as 2^64 - 1, and two ids merged
    local p = write('{"r": 100000000000000000000, "id": 100000000000000000000, "m": {"id": 7}}\n' ..
      '{"r": -100000000000000000000, "id": 18446744073709551615, "m": {"id": 7}}\n' ..
      '{"r": 18446744073709551615, "id": -9223372036854775808, "m": {"id": 7}}\n' ..
      '{"r": 1, "id": "\\"1\\" 123456789012345678901234", "m": {"id": -123456789012345678901234}}\n')
    local t, n = ab.read_jsonl(p, { fields = { "r" }, text = { "id", "m.id" } })
    os.remove(p)
    assert.are.equal(4, n)
    assert.are.same({ 1e20, -1e20, 18446744073709551615.0, 1 }, t.r:totable())
    assert.are.same({ "100000000000000000000", "18446744073709551615", "-9223372036854775808",
      '"1" 123456789012345678901234' }, t.id)
    assert.are.equal("-123456789012345678901234", t["m.id"][4])
  end)

  it("read_csv treats a whitespace-only line as a row, whichever columns are read", function()
    -- strtod skipped the tab and the line end: the next line's number was
    -- read, so the answer depended on the columns asked for
    local p = write("a,b\n0,1\n\t\n0,1\n")
    for _, opts in ipairs { {}, { columns = { "a" } }, { columns = { "b" } }, { text = { "a" } } } do
      local err = read_err(ab.read_csv, p, opts)
      assert.truthy(err:find(p .. ":3: column 1 ('a'): ", 1, true), err)
    end
    os.remove(p)
    for _, line in ipairs { "\t", " ", "\t \t" } do
      p = write("a\n0\n" .. line .. "\n1\n")
      local err = read_err(ab.read_csv, p)
      assert.truthy(err:find(p .. ":3: column 1 ('a'): missing value", 1, true), err)
      local t, n = ab.read_csv(p, { text = { "a" } })
      os.remove(p)
      assert.are.equal(3, n)
      -- spaces around an unquoted field are dropped, tabs are its text
      assert.are.same({ "0", (line:gsub("^ +", ""):gsub(" +$", "")), "1" }, t.a)
    end
    -- an empty line is no row
    p = write("a\n0\n\n1\n")
    local t, n = ab.read_csv(p, { text = { "a" } })
    os.remove(p)
    assert.are.equal(2, n)
    assert.are.same({ "0", "1" }, t.a)
  end)

  it("refuse a path or a name holding a NUL byte", function()
    local p = write("a\n1\n")
    H.raises(function() return ab.read_csv(p .. "\0junk") end, "bad argument #1 to 'read_csv'", "NUL")
    H.raises(function() return ab.read_csv(p, { columns = { "a\0x" } }) end,
      "bad argument #2 to 'read_csv'", "columns[1] contains a NUL byte")
    H.raises(function() return ab.read_csv(p, { text = { "a", "b\0" } }) end,
      "bad argument #2 to 'read_csv'", "text[2] contains a NUL byte")
    H.raises(function() return ab.read_jsonl(p .. "\0", { fields = { "a" } }) end, "bad argument #1 to 'read_jsonl'")
    H.raises(function() return ab.read_jsonl(p, { fields = { "a\0" } }) end,
      "bad argument #2 to 'read_jsonl'", "fields[1] contains a NUL byte")
    os.remove(p)
  end)

  it("read_csv refuses hexadecimal numbers, as read_jsonl does", function()
    for _, v in ipairs { "0x10", "0x1p3", "-0X1", '"0x10"', " +0x2 " } do
      local p = write("a,b\n1,2\n3," .. v .. "\n")
      local err = read_err(ab.read_csv, p)
      os.remove(p)
      assert.truthy(err:find(p .. ":3: column 2 ('b'): a hexadecimal number", 1, true), err)
    end
  end)

  it("read_jsonl says what a line holds when it is not an object", function()
    local cases = { { "[1,2]", "an array" }, { "1", "an integer" }, { "-1.5e3", "a number" },
      { "true", "a boolean" }, { "null", "null" }, { '"x"', "a string" } }
    for _, c in ipairs(cases) do
      local p = write('{"a": 1}\n' .. c[1] .. "\n")
      local err = read_err(ab.read_jsonl, p, { fields = { "a" } })
      os.remove(p)
      assert.truthy(err:find(p .. ":2: " .. c[2] .. ", not a JSON object", 1, true), err)
    end
  end)

  it("cap the names a missing column's message lists", function()
    local names, kv = {}, {}
    for i = 1, 100 do
      names[i] = "c" .. i
      kv[i] = string.format('"c%d":%d', i, i)
    end
    local long = ("x"):rep(3000)
    names[2], kv[2] = long, '"' .. long .. '":2'
    local p = write(table.concat(names, ",") .. "\n" .. table.concat(names, ",") .. "\n")
    local pj = write("{" .. table.concat(kv, ",") .. "}\n")
    local e1 = read_err(ab.read_csv, p, { columns = { "nope" } })
    local e2 = read_err(ab.read_jsonl, pj, { fields = { "nope" } })
    os.remove(p)
    os.remove(pj)
    for _, err in ipairs { e1, e2 } do
      assert.truthy(err:find("'c1', '" .. ("x"):rep(64) .. "...', 'c3', ", 1, true), err)
      assert.truthy(err:find("'c20', ... (100 in all))", 1, true), err)
      assert.falsy(err:find("'c21'", 1, true), err)
    end
  end)
end)

describe("README reading real logs", function()
  it("prints what its example says", function()
    local f = assert(io.open("README.md"))
    local text = f:read("a")
    f:close()
    local code = text:match("%*%*Reading real logs%.%*%*.-```lua\n(.-)```")
    assert.truthy(code, "no example")
    local printed = {}
    local env = setmetatable({ print = function(...)
      local parts = {}
      for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
      printed[#printed + 1] = table.concat(parts, "  ")
    end }, { __index = _G })
    assert(load(code, "README", "t", env))()
    local k = 0
    for shown in code:gmatch("%-%-> ([^\n]*)") do
      k = k + 1
      assert.are.equal((shown:gsub("%s*%(.*%)$", "")), printed[k])
    end
    assert.are.equal(2, k)
  end)
end)
