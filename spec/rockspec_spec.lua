-- The rockspec builds the same module as the Makefile: it must list every C
-- source of core/ and lua_bindings/ (a file missing there builds a module
-- that fails to load only after `luarocks make`).
describe("rockspec", function()
  it("lists every C source of the core and the bindings, and nothing else", function()
    local f = assert(io.open("rockspec/alignbound-scm-1.rockspec"))
    local text = f:read("a")
    f:close()
    local listed = {}
    for path in text:gmatch('"([%w_/]+%.c)"') do listed[path] = true end
    local found = {}
    for _, dir in ipairs { "core", "lua_bindings" } do
      local p = assert(io.popen("ls " .. dir .. "/*.c"))
      for path in p:lines() do found[path] = true end
      p:close()
    end
    for path in pairs(found) do assert.is_true(listed[path] ~= nil, path .. " is not in the rockspec") end
    for path in pairs(listed) do assert.is_true(found[path] ~= nil, path .. " is in the rockspec but not on disk") end
  end)
end)

describe("rockspec Lua modules", function()
  it("installs every module of lua_bindings/alignbound under its name, and nothing else", function()
    local f = assert(io.open("rockspec/alignbound-scm-1.rockspec"))
    local text = f:read("a")
    f:close()
    local listed = {}
    for name, path in text:gmatch('%["([%w_.]+)"%]%s*=%s*"([%w_/]+%.lua)"') do listed[path] = name end
    local found = {}
    local p = assert(io.popen("ls lua_bindings/alignbound/*.lua"))
    for path in p:lines() do found[path] = true end
    p:close()
    for path in pairs(found) do
      local base = path:match("([%w_]+)%.lua$")
      local want = base == "init" and "alignbound" or "alignbound." .. base
      assert.are.equal(want, listed[path], path .. " is not installed as " .. want)
    end
    for path in pairs(listed) do assert.is_true(found[path] ~= nil, path .. " is in the rockspec but not on disk") end
  end)
end)
