//! One-time codes from the item's `One-Time Password` field: a base32 secret (any case, spaces,
//! dashes, `=` padding, short secrets) or an `otpauth://totp/...` URI. totp-rs does the maths;
//! this module only makes what people actually paste acceptable to it.

use totp_rs::{Builder, Secret, Totp};

use crate::{Error, Result};

/// A TOTP generator parsed from what the item holds.
pub fn parse(value: &str) -> Result<Totp> {
    let value = value.trim();
    if value
        .get(..10)
        .is_some_and(|p| p.eq_ignore_ascii_case("otpauth://"))
    {
        return parse_uri(value);
    }
    let bytes = decode_base32(value)?;
    Ok(Builder::new().with_secret(bytes).build_noncompliant())
}

/// The code for the time step containing `unix_secs`, zero-padded.
pub fn code_at(totp: &Totp, unix_secs: u64) -> String {
    totp.generate(unix_secs).to_string()
}

/// The index of the time step containing `unix_secs`.
pub fn step_of(totp: &Totp, unix_secs: u64) -> u64 {
    unix_secs / totp.step()
}

fn bad(why: &str) -> Error {
    Error::BadTotp(why.to_owned())
}

/// Authenticator apps show secrets in groups, lowercase, padded: all of it is the same secret.
fn normalize(secret: &str) -> String {
    secret
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .trim_end_matches('=')
        .to_ascii_uppercase()
}

fn decode_base32(secret: &str) -> Result<Vec<u8>> {
    let norm = normalize(secret);
    if norm.is_empty() {
        return Err(bad("it is empty"));
    }
    let decoded = Secret::try_from_base32(&norm)
        .map_err(|_| bad("it is not base32 (letters A-Z and digits 2-7)"))?;
    let bytes = decoded.as_ref().to_vec();
    // Below 80 bits no real issuer hands out secrets; it is more likely a typo than a key.
    if bytes.len() < 10 {
        return Err(bad("it is too short to be a TOTP secret"));
    }
    Ok(bytes)
}

/// totp-rs rejects lowercase, spaced or padded secrets in URIs, so the `secret` parameter is
/// normalised first; everything else (digits, period, algorithm, issuer) is totp-rs's to read.
fn parse_uri(uri: &str) -> Result<Totp> {
    let (head, query) = uri
        .split_once('?')
        .ok_or_else(|| bad("the otpauth:// URI has no secret"))?;
    let mut found = false;
    let mut params = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some((k, v)) if k.eq_ignore_ascii_case("secret") => {
                let raw = percent_encoding::percent_decode_str(v)
                    .decode_utf8()
                    .map_err(|_| bad("the otpauth:// URI has a malformed secret"))?;
                // Validate (and get a clear error) before totp-rs sees it.
                decode_base32(&raw)?;
                params.push(format!("secret={}", normalize(&raw)));
                found = true;
            }
            _ => params.push(pair.to_owned()),
        }
    }
    if !found {
        return Err(bad("the otpauth:// URI has no secret"));
    }
    let rebuilt = format!("{head}?{}", params.join("&"));
    let totp = Totp::from_url_unchecked(&rebuilt)
        .map_err(|e| Error::BadTotp(format!("bad otpauth:// URI: {e}")))?;
    // Anything outside 6..=8 digits or a zero period would panic or never match an authenticator.
    if !(6..=8).contains(&totp.digits()) {
        return Err(bad("an otpauth:// URI must ask for 6 to 8 digits"));
    }
    if totp.step() == 0 {
        return Err(bad("an otpauth:// URI must have a period above 0"));
    }
    Ok(totp)
}

#[cfg(test)]
mod tests {
    use totp_rs::Algorithm;

    use super::*;

    const SEED20: &[u8] = b"12345678901234567890";
    const SEED32: &[u8] = b"12345678901234567890123456789012";
    const SEED64: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    fn rfc(alg: Algorithm, seed: &[u8]) -> Totp {
        Builder::new()
            .with_algorithm(alg)
            .with_digits(8)
            .with_secret(seed.to_vec())
            .build_noncompliant()
    }

    #[test]
    fn rfc6238_appendix_b_vectors() {
        let table: [(u64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1_111_111_109, "07081804", "68084774", "25091201"),
            (1_111_111_111, "14050471", "67062674", "99943326"),
            (1_234_567_890, "89005924", "91819424", "93441116"),
            (2_000_000_000, "69279037", "90698825", "38618901"),
            (20_000_000_000, "65353130", "77737706", "47863826"),
        ];
        let (s1, s256, s512) = (
            rfc(Algorithm::SHA1, SEED20),
            rfc(Algorithm::SHA256, SEED32),
            rfc(Algorithm::SHA512, SEED64),
        );
        for (t, c1, c256, c512) in table {
            assert_eq!(code_at(&s1, t), c1, "SHA1 at {t}");
            assert_eq!(code_at(&s256, t), c256, "SHA256 at {t}");
            assert_eq!(code_at(&s512, t), c512, "SHA512 at {t}");
        }
    }

    #[test]
    fn base32_in_the_forms_people_paste() {
        // The RFC SHA1 seed, base32: 6 digits at T=59 is the last 6 of 94287082.
        for s in [
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            "gezdgnbvgy3tqojqgezdgnbvgy3tqojq",
            "gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
            "GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ",
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====\n",
        ] {
            let t = parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(code_at(&t, 59), "287082", "{s:?}");
        }
        // 80-bit secrets (common in older authenticators) are accepted.
        let short = parse("JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(code_at(&short, 59).len(), 6);
    }

    #[test]
    fn otpauth_uri_with_non_default_digits_and_period() {
        let uri = "otpauth://totp/ACME:alice?secret=gezd%20gnbv%20gy3t%20qojq%20gezd%20gnbv%20gy3t%20qojq&issuer=ACME&digits=8&period=60";
        let t = parse(uri).unwrap();
        assert_eq!(t.digits(), 8);
        assert_eq!(t.step(), 60);
        // A 60 s period halves the counter: T=120 here is counter 2, T=60 with 30 s steps.
        let s1 = rfc(Algorithm::SHA1, SEED20);
        assert_eq!(code_at(&t, 59), code_at(&s1, 0));
        assert_eq!(code_at(&t, 120), code_at(&s1, 60));
        assert_eq!(step_of(&t, 119), 1);
        // SHA256 via the URI.
        let t = parse(
            "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA&algorithm=SHA256&digits=8",
        )
        .unwrap();
        assert_eq!(code_at(&t, 59), "46119246");
    }

    #[test]
    fn bad_secrets_are_clear_errors() {
        for (s, want) in [
            ("", "empty"),
            ("not base32!", "base32"),
            ("GEZDGNBV", "too short"),
            ("otpauth://totp/x?issuer=y", "no secret"),
            (
                "otpauth://hotp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
                "otpauth",
            ),
            (
                "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=12",
                "6 to 8",
            ),
            (
                "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&period=0",
                "period",
            ),
        ] {
            let e = parse(s).unwrap_err().to_string();
            assert!(e.contains(want), "{s:?}: {e}");
            assert!(
                !e.contains("GEZDGNBV"),
                "the secret must not appear in errors: {e}"
            );
        }
    }
}
