//! The keyless proxy's reading of a request from the command it serves (`run --keyless`): the
//! `Authorization` header, the canonical query and headers, the signature check and what the
//! call is. Input: `METHOD PATH[?QUERY]`, header lines `name: value`, a blank line, then the
//! body.
//!
//! Holds: nothing panics; a signature is accepted only if it is 64 lowercase hex digits and the
//! request names a date; every call has a service, a region and an action.
#![no_main]

use libfuzzer_sys::fuzz_target;
use op_aws::keyless::{classify, sigv4};
use secrecy::SecretString;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let first = lines.next().unwrap_or_default();
    let (method, target) = first.split_once(' ').unwrap_or((first, "/"));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = http::HeaderMap::new();
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let (Ok(k), Ok(v)) = (
            http::HeaderName::from_bytes(k.trim().as_bytes()),
            http::HeaderValue::from_str(v.trim()),
        ) else {
            continue;
        };
        headers.append(k, v);
    }
    let _ = sigv4::canonical_query(query);
    let Some(auth) = sigv4::header(&headers, "authorization") else {
        return;
    };
    let Ok(auth) = sigv4::Authorization::parse(&auth) else {
        return;
    };
    let hash = sigv4::header(&headers, "x-amz-content-sha256").unwrap_or_default();
    let signed = sigv4::Signed {
        method,
        path,
        query,
        headers: &headers,
        payload_hash: &hash,
    };
    let secret = SecretString::from("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_000_000);
    if sigv4::verify(&auth, &signed, &secret, at).is_ok() {
        assert!(
            auth.signature.len() == 64
                && auth
                    .signature
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "accepted {:?}",
            auth.signature
        );
        assert!(headers.contains_key("x-amz-date"));
    }
    let call = classify::classify(&classify::Seen {
        service: &auth.service,
        region: &auth.region,
        method,
        path,
        query,
        target: sigv4::header(&headers, "x-amz-target").as_deref(),
        form: Some(body.as_bytes()),
        copy_source: headers.contains_key("x-amz-copy-source"),
    });
    assert!(!call.service.is_empty() && !call.region.is_empty() && !call.action.is_empty());
    let _ = classify::Rules {
        read_only: true,
        ..Default::default()
    }
    .decide(&call);
});
