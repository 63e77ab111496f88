#!/usr/bin/env bash
# shellcheck disable=SC2154,SC2016 # bench_home comes from lib.sh; the shells below expand their own scripts.
# The cd hook's cost. (1) `op-aws hook-env` alone against `true` (both one process spawn),
# in a directory with a default. (2) Inside each real shell: the hook after a directory
# change (one hook-env run) and on a plain Enter (the shell compares a key and spawns nothing),
# averaged over N calls of the hook function itself.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

N=${N:-200}
mkdir -p "$bench_home/a/proj" "$bench_home/b"
bench_vault >/dev/null
unset OP_AWS_SESSION_ITEM
(cd "$bench_home/a" && "$OP_AWS" use prod --directory proj 2>/dev/null)
PATH="$(dirname "$OP_AWS"):$PATH"
export PATH

cd "$bench_home/a/proj" || exit 1
compare "hook-env process" "true" "$OP_AWS hook-env --shell bash"

a=$bench_home/a/proj b=$bench_home/b
# Each shell prints its clock before the cd loop, between the loops, and after.
export N A=$a B=$b
bash --noprofile --norc -c '
  eval "$(op-aws activate bash)"
  t0=$EPOCHREALTIME
  for ((i = 0; i < N; i++)); do if ((i % 2)); then cd "$A"; else cd "$B"; fi; __op_aws_hook; done
  t1=$EPOCHREALTIME
  for ((i = 0; i < N; i++)); do __op_aws_hook; done
  t2=$EPOCHREALTIME
  echo "bash $t0 $t1 $t2"' >"$bench_home/bash.out"
zsh -f -c '
  zmodload zsh/datetime
  eval "$(op-aws activate zsh)"
  t0=$EPOCHREALTIME
  for ((i = 0; i < N; i++)); do if ((i % 2)); then cd "$A"; else cd "$B"; fi; __op_aws_precmd; done
  t1=$EPOCHREALTIME
  for ((i = 0; i < N; i++)); do __op_aws_precmd; done
  t2=$EPOCHREALTIME
  echo "zsh $t0 $t1 $t2"' >"$bench_home/zsh.out"
# fish has no clock variable: `date` once at each end, and cd itself runs the PWD hook.
fish --no-config --private -c '
  op-aws activate fish | source
  set t0 (date +%s.%N)
  for i in (seq $N)
    if test (math $i % 2) -eq 1; cd $A; else; cd $B; end
  end
  set t1 (date +%s.%N)
  for i in (seq $N); __op_aws_hook; end
  set t2 (date +%s.%N)
  echo "fish $t0 $t1 $t2"' >"$bench_home/fish.out"

cat "$bench_home"/{bash,zsh,fish}.out | python3 -c '
import sys
n = int(sys.argv[1])
for line in sys.stdin:
    sh, t0, t1, t2 = line.split()
    t0, t1, t2 = float(t0), float(t1), float(t2)
    print(f"{sh:5} hook on a directory change: {(t1 - t0) / n * 1000:.3f} ms   on a plain Enter: {(t2 - t1) / n * 1e6:.1f} us (no process)")
' "$N"
