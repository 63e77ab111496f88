#!/usr/bin/env bash
# nushell: what the plugin's `op-aws use` and the module's wrappers cost.
#  1. per call inside one nu (plugin already running): plugin `op-aws use` against the module's
#     `op-aws use` (one op-aws process) and a plain `$env` assignment;
#  2. per call: a wrapped command (`benchtool` = /bin/true, via the module) against
#     `^op-aws run -- benchtool` and `^benchtool`;
#  3. a whole `nu -c` with the plugin's `op-aws use` (spawn + handshake) against `nu -c` alone.
# PROFILE=debug measures the debug builds (no release build of the plugin needed).
# Before lib.sh moves HOME (cargo and nu are found through it).
NU=${NU:-$(command -v nu || echo "$HOME/.cache/op-aws/tools/nu/node_modules/@nushell/linux-x64/bin/nu")}
profile=${PROFILE:-release}
target=${CARGO_TARGET_DIR:-$HOME/.cache/op-aws/target}
manifest="$(cd "$(dirname "$0")/.." && pwd)/Cargo.toml"
if [ "$profile" = release ]; then
  cargo build --release --quiet --manifest-path "$manifest" -p nu_plugin_op_aws
else
  cargo build --quiet --manifest-path "$manifest" --bin op-aws -p nu_plugin_op_aws
fi
PLUGIN=$target/$profile/nu_plugin_op_aws

# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
if [ "$profile" != release ]; then
  OP_AWS=$target/debug/op-aws
fi

bin_dir=$bench_home/bin
mkdir -p "$bin_dir" "$OP_AWS_CONFIG_DIR"
ln -s "$OP_AWS" "$bin_dir/op-aws"
ln -s /bin/true "$bin_dir/benchtool"
export PATH=$bin_dir:$PATH
echo 'wrap_extra = ["benchtool"]' > "$OP_AWS_CONFIG_DIR/config.toml"
bench_vault
"$OP_AWS" activate nu > "$bench_home/op-aws.nu"
cd "$bench_home" || exit 1

n=${CALLS:-200}
per_call() { # label, code run n times inside one nu
  "$NU" -n --no-std-lib --plugins "$PLUGIN" -c "source op-aws.nu; $2; let t = (timeit { for i in 1..$n { $2 } }); print \$'$1: (\$t / $n)'"
}
per_call "plugin  op-aws use prod           " "op-aws use prod | ignore"
"$NU" -n --no-std-lib -c "source op-aws.nu; let t = (timeit { for i in 1..$n { op-aws use prod } }); print \$'module  op-aws use prod, no plugin: (\$t / $n)'"
per_call "nu      \$env.X = prod            " "\$env.OP_AWS_SESSION_ITEM = 'prod'"
per_call "wrapper benchtool                " "benchtool"
per_call "direct  ^op-aws run -- benchtool " "^op-aws run -- benchtool"
per_call "bare    ^benchtool               " "^benchtool"

RUNS=${RUNS:-60} compare "nu -c, plugin op-aws use" \
  "$NU -n --no-std-lib --plugins $PLUGIN -c null" \
  "$NU -n --no-std-lib --plugins $PLUGIN -c 'op-aws use prod'"
