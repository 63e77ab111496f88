#!/usr/bin/env bash
# One hyperfine run, paired, medians: `true`; the floor (bench/floor.rs: one agent round trip
# and an exec, 0.4 MB); `op-aws --version` (startup alone); `op-aws hook-env`; `op-aws run --
# true` (the agent answers the environment). Each figure is also shown over `true`.
# Targets (issue 12): run within 1.0 ms of true, hook-env within 0.5 ms.
# Built before lib.sh points HOME elsewhere (rustup finds its toolchain through HOME).
floor_dir=$(mktemp -d)
floor=$floor_dir/floor
rustc --edition 2021 -O -C strip=symbols -o "$floor" "$(dirname "$0")/floor.rs"
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
bench_vault >/dev/null
json=$(mktemp)
hyperfine -N --style none --warmup 30 --runs "${RUNS:-800}" --export-json "$json" \
  "true" "$floor true" "$OP_AWS --version" "$OP_AWS hook-env --shell bash" "$OP_AWS run -- true" \
  >/dev/null 2>&1
python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
base = r[0]["median"] * 1000
names = ["true", "floor (round trip + exec)", "op-aws --version", "op-aws hook-env", "op-aws run -- true"]
for n, x in zip(names, r):
    m = x["median"] * 1000
    print(f"{n:>26}: {m:7.3f} ms  {m - base:+7.3f} ms over true")
PY
rm -rf "$json" "$floor_dir"
