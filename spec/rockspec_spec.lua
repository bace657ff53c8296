-- The rockspec builds the module with the Makefile (build type make, target
-- rock-install), so there is no second list of sources to keep in step, and
-- the build happens in a temporary directory, not in the source tree.
local function read(path)
  local f = assert(io.open(path))
  local text = f:read("a")
  f:close()
  return text
end

describe("rockspec", function()
  local spec = {}
  assert(load(read("rockspec/alignbound-scm-1.rockspec"), "rockspec", "t", spec))()

  it("builds with the Makefile's rock-install target, not from a list of sources", function()
    assert.are.equal("make", spec.build.type)
    assert.is_false(spec.build.build_pass)
    assert.are.equal("rock-install", spec.build.install_target)
    assert.is_nil(spec.build.modules)
    assert.is_nil(read("rockspec/alignbound-scm-1.rockspec"):find("%.c\""), "a C source is listed")
    local makefile = read("Makefile")
    assert.truthy(makefile:find("\nrock%-install:"), "no rock-install target")
    -- the module's install directories come from luarocks
    assert.are.equal("$(LIBDIR)", spec.build.variables.LUA_LIBDIR)
    assert.are.equal("$(LUADIR)", spec.build.variables.LUA_SHARE)
  end)

  it("installs every module of the Lua front: the Makefile takes lua_bindings/alignbound/*.lua whole", function()
    local makefile = read("Makefile")
    assert.truthy(makefile:find("FRONT%s*=%s*%$%(sort %$%(wildcard lua_bindings/alignbound/%*%.lua%)%)"))
    assert.truthy(makefile:find("install %-m 644 %$%(FRONT%) %$%(DESTDIR%)%$%(LUA_SHARE%)/alignbound/"))
  end)
end)
