#!/usr/bin/env bash
# A cached role session: `op-aws run --profile admin -- true x` against `true x`.
# Target: within 2 ms of `true` (aws-vault adds 10.8 ms). moto is stopped once the cache is
# warm, so any STS call during the runs would fail the bench instead of skewing it.
# (`true x` keeps the figure comparable with bench/run.sh and bench/onepassword.sh.)
tools=${OP_AWS_TOOLS:-$HOME/.cache/op-aws/tools}  # before lib.sh moves HOME
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

moto_server=$(PATH="$tools/venv/bin:$PATH" command -v moto_server) || {
  echo "moto_server not found: run scripts/test-deps" >&2
  exit 1
}

bench_vault
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
port=
for _ in $(seq 100); do
  port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\).*|\1|p' "$log" | head -n1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { kill "$moto_pid"; echo "moto did not start" >&2; exit 1; }

# Warm the cache with one real AssumeRole, then take STS away.
AWS_ENDPOINT_URL_STS=http://127.0.0.1:$port "$OP_AWS" run --profile admin -- true x
kill "$moto_pid"
wait "$moto_pid" 2>/dev/null || true
"$OP_AWS" cache list
export AWS_ENDPOINT_URL_STS=http://127.0.0.1:$port

compare "cached role session" "true x" "$OP_AWS run --profile admin -- true x"
compare "long-lived keys (no STS), for reference" "true x" "$OP_AWS run --profile base -- true x"
