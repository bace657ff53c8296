// cpp_host.cpp - a C++ host linked statically against an installed
// alignbound (pkg-config --static alignbound-lua, see install_test.sh): the
// C API from C++ (extern "C" in the headers: a missing guard fails to link),
// with its objects owned by unique_ptr, and the whole Lua module opened with
// no file on disk.
#include <lua.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "alignbound.h"
#include "alignbound_lua.h"
#include "check.h"

namespace {

struct tail_free {
  void operator()(ab_tail *t) const { ab_tail_free(t); }
};
using tail_ptr = std::unique_ptr<ab_tail, tail_free>;

tail_ptr gaussian(double mean, double sd) {
  ab_tail *t = nullptr;
  return tail_ptr(ab_tail_gaussian(mean, sd, &t) == AB_OK ? t : nullptr);
}

}  // namespace

int main() {
  ab_init();
  CHECK(std::strcmp(ab_version(), AB_VERSION) == 0);

  // the exact Gaussian gain sd sqrt(2 kl), through the C API
  tail_ptr t = gaussian(1.0, 2.0);
  CHECK(t != nullptr);
  std::vector<double> kls{0.0, 0.125, 0.5, 2.0}, gains(kls.size());
  for (std::size_t i = 0; i < kls.size(); i++) {
    CHECK(ab_tail_bound(t.get(), AB_GAIN, AB_CLOSED, kls[i], &gains[i]) == AB_OK);
    CHECK_CLOSE(gains[i] + 1.0, 2.0 * std::sqrt(2.0 * kls[i]) + 1.0, 1e-15);
  }
  CHECK(std::strcmp(ab_strerror(AB_EDOM), ab_strerror(AB_OK)) != 0);
  ab_tail *bad = nullptr;
  CHECK(ab_tail_gaussian(0.0, -1.0, &bad) == AB_EDOM);

  // the module, opened from the compiled-in front
  lua_State *L = luaL_newstate();
  CHECK(L != nullptr);
  if (!L) return check_report("cpp_host");
  luaL_openlibs(L);
  lua_getglobal(L, "package");
  lua_pushliteral(L, "");
  lua_setfield(L, -2, "path");
  lua_pushliteral(L, "");
  lua_setfield(L, -2, "cpath");
  lua_pop(L, 1);
  luaL_requiref(L, "alignbound", luaopen_alignbound, 0);
  lua_pop(L, 1);
  int st = luaL_dostring(L,
                         "local ab = require 'alignbound'\n"
                         "return ab.tail.gaussian { mean = 1, sd = 2 }:gain(0.5), "
                         "ab.scenario ~= nil and ab.plot ~= nil");
  CHECK(st == LUA_OK);
  if (st == LUA_OK) {
    CHECK(lua_tonumber(L, -2) == gains[2]);
    CHECK(lua_toboolean(L, -1));
  } else {
    std::fprintf(stderr, "cpp_host: %s\n", lua_tostring(L, -1));
  }
  lua_close(L);
  return check_report("cpp_host");
}
