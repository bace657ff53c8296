/* module.c - luaopen_alignbound_core: opens the module, each topic file
 * registering its own functions (binding.h lists them). */
#include "binding.h"

int luaopen_alignbound_core(lua_State *L) {
  ab_init();
  lua_newtable(L);
  lua_pushstring(L, ab_version());
  lua_setfield(L, -2, "version");
  lua_pushnumber(L, AB_PROB_TOL);
  lua_setfield(L, -2, "prob_tolerance");
  lua_pushinteger(L, AB_BOOT_RESAMPLES);
  lua_setfield(L, -2, "boot_resamples");
  /* each topic registers its own functions and types; none depends on
   * another having been opened first */
  abL_open_bon(L);
  abL_open_divergences(L);
  abL_open_estimate(L);
  abL_open_fit(L);
  abL_open_golden(L);
  abL_open_grpo(L);
  abL_open_prompts(L);
  abL_open_renyi(L);
  abL_open_rng(L);
  abL_open_rules(L);
  abL_open_table(L);
  abL_open_tail(L);
  abL_open_terminal(L);
  abL_open_tilt(L);
  abL_open_vector(L);
  return 1;
}
