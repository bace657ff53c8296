#!/bin/sh
# spec/run_all.sh - every test: the C-level tests, then the busted specs
# under Lua 5.4.  Ends with one line "N passed, N failed"; exits non-zero if
# anything failed.  BUILD names the build directory (default build).
BUILD=${BUILD:-build}
passed=0
failed=0
status=0

count() { # add the "N passed, M failed" line of a C test
  p=$(printf '%s\n' "$1" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' | tail -1)
  f=$(printf '%s\n' "$1" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' | tail -1)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-1}))
}

for t in core_test host static_host; do
  out=$("$BUILD/$t" 2>&1)
  rc=$?
  printf '%s\n' "$out"
  count "$out"
  [ $rc -eq 0 ] || { status=1; [ -n "$(printf '%s' "$out" | grep ' failed$')" ] || failed=$((failed + 1)); }
done

# SPEC_PRELOAD: sanitizer runtimes for an instrumented module (make test-san)
if [ -n "$SPEC_PRELOAD" ]; then
  out=$(ASAN_OPTIONS=detect_leaks=0 LD_PRELOAD="$SPEC_PRELOAD" \
    busted --lua="${LUA:-lua5.4}" --cpath="$BUILD/?.so" -o utfTerminal spec 2>&1)
else
  out=$(busted --lua="${LUA:-lua5.4}" --cpath="$BUILD/?.so" -o utfTerminal spec 2>&1)
fi
rc=$?
printf '%s\n' "$out"
line=$(printf '%s\n' "$out" | grep -E '[0-9]+ success(es)? / [0-9]+ failures? / [0-9]+ errors?' | tail -1)
bp=$(printf '%s\n' "$line" | sed -n 's/^\([0-9]*\) success.*/\1/p')
bf=$(printf '%s\n' "$line" | sed -n 's/.* \([0-9]*\) failures\{0,1\} \/ \([0-9]*\) errors\{0,1\}.*/\1/p')
be=$(printf '%s\n' "$line" | sed -n 's/.* \([0-9]*\) failures\{0,1\} \/ \([0-9]*\) errors\{0,1\}.*/\2/p')
if [ -z "$line" ]; then failed=$((failed + 1)); status=1; fi
passed=$((passed + ${bp:-0}))
failed=$((failed + ${bf:-0} + ${be:-0}))
[ $rc -eq 0 ] || status=1
[ $failed -eq 0 ] || status=1

echo "$passed passed, $failed failed"
exit $status
