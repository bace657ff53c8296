#!/bin/sh
# spec/sh/shard_parallel.sh - the per-prompt check of a logged run sharded
# k = 4 ways with GNU parallel, merged, against the unsharded run: the
# summaries must agree to the last bit.  Exits 77 (skipped) without GNU
# parallel.  Run from the repository root with the in-tree environment
# (eval "$(make -s env)").
command -v parallel >/dev/null 2>&1 || { echo "shard_parallel: GNU parallel missing, skipped"; exit 77; }
parallel --version 2>/dev/null | grep -q "GNU parallel" || { echo "shard_parallel: not GNU parallel, skipped"; exit 77; }
set -e
LUA=${LUA:-lua5.4}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# a run of 500 prompts x 8 responses: integer rewards (ties), a policy
# near the tilt at beta = 2 (a linear congruential generator: reproducible)
$LUA - "$dir/run.csv" <<'LUA'
local f = assert(io.open(arg[1], "w"))
f:write("prompt,reward,logp_policy,logp_ref,gold\n")
local s = 7
local function U() s = (s * 1103515245 + 12345) % 2147483648 return s / 2147483648 end
for p = 1, 500 do
  for _ = 1, 8 do
    local r, lr = math.floor(U() * 6), -1 - U()
    f:write(string.format("%d,%d,%.17g,%.17g,%.17g\n", p, r, lr + r / 2 + 0.1 * U(), lr, r + U()))
  end
end
f:close()
LUA
parallel --will-cite -j 4 $LUA scripts/check_run.lua --prompts --beta 2 --n 4 \
  --shard {}/4 --out "$dir/part.{}" "$dir/run.csv" ::: 1 2 3 4
$LUA scripts/check_run.lua --merge "$dir"/part.1 "$dir"/part.2 "$dir"/part.3 "$dir"/part.4 \
  | grep '^summary' >"$dir/merged.txt"
$LUA scripts/check_run.lua --prompts --beta 2 --n 4 "$dir/run.csv" | grep '^summary' >"$dir/whole.txt"
test "$(wc -l <"$dir/whole.txt")" -ge 10
if diff "$dir/whole.txt" "$dir/merged.txt"; then
  echo "shard_parallel: 4 shards merged == unsharded"
else
  echo "shard_parallel: the merged summary differs"; exit 1
fi
# the log split by prompt beforehand (the README's awk line), each shard
# reading only its own file: merged == the files concatenated in shard order
(cd "$dir" && awk -F, -v k=4 'NR == 1 { h = $0; next }
  { f = "part-" ($1 % k + 1) ".csv"; if (!(f in s)) { print h > f; s[f] = 1 }; print > f }' run.csv)
parallel --will-cite -j 4 $LUA scripts/check_run.lua --prompts --beta 2 --n 4 \
  --shard {}/4 --run spec --out "$dir/split.{}" "$dir/part-{}.csv" ::: 1 2 3 4
$LUA scripts/check_run.lua --merge "$dir"/split.1 "$dir"/split.2 "$dir"/split.3 "$dir"/split.4 \
  | grep '^summary' >"$dir/split.txt"
{ head -n 1 "$dir/run.csv"; for i in 1 2 3 4; do tail -n +2 "$dir/part-$i.csv"; done; } >"$dir/cat.csv"
$LUA scripts/check_run.lua --prompts --beta 2 --n 4 "$dir/cat.csv" | grep '^summary' >"$dir/cat.txt"
if diff "$dir/cat.txt" "$dir/split.txt"; then
  echo "shard_parallel: 4 pre-split files merged == their concatenation"
else
  echo "shard_parallel: the merged summary of the split files differs"; exit 1
fi
