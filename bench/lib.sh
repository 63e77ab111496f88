# Shared by the bench scripts: a release build, a throwaway op-aws home, and hyperfine.
# shellcheck shell=bash
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/op-aws/target}
cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin op-aws
OP_AWS=$CARGO_TARGET_DIR/release/op-aws

if ! command -v hyperfine >/dev/null 2>&1; then
  apt-get install -y -qq hyperfine >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
fi

bench_home=$(mktemp -d /tmp/op-aws-bench.XXXXXX)
export HOME=$bench_home
export OP_AWS_CONFIG_DIR=$bench_home/cfg OP_AWS_DATA_DIR=$bench_home/data
export OP_AWS_CACHE_DIR=$bench_home/cache OP_AWS_RUNTIME_DIR=$bench_home/run
export AWS_CONFIG_FILE=$bench_home/.aws/config AWS_SHARED_CREDENTIALS_FILE=$bench_home/.aws/credentials
cleanup() {
  "$OP_AWS" lock >/dev/null 2>&1 || true
  rm -rf "$bench_home"
}
trap cleanup EXIT

# A vault with one item, unlocked, as the session default.
bench_vault() {
  echo 'bench passphrase' | "$OP_AWS" vault create --passphrase-stdin --work-factor 10 2>/dev/null
  echo 'bench passphrase' | "$OP_AWS" unlock --passphrase-stdin
  echo 'benchsecret' | "$OP_AWS" item add prod --set 'Access Key ID=AKIABENCH000000001' --set-secret 'Secret Access Key'
  export OP_AWS_SESSION_ITEM=prod
}

# Runs hyperfine on A and B (no shell in between) and prints medians, ratio and difference.
compare() {
  local name=$1 a=$2 b=$3 json
  json=$(mktemp)
  hyperfine -N --style none --warmup 20 --runs "${RUNS:-300}" --export-json "$json" "$a" "$b" >/dev/null 2>&1
  python3 - "$json" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
a, b = r[0]["median"] * 1000, r[1]["median"] * 1000
print(f"{sys.argv[2]}: {r[0]['command']}: {a:.3f} ms   {r[1]['command']}: {b:.3f} ms   "
      f"ratio {b / a:.2f}x   difference {b - a:+.3f} ms (medians)")
PY
  rm -f "$json"
}
