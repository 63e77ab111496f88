#!/usr/bin/env bash
# One paired run, medians: bench/interleave.rs runs each command once per round, round-robin
# (1000 rounds: RUNS), and prints its median and the median of its per-round difference to
# `true`. The commands: `true`; the floor (bench/floor.rs: one agent round trip and an exec, as
# issue 12 defined it: a small dynamic binary), the same floor linked statically against glibc
# (issue 30's floor) and, where Rust's musl target is installed, against musl (what
# scripts/install builds op-aws with: the smallest program that could do its job, built the
# same way); `op-aws --version` (startup alone); `op-aws hook-env`; `op-aws run -- true` (the
# agent answers the environment); `op-aws run --profile admin -- true` (a cached role
# session); `op-aws credential-process --profile admin` (the same session as JSON); with
# OP_AWS_BEFORE, the same five for an older binary, in the same run.
# Targets (issue 30): run within 1.3x the floor's overhead, the cached role 1.4x, hook-env
# 0.3 ms over true.
# Built before lib.sh points HOME elsewhere (rustup finds its toolchain through HOME).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(mktemp -d)
rustc --edition 2021 -O -C strip=symbols -o "$build/floor" "$here/floor.rs"
rustc --edition 2021 -O -C strip=symbols -C target-feature=+crt-static \
  -o "$build/floor-static" "$here/floor.rs"
musl=$(rustc -vV | sed -n 's/^host: \(.*\)-gnu$/\1-musl/p')
floors=("$build/floor" "$build/floor-static")
if [ -n "$musl" ] && rustup target list --installed 2>/dev/null | grep -qx "$musl"; then
  rustc --edition 2021 -O -C strip=symbols --target "$musl" -o "$build/floor-musl" "$here/floor.rs"
  floors+=("$build/floor-musl")
fi
rustc --edition 2021 -O -o "$build/interleave" "$here/interleave.rs"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
trap 'cleanup; rm -rf "$build"' EXIT
# Each binary measured from a fresh copy (with the op-aws-full beside it): how much of a file
# the page cache holds, and in what pieces, moves a start by up to 0.3 ms here (two copies of
# one binary in one run differed by that much), which is more than a before and after differ.
fresh() { # $1: an op-aws; $2: a name; prints the copy's path
  mkdir -p "$build/$2"
  cp "$1" "$build/$2/op-aws"
  if [ -e "$(dirname "$1")/op-aws-full" ]; then cp "$(dirname "$1")/op-aws-full" "$build/$2/"; fi
  echo "$build/$2/op-aws"
}
OP_AWS=$(fresh "$OP_AWS" after)
bench_vault >/dev/null
bench_role >/dev/null
t=$(command -v true)
ops() { # the op-aws commands measured, for the binary $1 (with leading VAR=value words)
  printf '%s\n' "$1 --version" "$1 hook-env --shell bash" "$1 run -- $t" \
    "$1 run --profile admin -- $t" "$1 credential-process --profile admin"
}
mapfile -t measured < <(ops "$OP_AWS")
# OP_AWS_BEFORE=/path/to/an/older/op-aws: the same commands in the same run, in a world of its
# own (its own agent, vault and session cache), for a before-and-after in one interleaved run.
if [ -n "${OP_AWS_BEFORE:-}" ]; then
  OP_AWS_BEFORE=$(fresh "$OP_AWS_BEFORE" before)
  before_dirs=()
  for d in CONFIG DATA CACHE RUNTIME; do
    before_dirs+=("OP_AWS_${d}_DIR=$bench_home/before/${d,,}")
  done
  # Its role session was cached against its own moto: the runs name the same endpoint.
  before_sts=$(
    export "${before_dirs[@]}"
    OP_AWS=$OP_AWS_BEFORE
    bench_vault >/dev/null
    bench_role >/dev/null
    echo "$AWS_ENDPOINT_URL_STS"
  )
  before_dirs+=("AWS_ENDPOINT_URL_STS=$before_sts")
  trap 'env "${before_dirs[@]}" "$OP_AWS_BEFORE" lock >/dev/null 2>&1; cleanup; rm -rf "$build"' EXIT
  mapfile -t -O "${#measured[@]}" measured < <(ops "${before_dirs[*]} OP_AWS_SESSION_ITEM=prod $OP_AWS_BEFORE")
fi
ROUNDS=${RUNS:-1000} "$build/interleave" "$t" "${floors[@]/%/ $t}" "${measured[@]}"
