//! The child's signature, checked as AWS checks it: the canonical request rebuilt from the
//! request as it arrived and the headers the child says it signed, signed with the placeholder
//! secret. Only the child given the placeholder can sign, and a request altered on the way
//! (a header, the path, the body's hash) is refused.

use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::Refused;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far the child's clock (its `x-amz-date`) may be from ours, as AWS allows.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
/// SigV4's unreserved characters; everything else is percent-encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
const UNRESERVED_AND_SLASH: &AsciiSet = &UNRESERVED.remove(b'/');

/// An `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub key_id: String,
    /// `YYYYMMDD`, the scope's date.
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl Authorization {
    pub fn parse(value: &str) -> Result<Self, Refused> {
        let bad = |why: &str| Refused::forbidden(format!("the request's signature: {why}"));
        let Some(rest) = value.strip_prefix(ALGORITHM) else {
            if value.starts_with("AWS4-ECDSA-P256-SHA256") {
                return Err(Refused::unsupported(
                    "SigV4A (multi-Region) signatures cannot be re-signed",
                ));
            }
            return Err(bad("not AWS4-HMAC-SHA256"));
        };
        let (mut credential, mut signed, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let Some((k, v)) = part.trim().split_once('=') else {
                continue;
            };
            match k {
                "Credential" => credential = Some(v),
                "SignedHeaders" => signed = Some(v),
                "Signature" => signature = Some(v),
                _ => {}
            }
        }
        let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature)
        else {
            return Err(bad("Credential, SignedHeaders or Signature is missing"));
        };
        let scope: Vec<&str> = credential.split('/').collect();
        let [key_id, date, region, service, "aws4_request"] = scope[..] else {
            return Err(bad(
                "its credential scope is not KEY/DATE/REGION/SERVICE/aws4_request",
            ));
        };
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        if !name_ok(region) || !name_ok(service) {
            return Err(bad("its region or service is not a name"));
        }
        if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("its date is not YYYYMMDD"));
        }
        let signed_headers: Vec<String> = signed.split(';').map(str::to_owned).collect();
        if !signed_headers.iter().any(|h| h == "host") {
            return Err(bad("the host header is not signed"));
        }
        Ok(Self {
            key_id: key_id.to_owned(),
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            signed_headers,
            signature: signature.to_owned(),
        })
    }
}

/// The parts of a request the signature covers.
pub struct Signed<'a> {
    pub method: &'a str,
    /// As sent: percent-encoded once.
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a http::HeaderMap,
    /// `x-amz-content-sha256`'s value, or the body's hash.
    pub payload_hash: &'a str,
}

/// Whether `auth` is `secret`'s signature of `req`, made within [`MAX_SKEW`] of `now`.
pub fn verify(
    auth: &Authorization,
    req: &Signed<'_>,
    secret: &SecretString,
    now: SystemTime,
) -> Result<(), Refused> {
    let amz_date = header(req.headers, "x-amz-date")
        .ok_or_else(|| Refused::forbidden("the request has no x-amz-date".into()))?;
    if !amz_date.starts_with(&auth.date) {
        return Err(Refused::forbidden(
            "the request's date is not its signature's".into(),
        ));
    }
    let at = humantime::parse_rfc3339(&rfc3339(&amz_date)).map_err(|_| {
        Refused::forbidden("the request's x-amz-date is not YYYYMMDDTHHMMSSZ".into())
    })?;
    let skew = now
        .duration_since(at)
        .or_else(|_| at.duration_since(now))
        .unwrap_or_default();
    if skew > MAX_SKEW {
        return Err(Refused::forbidden(
            "the request was signed more than 15 minutes from now".into(),
        ));
    }
    let key = signing_key(secret, &auth.date, &auth.region, &auth.service);
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    let headers = canonical_headers(req.headers, &auth.signed_headers)?;
    let query = canonical_query(req.query);
    // S3 signs the path as sent, every other service its encoding once more (after removing
    // dot segments): each is tried, since either is the child's own work with the secret.
    for path in canonical_paths(req.path) {
        let creq = format!(
            "{}\n{path}\n{query}\n{headers}\n{}\n{}",
            req.method,
            auth.signed_headers.join(";"),
            req.payload_hash
        );
        let to_sign = format!(
            "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
            hex(&Sha256::digest(creq.as_bytes()))
        );
        let sig = hex(&hmac(&key, to_sign.as_bytes()));
        if bool::from(sig.as_bytes().ct_eq(auth.signature.as_bytes())) {
            return Ok(());
        }
    }
    Err(Refused::forbidden(
        "the signature does not match the request (a wrong key, or the request was altered)".into(),
    ))
}

fn rfc3339(amz: &str) -> String {
    // 20261207T150405Z -> 2026-12-07T15:04:05Z
    if amz.len() != 16 || !amz.is_ascii() {
        return String::new();
    }
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &amz[0..4],
        &amz[4..6],
        &amz[6..8],
        &amz[9..11],
        &amz[11..13],
        &amz[13..15]
    )
}

pub fn header(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
}

fn canonical_paths(path: &str) -> Vec<String> {
    let path = if path.is_empty() { "/" } else { path };
    let once = path.to_owned();
    let twice = utf8_percent_encode(path, UNRESERVED_AND_SLASH).to_string();
    let normalized =
        utf8_percent_encode(&remove_dot_segments(path), UNRESERVED_AND_SLASH).to_string();
    let mut all = vec![once, twice, normalized];
    all.dedup();
    all
}

fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/').skip(1) {
        match seg {
            "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut p = format!("/{}", out.join("/"));
    if (path.ends_with("/.") || path.ends_with("/..")) && !p.ends_with('/') {
        p.push('/');
    }
    p
}

/// Each pair decoded and encoded again as SigV4 wants it, sorted.
pub fn canonical_query(query: &str) -> String {
    let enc = |s: &str| {
        let raw: Vec<u8> = percent_decode_str(s).collect();
        percent_encoding::percent_encode(&raw, UNRESERVED).to_string()
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (enc(k), enc(v))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn canonical_headers(headers: &http::HeaderMap, signed: &[String]) -> Result<String, Refused> {
    let mut out = String::new();
    for name in signed {
        let values: Vec<String> = headers
            .get_all(name.as_str())
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        if values.is_empty() {
            return Err(Refused::forbidden(format!(
                "the signed header {name:?} is not in the request"
            )));
        }
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    Ok(out)
}

fn signing_key(secret: &SecretString, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k = zeroize::Zeroizing::new(format!("AWS4{}", secret.expose_secret()));
    let k = hmac(k.as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    hmac(&k, b"aws4_request")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length.
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's own example (the SigV4 test suite's get-vanilla-query-order-key-case).
    #[test]
    fn the_aws_test_suite_example_verifies() {
        let mut h = http::HeaderMap::new();
        h.insert("host", "example.amazonaws.com".parse().unwrap());
        h.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        let auth = Authorization::parse(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        )
        .unwrap();
        let req = Signed {
            method: "GET",
            path: "/",
            query: "Param2=value2&Param1=value1",
            headers: &h,
            payload_hash: &hex(&Sha256::digest(b"")),
        };
        let secret = SecretString::from("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let at = humantime::parse_rfc3339("2015-08-30T12:40:00Z").unwrap();
        verify(&auth, &req, &secret, at).unwrap();
        // A day later it is too old; another secret or query is refused.
        let later = humantime::parse_rfc3339("2015-08-31T12:40:00Z").unwrap();
        assert!(verify(&auth, &req, &secret, later).is_err());
        let other = SecretString::from("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ");
        assert!(verify(&auth, &req, &other, at).is_err());
        let altered = Signed {
            query: "Param2=value2&Param1=value3",
            ..req
        };
        assert!(verify(&auth, &altered, &secret, at).is_err());
    }

    #[test]
    fn authorization_headers_that_are_not_sigv4_are_refused() {
        for bad in [
            "Bearer x",
            "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/s3/aws4_request",
            "AWS4-HMAC-SHA256 Credential=A/2015/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0",
            "AWS4-HMAC-SHA256 Credential=A/20150830/evil.com:80/s3/aws4_request, SignedHeaders=host, Signature=0",
            "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/s3/aws4_request, SignedHeaders=x-amz-date, Signature=0",
        ] {
            assert!(Authorization::parse(bad).is_err(), "{bad}");
        }
        let e = Authorization::parse("AWS4-ECDSA-P256-SHA256 Credential=x").unwrap_err();
        assert!(e.why.contains("SigV4A"), "{}", e.why);
    }

    #[test]
    fn queries_and_paths_are_canonical() {
        assert_eq!(canonical_query("b=2&a=%7e&a=1&c"), "a=1&a=~&b=2&c=");
        assert_eq!(canonical_query("k=a%20b+c"), "k=a%20b%2Bc");
        assert_eq!(
            canonical_paths("/a/./b/../c%20d"),
            vec![
                "/a/./b/../c%20d".to_owned(),
                "/a/./b/../c%2520d".to_owned(),
                "/a/c%2520d".to_owned()
            ]
        );
        assert_eq!(canonical_paths(""), vec!["/".to_owned()]);
    }
}
