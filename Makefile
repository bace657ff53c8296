# alignbound - build, test, demo, bench, install, doc.
# `make` builds the core library (static and shared) and the Lua module.

LUA        ?= lua5.4
LUA_INC    ?= $(shell pkg-config --cflags lua5.4 2>/dev/null || echo -I/usr/include/lua5.4)
GSL_LIBS   ?= $(shell gsl-config --libs 2>/dev/null || echo -lgsl -lgslcblas -lm)
CC         ?= cc
OPT        ?= -O2
WARN       ?= -Wall -Wextra -pedantic
CFLAGS     += -std=c11 $(OPT) $(WARN) -fPIC -Icore
BUILD      ?= build
PREFIX     ?= /usr/local
LUA_LIBDIR ?= $(PREFIX)/lib/lua/5.4
LUA_SHARE  ?= $(PREFIX)/share/lua/5.4

CORE_SRC = $(wildcard core/*.c)
BIND_SRC = $(wildcard lua_bindings/*.c)
CORE_OBJ = $(CORE_SRC:core/%.c=$(BUILD)/core/%.o)
BIND_OBJ = $(BIND_SRC:lua_bindings/%.c=$(BUILD)/lua_bindings/%.o)
HEADERS  = $(wildcard core/*.h) lua_bindings/binding.h

DEBIAN_PACKAGES = lua5.4 liblua5.4-dev libgsl-dev lua-busted luarocks \
                  lua-check lua-ldoc valgrind pkg-config gnuplot-nox
# what `make fuzz` and `make fuzz-ci` need besides (libFuzzer comes with clang)
FUZZ_PACKAGES   = clang libclang-rt-14-dev
PACKAGES       ?= $(DEBIAN_PACKAGES)

.PHONY: all test test-san test-valgrind test-tsan fuzz fuzz-ci fuzz-build \
        demo bench install uninstall doc env deps check-deps clean

all: $(BUILD)/libalignbound.a $(BUILD)/libalignbound.so \
     $(BUILD)/alignbound/core.so

$(BUILD)/core/%.o: core/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/lua_bindings/%.o: lua_bindings/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LUA_INC) -c $< -o $@

$(BUILD)/libalignbound.a: $(CORE_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/libalignbound.so: $(CORE_OBJ)
	$(CC) -shared -o $@ $^ $(GSL_LIBS) $(LDFLAGS)

$(BUILD)/alignbound/core.so: $(BIND_OBJ) $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $^ $(GSL_LIBS) $(LDFLAGS)

# C-level tests: the core with no Lua, and an embedding host that links the
# core and the module statically and opens them with luaL_requiref.
$(BUILD)/core_test: spec/c/core_test.c $(BUILD)/libalignbound.a
	$(CC) $(CFLAGS) -Ispec/c $< -o $@ $(BUILD)/libalignbound.a $(GSL_LIBS) -lpthread $(LDFLAGS)

$(BUILD)/host: spec/c/host.c $(BIND_OBJ) $(BUILD)/libalignbound.a
	$(CC) $(CFLAGS) $(LUA_INC) -Ispec/c $< $(BIND_OBJ) -o $@ $(BUILD)/libalignbound.a \
	  -llua5.4 $(GSL_LIBS) $(LDFLAGS)

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
	@$(MAKE) -s all $(BUILD)/core_test $(BUILD)/host
	@$(INTREE) BUILD=$(BUILD) LUA=$(LUA) sh spec/run_all.sh

# The same tests with AddressSanitizer + UndefinedBehaviorSanitizer: the C
# tests are instrumented whole; the specs run in the stock lua5.4 with the
# sanitizer runtimes preloaded (leak checking there would report the
# interpreter's own allocations, so it is on for the C tests only).
SAN = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
      -fno-sanitize-recover=all
test-san: check-deps
	@$(MAKE) -s BUILD=build-san OPT="$(SAN)" LDFLAGS="-fsanitize=address,undefined" \
	  all build-san/core_test build-san/host
	@LUA_PATH_5_4="$(CURDIR)/lua_bindings/?.lua;$(CURDIR)/lua_bindings/?/init.lua;;" \
	  LUA_CPATH_5_4="$(CURDIR)/build-san/?.so;;" BUILD=build-san LUA=$(LUA) \
	  SPEC_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	  ASAN_OPTIONS=detect_leaks=1 sh spec/run_all.sh

# The C tests under valgrind's memcheck.
test-valgrind: check-deps
	@$(MAKE) -s all $(BUILD)/core_test $(BUILD)/host
	@for t in core_test host; do \
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
FUZZ_TARGETS  = csv tail bon divergence lua
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
FUZZ_CI_RUNS    ?= csv=80000 tail=2000 bon=12000 divergence=600000 lua=700
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
	  -o $@ build-fuzz/libalignbound.a -llua5.4 $(GSL_LIBS)

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
	  build-tsan/libalignbound.a -llua5.4 $(GSL_LIBS) -fsanitize=thread -lpthread
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

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(LUA_LIBDIR)/alignbound $(DESTDIR)$(LUA_SHARE)/alignbound
	install -m 644 $(BUILD)/libalignbound.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libalignbound.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 core/alignbound.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(BUILD)/alignbound/core.so $(DESTDIR)$(LUA_LIBDIR)/alignbound/
	install -m 644 lua_bindings/alignbound/*.lua $(DESTDIR)$(LUA_SHARE)/alignbound/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libalignbound.a $(DESTDIR)$(PREFIX)/lib/libalignbound.so \
	  $(DESTDIR)$(PREFIX)/include/alignbound.h $(DESTDIR)$(LUA_LIBDIR)/alignbound/core.so
	rm -rf $(DESTDIR)$(LUA_SHARE)/alignbound

clean:
	rm -rf $(BUILD) build-san build-fuzz build-tsan doc/api
