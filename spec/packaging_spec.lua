-- What `make` builds for linking: the shared core library carries the
-- version of ab.version (file name and SONAME), and the static Lua bindings
-- hold the openers of alignbound_lua.h.  make test-install (in .ci/run)
-- builds and runs static hosts against an installed copy.
local ab = require "alignbound"

local build = os.getenv("BUILD") or "build"

local function run(cmd)
  local p = assert(io.popen(cmd .. " 2>/dev/null"))
  local out = p:read("a")
  p:close()
  return out
end

describe("libraries", function()
  it("the shared core library is libalignbound.so.VERSION with SONAME libalignbound.so.MAJOR", function()
    local so = build .. "/libalignbound.so." .. ab.version
    if not io.open(so) then return pending("needs " .. so .. " (make builds it)") end
    local major = ab.version:match("^(%d+)%.")
    assert.truthy(major)
    assert.truthy(run("readelf -d " .. so):find("Library soname: [libalignbound.so." .. major .. "]", 1, true))
    -- the development link points at it
    assert.are.equal("libalignbound.so." .. ab.version, run("readlink " .. build .. "/libalignbound.so"):match("%S+"))
  end)

  it("the static Lua bindings define the openers of alignbound_lua.h and the compiled-in front", function()
    local a = build .. "/libalignbound_lua.a"
    if not io.open(a) then return pending("needs " .. a .. " (make builds it)") end
    local syms = run("nm -g --defined-only " .. a)
    for _, name in ipairs { "luaopen_alignbound_core", "luaopen_alignbound", "alignbound_preload", "abL_front" } do
      assert.truthy(syms:find("%u " .. name .. "\n"), name .. " is not defined")
    end
    -- the header declares each opener
    local f = assert(io.open("lua_bindings/alignbound_lua.h"))
    local h = f:read("a")
    f:close()
    for _, decl in ipairs { "int luaopen_alignbound_core(struct lua_State *L);",
      "int luaopen_alignbound(struct lua_State *L);", "void alignbound_preload(struct lua_State *L);" } do
      assert.truthy(h:find(decl, 1, true), decl)
    end
  end)
end)
