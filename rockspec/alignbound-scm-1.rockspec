rockspec_format = "3.0"
package = "alignbound"
version = "scm-1"
source = {
  url = "git+file://.",
}
description = {
  summary = "Information-theoretic limits of LLM alignment: KL-constrained reward gain bounds",
  detailed = [[
    How much reward can an aligned policy gain over its reference policy for a
    given KL budget, under a tail assumption on the reward?  A Lua 5.4 module
    on a C core that uses GNU GSL.
  ]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.4",
}
external_dependencies = {
  GSL = {
    header = "gsl/gsl_sf_hyperg.h",
    library = "gsl",
  },
  JSONC = {
    header = "json-c/json_tokener.h",
    library = "json-c",
  },
}
-- The Makefile builds the module (one build description for make and
-- luarocks): its rock-install target compiles in a temporary directory and
-- installs core.so and the Lua front, so that nothing is written in the
-- source tree.
build = {
  type = "make",
  build_pass = false,
  install_target = "rock-install",
  -- for both passes (build_pass is off); luarocks' CFLAGS become the
  -- optimisation flags, the Makefile adds its own (-std=c11, -ffp-contract=off)
  variables = {
    OPT = "$(CFLAGS)",
    LUA_LIBDIR = "$(LIBDIR)",
    LUA_SHARE = "$(LUADIR)",
    LUA_INC = "-I$(LUA_INCDIR)",
    GSL_INC = "-I$(GSL_INCDIR) -I$(JSONC_INCDIR)",
    GSL_LIBS = "-L$(GSL_LIBDIR) -lgsl -lgslcblas -lm",
    JSON_LIBS = "-L$(JSONC_LIBDIR) -ljson-c",
  },
}
