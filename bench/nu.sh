#!/usr/bin/env bash
# nushell: what the plugin's `op-aws use` and the module's wrappers cost.
#  1. per call inside one nu (plugin already running): plugin `op-aws use` against the module's
#     `op-aws use` (one op-aws process) and a plain `$env` assignment;
#  2. per call: a wrapped command (`benchtool` = /bin/true, via the module) against
#     `^op-aws run -- benchtool` and `^benchtool`;
#  3. a whole `nu -c` with the plugin's `op-aws use` (spawn + handshake) against `nu -c` alone.
# PROFILE=debug measures the debug builds (no release build of the plugin needed).
# Before lib.sh moves HOME.
NU=${NU:-$(command -v nu || echo "$HOME/.cache/op-aws/tools/nu/node_modules/@nushell/linux-x64/bin/nu")}
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

profile=${PROFILE:-release}
if [ "$profile" = release ]; then
  cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p nu_plugin_op_aws
else
  cargo build --quiet --manifest-path "$root/Cargo.toml" --bin op-aws -p nu_plugin_op_aws
  OP_AWS=$CARGO_TARGET_DIR/debug/op-aws
fi
PLUGIN=$CARGO_TARGET_DIR/$profile/nu_plugin_op_aws

bin_dir=$bench_home/bin
mkdir -p "$bin_dir" "$OP_AWS_CONFIG_DIR"
ln -s "$OP_AWS" "$bin_dir/op-aws"
ln -s "$(command -v true)" "$bin_dir/benchtool"
export PATH=$bin_dir:$PATH
echo 'wrap_extra = ["benchtool"]' > "$OP_AWS_CONFIG_DIR/config.toml"
bench_vault
"$OP_AWS" activate nu > "$bench_home/op-aws.nu"
cd "$bench_home" || exit 1

n=${CALLS:-200}
per_call() { # label, code run n times inside one nu
  "$NU" -n --no-std-lib --plugins "$PLUGIN" -c "source op-aws.nu; $2; let t = (timeit { for i in 1..$n { $2 } }); print \$'$1: (\$t / $n)'"
}
per_call "plugin  op-aws use prod          " "op-aws use prod | ignore"
"$NU" -n --no-std-lib -c "source op-aws.nu; let t = (timeit { for i in 1..$n { op-aws use prod } }); print \$'module  op-aws use prod (no plugin): (\$t / $n)'"
per_call "nu      \$env.X = prod            " "\$env.OP_AWS_SESSION_ITEM = 'prod'"
per_call "wrapper benchtool                " "benchtool"
per_call "direct  ^op-aws run -- benchtool " "^op-aws run -- benchtool"
per_call "bare    ^benchtool               " "^benchtool"

RUNS=${RUNS:-60} compare "nu -c, plugin op-aws use" \
  "$NU -n --no-std-lib --plugins $PLUGIN -c null" \
  "$NU -n --no-std-lib --plugins $PLUGIN -c 'op-aws use prod'"
