#!/usr/bin/env bash
# `op-aws run -- true x` with the 1Password store, against `true x`: cold (no agent, so every
# run calls `op`) and warm (`op-aws unlock` started a cache-only agent; no `op` call at all).
# `op` is tests/support/fake-op (a Python script, ~20-40 ms a call); the real op costs
# 0.2-2 s a call, which the cold figure would add and the warm one never pays.
# (`true x` keeps the figures comparable with the earlier runs of this bench.)
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

mkdir -p "$bench_home/op-bin" "$bench_home/fake-op" "$OP_AWS_CONFIG_DIR"
ln -s "$root/tests/support/fake-op" "$bench_home/op-bin/op"
export PATH="$bench_home/op-bin:$PATH" FAKE_OP_DIR="$bench_home/fake-op"
cat >"$FAKE_OP_DIR/items.json" <<'JSON'
[{"id": "bench1", "title": "AWS bench", "vault": {"id": "v1", "name": "Work"}, "category": "API_CREDENTIAL",
  "fields": [
    {"id": "a", "type": "STRING", "label": "Access Key ID", "value": "AKIABENCH000000001"},
    {"id": "b", "type": "CONCEALED", "label": "Secret Access Key", "value": "benchsecret"},
    {"id": "c", "type": "STRING", "label": "Default Region", "value": "us-east-1"}]}]
JSON
echo 'store = "1password"' >"$OP_AWS_CONFIG_DIR/config.toml"
export OP_AWS_SESSION_ITEM="op://Work/AWS bench"

calls() { wc -l <"$FAKE_OP_DIR/calls.log" 2>/dev/null || echo 0; }

"$OP_AWS" run -- true x  # fails loudly here rather than inside hyperfine
RUNS=${RUNS:-100} compare "1password cold (no agent: op every run)" "true x" "$OP_AWS run -- true x"
# The same with op as slow as the real one at its quickest (0.2 s a call).
FAKE_OP_DELAY_MS=200 RUNS=10 compare "1password cold, op at 200 ms" "true x" "$OP_AWS run -- true x"
cold_calls=$(calls)

"$OP_AWS" unlock
"$OP_AWS" run -- true x  # the one op call that fills the agent's cache
before=$(calls)
compare "1password warm (agent cache)" "true x" "$OP_AWS run -- true x"
echo "op calls: $cold_calls during the cold runs, $(($(calls) - before)) during the warm runs"
