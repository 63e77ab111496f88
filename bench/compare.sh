#!/usr/bin/env bash
# Before and after in one paired run: bench/compare.sh OLD_OP_AWS measures an older op-aws
# binary beside the one scripts/install builds from this tree, each with an agent of its own
# (the same vault, config and session cache), round-robin with `true` and the static floor
# (bench/interleave.rs: medians of each command's per-round difference to `true`), so a busy
# machine weighs on both alike. Every op-aws command runs under `env`, which costs the same
# for both; compare the two columns with each other, and `env true` with the floor.
set -euo pipefail
old=${1:?usage: bench/compare.sh OLD_OP_AWS_BINARY}
old=$(cd "$(dirname "$old")" && pwd)/$(basename "$old")
here=$(cd "$(dirname "$0")" && pwd)
build=$(mktemp -d)
rustc --edition 2021 -O -C strip=symbols -C target-feature=+crt-static \
  -o "$build/floor-static" "$here/floor.rs"
rustc --edition 2021 -O -o "$build/interleave" "$here/interleave.rs"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
trap 'OP_AWS_RUNTIME_DIR=$bench_home/run-old "$old" lock >/dev/null 2>&1 || true; cleanup; rm -rf "$build"' EXIT
bench_vault >/dev/null
bench_role >/dev/null
echo 'bench passphrase' | OP_AWS_RUNTIME_DIR=$bench_home/run-old "$old" unlock --passphrase-stdin
t=$(command -v true)
e=$(command -v env)
new_env="$e OP_AWS_RUNTIME_DIR=$OP_AWS_RUNTIME_DIR"
old_env="$e OP_AWS_RUNTIME_DIR=$bench_home/run-old"
# Each agent's caches warm before the runs.
for env_cmd in "$new_env $OP_AWS" "$old_env $old"; do
  $env_cmd run -- "$t"
  $env_cmd run --profile admin -- "$t"
done
ROUNDS=${RUNS:-1000} "$build/interleave" "$t" "$e $t" "$build/floor-static $t" \
  "$old_env $old run -- $t" "$new_env $OP_AWS run -- $t" \
  "$old_env $old run --profile admin -- $t" "$new_env $OP_AWS run --profile admin -- $t" \
  "$old_env $old hook-env --shell bash" "$new_env $OP_AWS hook-env --shell bash"
