#!/usr/bin/env bash
# One paired run, medians: bench/interleave.rs runs each command once per round, round-robin
# (1000 rounds: RUNS), and prints its median and the median of its per-round difference to
# `true`. The commands: `true`; the floor (bench/floor.rs: one agent round trip and an exec, as
# the issue defined it: a small dynamic binary) and the same floor linked statically; `op-aws
# --version` (startup alone); `op-aws hook-env`; `op-aws run -- true` (the agent answers the
# environment); `op-aws run --profile admin -- true` (a cached role session).
# Targets (issue 12): run within 1.0 ms of true, the same for the cached role, hook-env 0.5 ms.
# Built before lib.sh points HOME elsewhere (rustup finds its toolchain through HOME).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(mktemp -d)
rustc --edition 2021 -O -C strip=symbols -o "$build/floor" "$here/floor.rs"
rustc --edition 2021 -O -C strip=symbols -C target-feature=+crt-static \
  -o "$build/floor-static" "$here/floor.rs"
rustc --edition 2021 -O -o "$build/interleave" "$here/interleave.rs"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
trap 'cleanup; rm -rf "$build"' EXIT
bench_vault >/dev/null
bench_role >/dev/null
t=$(command -v true)
ROUNDS=${RUNS:-1000} "$build/interleave" "$t" "$build/floor $t" "$build/floor-static $t" \
  "$OP_AWS --version" "$OP_AWS hook-env --shell bash" "$OP_AWS run -- $t" \
  "$OP_AWS run --profile admin -- $t"
