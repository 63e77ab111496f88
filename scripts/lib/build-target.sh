# shellcheck shell=bash
# shellcheck disable=SC2034 # the OP_AWS_* variables are for the scripts that source this
# The one rule for the target op-aws is built for, sourced by scripts/install, scripts/package
# and scripts/test-deps, for every host architecture.
#
# On a Linux glibc host (x86_64, aarch64, armv7, ...) op-aws is linked statically against musl
# (static-pie, still ASLR'd): it starts on every command, and glibc's startup asks the CPU for
# its cache layout with `cpuid`, which a virtual machine traps (docs/vault.md, "Speed"). That
# needs Rust's musl target for the host's architecture (rustup) and musl's C compiler for ring
# (<arch>-linux-musl-gcc: Debian's musl-tools). Without them, glibc statically (its libc.a),
# else dynamically. Elsewhere (macOS), the host's own target.
#
# op_aws_build_target [--add-target]: sets
#   OP_AWS_HOST    the host's target triple
#   OP_AWS_TARGET  the target to build for
#   OP_AWS_LINK    musl | static-glibc | dynamic | native
#   OP_AWS_MUSL    the host's musl triple ("" off Linux glibc)
#   OP_AWS_MUSL_CC musl's C compiler for it
# and, for static-glibc, exports CARGO_TARGET_<HOST>_RUSTFLAGS with +crt-static (for the
# target only: build scripts and proc macros stay dynamic). --add-target adds the musl target
# with rustup when musl's C compiler is there and the target is not.

op_aws_build_target() {
  local add=${1:-} var static_libc
  OP_AWS_HOST=$(rustc -vV | sed -n 's/^host: //p')
  OP_AWS_MUSL=
  OP_AWS_MUSL_CC=
  case $OP_AWS_HOST in
    *-linux-gnu*) ;;
    *)
      OP_AWS_TARGET=$OP_AWS_HOST
      OP_AWS_LINK=native
      return 0
      ;;
  esac
  # x86_64-unknown-linux-gnu -> x86_64-unknown-linux-musl; armv7-...-gnueabihf -> -musleabihf.
  OP_AWS_MUSL=${OP_AWS_HOST/-linux-gnu/-linux-musl}
  OP_AWS_MUSL_CC=${OP_AWS_HOST%%-*}-linux-musl-gcc
  if command -v "$OP_AWS_MUSL_CC" >/dev/null 2>&1 && command -v rustup >/dev/null 2>&1; then
    if ! rustup target list --installed 2>/dev/null | grep -qx "$OP_AWS_MUSL" &&
      [ "$add" = --add-target ]; then
      rustup target add "$OP_AWS_MUSL" >&2 || true
    fi
    if rustup target list --installed 2>/dev/null | grep -qx "$OP_AWS_MUSL"; then
      OP_AWS_TARGET=$OP_AWS_MUSL
      OP_AWS_LINK=musl
      return 0
    fi
  fi
  OP_AWS_TARGET=$OP_AWS_HOST
  # glibc's static archive is a package of its own on some systems (glibc-static on Fedora).
  static_libc=$(cc -print-file-name=libc.a 2>/dev/null || true)
  if [ "${static_libc#/}" = "$static_libc" ]; then
    OP_AWS_LINK=dynamic
    return 0
  fi
  OP_AWS_LINK=static-glibc
  var=CARGO_TARGET_$(printf '%s' "$OP_AWS_HOST" | tr 'a-z-' 'A-Z_')_RUSTFLAGS
  export "$var=${!var:+${!var} }-C target-feature=+crt-static"
}
