//! Link settings of the op-aws binary.

#[allow(clippy::disallowed_methods)] // a build script's inputs are its environment
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // The musl build (scripts/install) is a static-pie that relocates itself at every start:
    // packed (RELR), its 13,000 relative relocations are 3 KB to read instead of 320 KB. musl
    // applies them from 1.2.4 on (Rust's musl target bundles 1.2.5); a linker without the
    // option (binutils before 2.38) warns and links as before.
    if std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("musl") {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
