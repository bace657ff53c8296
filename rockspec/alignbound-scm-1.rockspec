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
}
build = {
  type = "builtin",
  modules = {
    ["alignbound"] = "lua_bindings/alignbound/init.lua",
    ["alignbound.io"] = "lua_bindings/alignbound/io.lua",
    ["alignbound.plot"] = "lua_bindings/alignbound/plot.lua",
    ["alignbound.policy"] = "lua_bindings/alignbound/policy.lua",
    ["alignbound.prompts"] = "lua_bindings/alignbound/prompts.lua",
    ["alignbound.scenario"] = "lua_bindings/alignbound/scenario.lua",
    ["alignbound.shard"] = "lua_bindings/alignbound/shard.lua",
    ["alignbound.core"] = {
      sources = {
        "core/bon.c", "core/budgets.c", "core/csv.c", "core/discrete.c", "core/divergences.c", "core/frontier.c",
        "core/estimate.c", "core/fit.c", "core/golden.c", "core/laws.c", "core/numeric.c", "core/prompts.c", "core/renyi.c", "core/rules.c", "core/sample.c", "core/sort.c", "core/status.c",
        "core/tails.c", "core/tilt.c",
        "lua_bindings/bon.c", "lua_bindings/divergences.c", "lua_bindings/estimate.c", "lua_bindings/fit.c", "lua_bindings/golden.c",
        "lua_bindings/module.c", "lua_bindings/prompts.c", "lua_bindings/renyi.c", "lua_bindings/rules.c", "lua_bindings/sample.c", "lua_bindings/tails.c",
        "lua_bindings/terminal.c", "lua_bindings/tilt.c", "lua_bindings/vector.c",
      },
      defines = {},
      incdirs = { "core", "lua_bindings", "$(GSL_INCDIR)" },
      libdirs = { "$(GSL_LIBDIR)" },
      libraries = { "gsl", "gslcblas", "m" },
    },
  },
}
