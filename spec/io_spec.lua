-- ab.write_csv: exact numbers, RFC 4180 quoting, whole-or-nothing writes,
-- misuse raised, unwritable paths returned as nil, message.
local ab = require "alignbound"
local helper = require "helper"
local raises = helper.raises

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
