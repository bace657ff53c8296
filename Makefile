# alignbound - build, test, demo, bench, install, doc.
# `make` builds the core library (static, and shared with a SONAME), the Lua
# module (core.so) and the static Lua bindings with the Lua front compiled
# in (libalignbound_lua.a).

LUA        ?= lua5.4
LUA_INC    ?= $(shell pkg-config --cflags lua5.4 2>/dev/null || echo -I/usr/include/lua5.4)
GSL_LIBS   ?= $(shell gsl-config --libs 2>/dev/null || echo -lgsl -lgslcblas -lm)
GSL_INC    ?=
# json-c parses the lines of ab_jsonl_read (core/jsonl.c)
JSON_LIBS  ?= $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)
CORE_LIBS   = $(GSL_LIBS) $(JSON_LIBS)
CC         ?= cc
CXX        ?= c++
OPT        ?= -O2
WARN       ?= -Wall -Wextra -pedantic
# -ffp-contract=off: no fused multiply-adds that the source does not ask
# for, so results are the same bits at every optimisation level, with gcc
# and clang, with or without -march=native (README, "Reproducible numbers").
FP         ?= -ffp-contract=off
CFLAGS     += -std=c11 $(OPT) $(WARN) $(FP) -fPIC -Icore $(GSL_INC)
BUILD      ?= build
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
LUA_LIBDIR ?= $(PREFIX)/lib/lua/5.4
LUA_SHARE  ?= $(PREFIX)/share/lua/5.4

# The version is AB_VERSION in core/alignbound.h (ab.version in Lua); the
# shared library's SONAME carries its first number.
VERSION   := $(shell sed -n 's/^\#define AB_VERSION "\([0-9.]*\)".*/\1/p' core/alignbound.h)
SOVERSION := $(firstword $(subst ., ,$(VERSION)))
SONAME     = libalignbound.so.$(SOVERSION)

CORE_SRC = $(wildcard core/*.c)
BIND_SRC = $(wildcard lua_bindings/*.c)
FRONT    = $(sort $(wildcard lua_bindings/alignbound/*.lua))
CORE_OBJ = $(CORE_SRC:core/%.c=$(BUILD)/core/%.o)
BIND_OBJ = $(BIND_SRC:lua_bindings/%.c=$(BUILD)/lua_bindings/%.o)
STATIC_OBJ = $(BUILD)/lua_bindings/static/preload.o $(BUILD)/lua_bindings/static/front.o
HEADERS  = $(wildcard core/*.h) lua_bindings/binding.h lua_bindings/alignbound_lua.h

DEBIAN_PACKAGES = lua5.4 liblua5.4-dev libgsl-dev lua-busted luarocks \
                  lua-check lua-ldoc valgrind pkg-config gnuplot-nox libjson-c-dev parallel
# what `make fuzz` and `make fuzz-ci` need besides (libFuzzer comes with clang)
FUZZ_PACKAGES   = clang libclang-rt-14-dev
PACKAGES       ?= $(DEBIAN_PACKAGES)

.PHONY: all test test-san test-valgrind test-tsan fuzz fuzz-ci fuzz-build \
        demo bench install uninstall doc env deps check-deps clean \
        test-install test-cxx test-repro rock-install install-module

all: $(BUILD)/libalignbound.a $(BUILD)/libalignbound.so \
     $(BUILD)/alignbound/core.so $(BUILD)/libalignbound_lua.a

$(BUILD)/core/%.o: core/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/lua_bindings/%.o: lua_bindings/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LUA_INC) -c $< -o $@

$(BUILD)/libalignbound.a: $(CORE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/libalignbound.so.$(VERSION): $(CORE_OBJ)
	$(CC) -shared -Wl,-soname,$(SONAME) -o $@ $^ $(CORE_LIBS) $(LDFLAGS)

$(BUILD)/libalignbound.so: $(BUILD)/libalignbound.so.$(VERSION)
	ln -sf libalignbound.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf libalignbound.so.$(VERSION) $@

$(BUILD)/alignbound/core.so: $(BIND_OBJ) $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $^ $(CORE_LIBS) $(LDFLAGS)

# The Lua front compiled in: its sources as C arrays (embed.sh), registered
# as package.preload loaders by alignbound_preload (static/preload.c).
$(BUILD)/lua_bindings/static/front.c: $(FRONT) lua_bindings/static/embed.sh
	@mkdir -p $(dir $@)
	sh lua_bindings/static/embed.sh $@ $(FRONT)

$(BUILD)/lua_bindings/static/front.o: $(BUILD)/lua_bindings/static/front.c lua_bindings/static/front.h
	$(CC) $(CFLAGS) -Ilua_bindings/static -c $< -o $@

$(BUILD)/lua_bindings/static/preload.o: lua_bindings/static/preload.c lua_bindings/static/front.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LUA_INC) -Ilua_bindings -Ilua_bindings/static -c $< -o $@

$(BUILD)/libalignbound_lua.a: $(BIND_OBJ) $(STATIC_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# C-level tests: the core with no Lua, and an embedding host that links the
# core and the module statically and opens them with luaL_requiref.
$(BUILD)/core_test: spec/c/core_test.c $(BUILD)/libalignbound.a
	$(CC) $(CFLAGS) -Ispec/c $< -o $@ $(BUILD)/libalignbound.a $(CORE_LIBS) -lpthread $(LDFLAGS)

$(BUILD)/host: spec/c/host.c $(BIND_OBJ) $(BUILD)/libalignbound.a
	$(CC) $(CFLAGS) $(LUA_INC) -Ilua_bindings -Ispec/c $< $(BIND_OBJ) -o $@ $(BUILD)/libalignbound.a \
	  -llua5.4 $(CORE_LIBS) $(LDFLAGS)

# The static host of make test-install, linked against the build tree's
# libraries: the whole module from libalignbound_lua.a, no file read.
$(BUILD)/static_host: spec/c/static_host.c $(BUILD)/libalignbound_lua.a $(BUILD)/libalignbound.a
	$(CC) $(CFLAGS) $(LUA_INC) -Ilua_bindings -Ispec/c $< -o $@ $(BUILD)/libalignbound_lua.a \
	  $(BUILD)/libalignbound.a -llua5.4 $(CORE_LIBS) $(LDFLAGS)

# Environment for the in-tree build: eval "$(make -s env)"
env:
	@echo 'export LUA_PATH_5_4="$(CURDIR)/lua_bindings/?.lua;$(CURDIR)/lua_bindings/?/init.lua;;"'
	@echo 'export LUA_CPATH_5_4="$(CURDIR)/$(BUILD)/?.so;;"'

INTREE = LUA_PATH_5_4="$(CURDIR)/lua_bindings/?.lua;$(CURDIR)/lua_bindings/?/init.lua;;" \
         LUA_CPATH_5_4="$(CURDIR)/$(BUILD)/?.so;;"

check-deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then $(MAKE) -s deps; fi

deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "deps: run as root: apt-get update && apt-get install -y$$missing"; exit 1; fi

test: check-deps
	@$(MAKE) -s all $(BUILD)/core_test $(BUILD)/host $(BUILD)/static_host
	@$(INTREE) BUILD=$(BUILD) LUA=$(LUA) sh spec/run_all.sh

# The same tests with AddressSanitizer + UndefinedBehaviorSanitizer: the C
# tests are instrumented whole; the specs run in the stock lua5.4 with the
# sanitizer runtimes preloaded (leak checking there would report the
# interpreter's own allocations, so it is on for the C tests only).
SAN = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
      -fno-sanitize-recover=all
test-san: check-deps
	@$(MAKE) -s BUILD=build-san OPT="$(SAN)" LDFLAGS="-fsanitize=address,undefined" \
	  all build-san/core_test build-san/host build-san/static_host
	@LUA_PATH_5_4="$(CURDIR)/lua_bindings/?.lua;$(CURDIR)/lua_bindings/?/init.lua;;" \
	  LUA_CPATH_5_4="$(CURDIR)/build-san/?.so;;" BUILD=build-san LUA=$(LUA) \
	  SPEC_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	  ASAN_OPTIONS=detect_leaks=1 sh spec/run_all.sh

# The C tests under valgrind's memcheck.
test-valgrind: check-deps
	@$(MAKE) -s all $(BUILD)/core_test $(BUILD)/host $(BUILD)/static_host
	@for t in core_test host static_host; do \
	  valgrind -q --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    $(BUILD)/$$t || exit 1; done

# libFuzzer targets (fuzz/fuzz_*.c) with ASan+UBSan, built with clang into
# build-fuzz/ (fuzz/README).  `make fuzz` runs each for FUZZ_SECONDS (new
# inputs go to build-fuzz/corpus/<target>, the committed seeds in
# fuzz/corpus/<target> are read only); `make fuzz-ci` runs each for a fixed
# number of executions from a fixed seed and fails on any finding (the input
# is saved in build-fuzz/artifacts/; FUZZ_VERBOSE=1 build-fuzz/fuzz_<target>
# <file> prints the calls it makes).
FUZZ_CC      ?= clang
FUZZ_SAN      = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=all
FUZZ_TARGETS  = csv jsonl tail bon divergence lua
FUZZ_SECONDS ?= 60
# fuzz-ci: executions per target (libFuzzer's -runs, seed corpus included),
# about a minute in all on a loaded 2-core machine.  A run is reproducible:
# -seed=1, one process, -reload=0 (no timed re-reads of the corpus
# directory), and fixed addresses: the comparisons libFuzzer traces include
# loop ends on stack addresses, which enter its mutation dictionary, so the
# run has no address randomisation (setarch -R), an empty environment and
# fixed arguments (both lie on the stack); fuzz_lua pins Lua's time-seeded
# string hashes.  The same binary then makes the same run anywhere.
# FUZZ_CI_SECONDS only guards against a hang: a target it stops before its
# run count fails (a run cut short is not the reproducible one).
FUZZ_CI_RUNS    ?= csv=80000 jsonl=80000 tail=2000 bon=12000 divergence=600000 lua=700
FUZZ_CI_SECONDS ?= 180
FUZZ_CI_FLAGS   ?= -seed=1 -reload=0
FUZZ_FLAGS   ?= -timeout=20 -rss_limit_mb=2048 -max_len=1024 -print_final_stats=1

fuzz-build:
	@$(MAKE) -s check-deps PACKAGES="$(DEBIAN_PACKAGES) $(FUZZ_PACKAGES)"
	@$(MAKE) -s BUILD=build-fuzz CC=$(FUZZ_CC) OPT="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
	  build-fuzz/libalignbound.a $(BIND_SRC:lua_bindings/%.c=build-fuzz/lua_bindings/%.o)
	@$(MAKE) -s $(FUZZ_TARGETS:%=build-fuzz/fuzz_%)

build-fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h build-fuzz/libalignbound.a
	$(FUZZ_CC) -std=c11 $(FUZZ_SAN) -fsanitize=fuzzer -Icore -Ifuzz $(LUA_INC) \
	  -DAB_SOURCE_DIR='"$(CURDIR)"' $< $(BIND_SRC:lua_bindings/%.c=build-fuzz/lua_bindings/%.o) \
	  -o $@ build-fuzz/libalignbound.a -llua5.4 $(CORE_LIBS)

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do mkdir -p build-fuzz/corpus/$$t build-fuzz/artifacts; \
	  echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	  build-fuzz/fuzz_$$t $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) \
	    -artifact_prefix=build-fuzz/artifacts/$$t- build-fuzz/corpus/$$t fuzz/corpus/$$t \
	    || exit 1; done

fuzz-ci: fuzz-build
	@norand="setarch $$(uname -m) -R"; $$norand true 2>/dev/null || { norand=; \
	  echo "fuzz-ci: setarch -R refused: addresses are randomised, runs may differ"; }; \
	rc=0; for tr in $(FUZZ_CI_RUNS); do t=$${tr%%=*}; runs=$${tr#*=}; \
	  work=build-fuzz/ci/$$t; rm -rf $$work; mkdir -p $$work build-fuzz/artifacts; start=$$(date +%s); \
	  env -i PATH=/usr/bin:/bin $$norand build-fuzz/fuzz_$$t $(FUZZ_FLAGS) $(FUZZ_CI_FLAGS) -runs=$$runs \
	    -max_total_time=$(FUZZ_CI_SECONDS) -artifact_prefix=build-fuzz/artifacts/$$t- \
	    $$work fuzz/corpus/$$t >$$work.log 2>&1; \
	  st=$$?; execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$work.log); \
	  done_=$$(sed -n 's/^#[0-9]*.DONE *\(cov: [0-9]* ft: [0-9]*\).*/\1/p' $$work.log); \
	  echo "fuzz_$$t: $${execs:-?} executions in $$(( $$(date +%s) - start )) s ($$done_), exit $$st"; \
	  if [ $$st -ne 0 ]; then grep -E 'ERROR|FUZZ_REQUIRE|fuzz_lua:|SUMMARY|#[0-9]+ in |Test unit' $$work.log | head -40; rc=1; \
	  elif [ "$${execs:-0}" -lt $$runs ]; then \
	    echo "fuzz_$$t: stopped by the $(FUZZ_CI_SECONDS) s guard before $$runs executions"; rc=1; fi; \
	  rm -rf $$work $$work.log; done; exit $$rc

# ThreadSanitizer: spec/c/tsan_host.c runs four threads, each with its own
# Lua state, and shares tails across them through the C API; any report is
# fatal.  Everything but GSL and liblua is instrumented.
TSAN = -O1 -g -fno-omit-frame-pointer -fsanitize=thread
test-tsan: check-deps
	@$(MAKE) -s BUILD=build-tsan OPT="$(TSAN)" build-tsan/libalignbound.a \
	  $(BIND_SRC:lua_bindings/%.c=build-tsan/lua_bindings/%.o)
	@$(CC) $(CFLAGS) $(TSAN) $(LUA_INC) -Ispec/c spec/c/tsan_host.c \
	  $(BIND_SRC:lua_bindings/%.c=build-tsan/lua_bindings/%.o) -o build-tsan/tsan_host \
	  build-tsan/libalignbound.a -llua5.4 $(CORE_LIBS) -fsanitize=thread -lpthread
	@TSAN_OPTIONS="halt_on_error=1 exitcode=66 $(TSAN_OPTIONS)" build-tsan/tsan_host

demo: check-deps
	@$(MAKE) -s all
	@$(INTREE) $(LUA) scripts/paper_report.lua

bench: check-deps
	@$(MAKE) -s all $(BUILD)/bench_baseline
	@$(INTREE) $(LUA) bench/bench.lua $(BUILD)/bench_baseline

$(BUILD)/bench_baseline: bench/baseline.c
	$(CC) $(CFLAGS) $< -o $@ $(GSL_LIBS)

doc:
	ldoc -d doc/api -c config.ld .

# make install [PREFIX=/usr/local] [DESTDIR=]: the header files, both
# libraries (the shared one as libalignbound.so.VERSION with its SONAME and
# development links), the static Lua bindings, the pkg-config files
# alignbound (the core; GSL for --static) and alignbound-lua (the static Lua
# bindings, on alignbound and lua5.4) written for PREFIX, and the Lua module
# (core.so and the front).  make uninstall removes exactly these.
INSTALLED_LIBS = libalignbound.a libalignbound_lua.a libalignbound.so.$(VERSION) \
                 $(SONAME) libalignbound.so
install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)
	install -m 644 $(BUILD)/libalignbound.a $(BUILD)/libalignbound_lua.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(BUILD)/libalignbound.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libalignbound.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf libalignbound.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libalignbound.so
	install -m 644 core/alignbound.h lua_bindings/alignbound_lua.h $(DESTDIR)$(INCLUDEDIR)/
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
	  'Name: alignbound' \
	  'Description: Information-theoretic limits of LLM alignment (C core)' \
	  'Version: $(VERSION)' 'Requires.private: gsl, json-c' \
	  'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -lalignbound' 'Libs.private: -lm -lpthread' \
	  >$(DESTDIR)$(LIBDIR)/pkgconfig/alignbound.pc
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
	  'Name: alignbound-lua' \
	  'Description: alignbound for Lua 5.4 hosts: the static module with its Lua front' \
	  'Version: $(VERSION)' 'Requires: alignbound = $(VERSION), lua5.4' \
	  'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -lalignbound_lua' \
	  >$(DESTDIR)$(LIBDIR)/pkgconfig/alignbound-lua.pc
	@$(MAKE) -s install-module MODULE_SO=$(BUILD)/alignbound/core.so

# The Lua module alone (what the rockspec installs, through rock-install).
install-module:
	install -d $(DESTDIR)$(LUA_LIBDIR)/alignbound $(DESTDIR)$(LUA_SHARE)/alignbound
	install -m 755 $(MODULE_SO) $(DESTDIR)$(LUA_LIBDIR)/alignbound/core.so
	install -m 644 $(FRONT) $(DESTDIR)$(LUA_SHARE)/alignbound/

uninstall:
	rm -f $(INSTALLED_LIBS:%=$(DESTDIR)$(LIBDIR)/%) \
	  $(DESTDIR)$(INCLUDEDIR)/alignbound.h $(DESTDIR)$(INCLUDEDIR)/alignbound_lua.h \
	  $(DESTDIR)$(LIBDIR)/pkgconfig/alignbound.pc $(DESTDIR)$(LIBDIR)/pkgconfig/alignbound-lua.pc \
	  $(DESTDIR)$(LUA_LIBDIR)/alignbound/core.so $(FRONT:lua_bindings/%=$(DESTDIR)$(LUA_SHARE)/%)
	-rmdir $(DESTDIR)$(LUA_LIBDIR)/alignbound $(DESTDIR)$(LUA_SHARE)/alignbound 2>/dev/null

# luarocks (rockspec/, build type make): builds the module in a temporary
# directory and installs it, so that nothing is written in the source tree.
rock-install:
	@tmp=$$(mktemp -d) && { $(MAKE) -s BUILD=$$tmp $$tmp/alignbound/core.so && \
	  $(MAKE) -s install-module MODULE_SO=$$tmp/alignbound/core.so; st=$$?; \
	  rm -rf $$tmp; exit $$st; }

# An install into a temporary DESTDIR, then a C host and a C++ host built
# against it with pkg-config --static, linked statically (-static: not even
# the C library is shared), run with the install gone from every path but
# the binaries; then make uninstall must leave no file behind.
test-install: all
	@sh spec/c/install_test.sh "$(MAKE)" "$(CC)" "$(CXX)" "$(VERSION)" "$(SONAME)"

# The bindings compile as C++ too (g++ -x c++), and the public headers
# under -Wall -Wextra -pedantic from C++.
test-cxx:
	@for f in $(BIND_SRC) lua_bindings/static/preload.c; do \
	  $(CXX) -x c++ -std=c++11 -fsyntax-only -Wall -Wextra -Wno-missing-field-initializers -Werror -Icore -Ilua_bindings \
	    -Ilua_bindings/static $(LUA_INC) $$f || exit 1; done
	@echo '#include "alignbound.h"' | $(CXX) -x c++ -std=c++11 -fsyntax-only -Wall -Wextra \
	  -pedantic -Werror -Icore -
	@echo "test-cxx: $(words $(BIND_SRC) x) binding files compile as C++"

# The same table of results (spec/c/repro.c) from gcc and clang at -O0 to
# -O3, with and without -march=native, must agree to the bit.  Without
# -ffp-contract=off clang fuses a * b + c into an FMA where the CPU has one
# (make test-repro FP=: 133 of 1048 results differ on an AVX2 machine), and
# so does gcc in GNU C modes (FP=-std=gnu11: 113 differ).
REPRO_BUILDS ?= gcc:-O0 gcc:-O3_-march=native clang:-O2 clang:-O2_-march=native
test-repro:
	@MAKE="$(MAKE)" sh spec/c/repro_test.sh "$(REPRO_BUILDS)" "$(CORE_LIBS)"

# Everything a build, test, demo or bench wrote (the luarocks build writes
# nothing here: rock-install).
clean:
	rm -rf $(BUILD) build build-san build-fuzz build-tsan build-werror build-repro doc/api out \
	  luarocks-tree
	-rmdir doc 2>/dev/null || true
