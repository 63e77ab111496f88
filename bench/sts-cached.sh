#!/usr/bin/env bash
# A cached role session: `op-aws run --profile admin -- true x` against `true x`.
# Target: within 2 ms of `true` (aws-vault adds 10.8 ms). moto is stopped once the cache is
# warm, so any STS call during the runs would fail the bench instead of skewing it.
# (`true x` keeps the figure comparable with bench/onepassword.sh; bench/paired.sh has it too.)
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

bench_vault
bench_role
"$OP_AWS" cache list

compare "cached role session" "true x" "$OP_AWS run --profile admin -- true x"
compare "long-lived keys (no STS), for reference" "true x" "$OP_AWS run --profile base -- true x"
