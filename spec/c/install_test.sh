#!/bin/sh
# install_test.sh MAKE CC CXX VERSION SONAME - make test-install: installs
# into a temporary DESTDIR, checks the files and the SONAME, copies the
# staged tree to its PREFIX (as a package manager would), builds a C host and
# a C++ host against it with pkg-config --static, linked with -static, runs
# them from an empty directory with no library path, loads the installed Lua
# module with lua5.4, then uninstalls and checks that nothing is left.
set -u
MAKE=$1 CC=$2 CXX=$3 VERSION=$4 SONAME=$5
top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT
stage=$top/stage prefix=$top/prefix run=$top/run
mkdir -p "$run"
fail() { echo "test-install: $*"; exit 1; }

$MAKE -s install DESTDIR="$stage" PREFIX="$prefix" >/dev/null || fail "make install failed"
root=$stage$prefix
for f in include/alignbound.h include/alignbound_lua.h lib/libalignbound.a lib/libalignbound_lua.a \
  "lib/libalignbound.so.$VERSION" "lib/$SONAME" lib/libalignbound.so lib/pkgconfig/alignbound.pc \
  lib/pkgconfig/alignbound-lua.pc lib/lua/5.4/alignbound/core.so share/lua/5.4/alignbound/init.lua; do
  [ -e "$root/$f" ] || fail "missing $f"
done
[ ! -e "$prefix" ] || fail "make install wrote outside DESTDIR"
readelf -d "$root/lib/libalignbound.so.$VERSION" | grep -q "Library soname: \[$SONAME\]" ||
  fail "libalignbound.so.$VERSION has no SONAME $SONAME"

mkdir -p "$prefix" && cp -a "$root/." "$prefix/" || fail "cannot copy the staged tree"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[ "$(pkg-config --modversion alignbound)" = "$VERSION" ] || fail "pkg-config: wrong version"
flags=$(pkg-config --static --cflags --libs alignbound-lua) || fail "pkg-config alignbound-lua"
echo "pkg-config --static --cflags --libs alignbound-lua: $flags"
# shellcheck disable=SC2086
$CC -std=c11 -Wall -Wextra -pedantic -Werror -Ispec/c spec/c/static_host.c -o "$run/static_host" \
  -static $flags || fail "the C host does not build"
# shellcheck disable=SC2086
$CXX -std=c++11 -Wall -Wextra -pedantic -Werror -Ispec/c spec/c/cpp_host.cpp -o "$run/cpp_host" \
  -static $flags || fail "the C++ host does not build"
for h in static_host cpp_host; do
  readelf -d "$run/$h" 2>/dev/null | grep -q NEEDED && fail "$h is not linked statically"
  (cd "$run" && env -i "./$h") || fail "$h failed"
done

LUA_PATH_5_4="$prefix/share/lua/5.4/?.lua;$prefix/share/lua/5.4/?/init.lua" \
  LUA_CPATH_5_4="$prefix/lib/lua/5.4/?.so" lua5.4 -e "
    local ab = require 'alignbound'
    assert(ab.version == '$VERSION', ab.version)
    assert(package.searchpath('alignbound.core', package.cpath):find('$prefix', 1, true))" ||
  fail "the installed module does not load"

$MAKE -s uninstall DESTDIR="$stage" PREFIX="$prefix" >/dev/null || fail "make uninstall failed"
left=$(find "$stage" ! -type d)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "test-install: ok (static C and C++ hosts, $VERSION, $SONAME)"
