#!/usr/bin/env bash
# shellcheck disable=SC2154 # bench_home comes from lib.sh.
# The agent under long mixed load (not a timed test): for SOAK_SECONDS (default 1800), CLIENTS
# (default 50) concurrent clients mix `op-aws run` through the real CLI (items, and role
# profiles whose sessions moto issues for 15 minutes and `cache clear` drops now and then),
# raw valid agent requests, malformed and slow requests, item writes and lock/unlock cycles.
# It reports requests served, errors by kind, p50/p99 latency per kind, and the agent's RSS,
# open fds and threads sampled every second; and checks 0 wrong answers (each answer against
# the item asked for), 0 lost writes, RSS and fds flat after warm-up, and p99 of `status`
# under 50 ms while slow clients run. OP_AWS=path uses that binary instead of installing the
# README's way.
#
#   SOAK_SECONDS=1800 bench/soak.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

bench_moto
port=$moto_port
export AWS_ENDPOINT_URL_STS=http://127.0.0.1:$port AWS_REGION=us-east-1

echo 'soak passphrase' | "$OP_AWS" vault create --passphrase-stdin --work-factor 10 2>/dev/null
echo 'soak passphrase' | "$OP_AWS" unlock --passphrase-stdin
mkdir -p "$bench_home/.aws"
: >"$AWS_CONFIG_FILE"
for i in $(seq 0 9); do
  printf 'soaksecret%s\n' "$i" | "$OP_AWS" item add "soak$i" \
    --set "Access Key ID=AKIASOAK00000000000$i" --set-secret 'Secret Access Key' 2>/dev/null
  printf '[profile base%s]\nop_aws_item = soak%s\n\n[profile role%s]\nrole_arn = arn:aws:iam::210987654321:role/Soak%s\nsource_profile = base%s\nduration_seconds = 900\n\n' \
    "$i" "$i" "$i" "$i" "$i" >>"$AWS_CONFIG_FILE"
done

python3 "$root/bench/soak.py" "$OP_AWS" "$OP_AWS_RUNTIME_DIR/agent.sock" \
  "${SOAK_SECONDS:-1800}" "${CLIENTS:-50}"
