#!/usr/bin/env bash
# `op-aws run -- true` (agent unlocked) against `true`, and an item read through the agent.
# Targets: run within 2 ms of true; an item read under 2 ms.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
bench_vault
compare "run" "true" "$OP_AWS run -- true"
compare "item read" "true" "$OP_AWS item show prod"
