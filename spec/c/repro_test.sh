#!/bin/sh
# repro_test.sh "CC:FLAGS ..." GSL_LIBS - make test-repro: builds the core
# and spec/c/repro.c (a table of about a thousand results printed with %a)
# once per compiler and flag set (underscores in FLAGS stand for spaces),
# each in build-repro/<n>/ with the Makefile's flags (-ffp-contract=off
# among them), runs each, and requires every table to equal the first bit
# for bit.  MAKE, FP: as passed by make (FP= shows what happens without).
set -u
builds=$1 gsl=$2
MAKE=${MAKE:-make}
rc=0 i=0 first=
for b in $builds; do
  cc=${b%%:*} flags=$(echo "${b#*:}" | tr _ ' ')
  dir=build-repro/$i
  i=$((i + 1))
  rm -rf "$dir"
  mkdir -p build-repro
  # shellcheck disable=SC2086
  if ! $MAKE -s BUILD="$dir" CC="$cc" OPT="$flags" "$dir/libalignbound.a" >"$dir.log" 2>&1 ||
     ! $cc -std=c11 $flags -Icore spec/c/repro.c -o "$dir/repro" "$dir/libalignbound.a" $gsl ||
     ! "$dir/repro" >"$dir/table.txt" 2>/dev/null; then
    echo "test-repro: $cc $flags: build or run failed"; cat "$dir.log"; rc=1; continue
  fi
  if [ -z "$first" ]; then
    first=$dir/table.txt ref="$cc $flags"
    values=$(grep -c ': -\{0,1\}0x' "$first")
    echo "test-repro: $cc $flags: $(wc -l <"$first") results, $values of them numbers"
    # a table of failures would agree trivially
    [ "$values" -ge 900 ] || { echo "test-repro: too few numbers in the table"; rc=1; }
  elif cmp -s "$first" "$dir/table.txt"; then
    echo "test-repro: $cc $flags: the same bits as $ref"
  else
    n=$(diff "$first" "$dir/table.txt" | grep -c '^>')
    echo "test-repro: $cc $flags: $n results differ from $ref, e.g."
    diff "$first" "$dir/table.txt" | grep '^[<>]' | head -6
    rc=1
  fi
done
exit $rc
