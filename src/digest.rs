//! Stable short digests, for file names and cache keys made of what identifies a thing.

use sha2::{Digest, Sha256};

/// A 128-bit SHA-256 digest of `v`'s JSON, in hex: a key that changes when anything in `v` does.
pub fn hash(v: &serde_json::Value) -> String {
    hex(&Sha256::digest(v.to_string().as_bytes())[..16])
}

/// Bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
