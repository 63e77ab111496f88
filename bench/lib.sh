# Shared by the bench scripts: a release build, a throwaway op-aws home, and hyperfine.
# shellcheck shell=bash
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/op-aws/target}
tools=${OP_AWS_TOOLS:-$HOME/.cache/op-aws/tools}
# What the README installs (scripts/install: linked statically on Linux), kept in the cache;
# OP_AWS=/path/to/op-aws measures that binary instead (an older build, for before and after).
if [ -z "${OP_AWS:-}" ]; then
  "$root/scripts/install" --quiet --force --root "$CARGO_TARGET_DIR/bench-install"
  OP_AWS=$CARGO_TARGET_DIR/bench-install/bin/op-aws
fi

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

# moto on 127.0.0.1 until the script ends: sets moto_pid and moto_port.
bench_moto() {
  local moto_server
  moto_server=$(PATH="$tools/venv/bin:$PATH" command -v moto_server) || {
    echo "moto_server not found: run scripts/test-deps" >&2
    exit 1
  }
  "$moto_server" -H 127.0.0.1 -p 0 2>"$bench_home/moto.log" &
  moto_pid=$!
  trap 'kill $moto_pid 2>/dev/null || true; cleanup' EXIT
  moto_port=
  for _ in $(seq 100); do
    moto_port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\).*|\1|p' "$bench_home/moto.log" | head -n1)
    [ -n "$moto_port" ] && break
    sleep 0.1
  done
  [ -n "$moto_port" ] || {
    echo "moto did not start" >&2
    exit 1
  }
}

# A vault with one item, unlocked, as the session default.
bench_vault() {
  echo 'bench passphrase' | "$OP_AWS" vault create --passphrase-stdin --work-factor 10 2>/dev/null
  echo 'bench passphrase' | "$OP_AWS" unlock --passphrase-stdin
  echo 'benchsecret' | "$OP_AWS" item add prod --set 'Access Key ID=AKIABENCH000000001' --set-secret 'Secret Access Key'
  export OP_AWS_SESSION_ITEM=prod
}

# A role profile `admin` over the item, its session cached by one real AssumeRole against moto,
# which is then stopped: an STS call during the runs would fail them instead of skewing them.
bench_role() {
  local moto_server log moto_pid port=
  moto_server=$(PATH="$tools/venv/bin:$PATH" command -v moto_server) || {
    echo "moto_server not found: run scripts/test-deps" >&2
    exit 1
  }
  mkdir -p "$bench_home/.aws"
  cat >"$AWS_CONFIG_FILE" <<'EOF'
[profile base]
op_aws_item = prod

[profile admin]
role_arn = arn:aws:iam::210987654321:role/Admin
source_profile = base
EOF
  log=$bench_home/moto.log
  "$moto_server" -H 127.0.0.1 -p 0 2>"$log" &
  moto_pid=$!
  for _ in $(seq 100); do
    port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\).*|\1|p' "$log" | head -n1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { kill "$moto_pid"; echo "moto did not start" >&2; exit 1; }
  AWS_ENDPOINT_URL_STS=http://127.0.0.1:$port "$OP_AWS" run --profile admin -- true x
  kill "$moto_pid"
  wait "$moto_pid" 2>/dev/null || true
  export AWS_ENDPOINT_URL_STS=http://127.0.0.1:$port
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
