//! The proxy's side of the wire: the request re-signed for the service, the body checked
//! as it streams, and refusals in the error format of the protocol the child spoke.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::BodyExt;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::creds::Credentials;

use super::sigv4::{self, Authorization, header};
use super::{Body, BoxError, Refused};

/// What the child's request says about its body.
pub enum Payload {
    /// No `x-amz-content-sha256`: read whole, hashed here.
    Buffered,
    /// A hex SHA-256 the signature covers: checked as the body streams through.
    Hashed(String),
    /// `UNSIGNED-PAYLOAD`, or `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (aws-chunked with trailing
    /// checksums, which the service checks).
    Unsigned(&'static str),
}

/// The request for `url`, signed with `creds`: the child's method, path, query, headers
/// (but its signature, date, token, host and hop-by-hop ones) and body.
#[allow(clippy::too_many_arguments)]
pub fn resign(
    parts: &http::request::Parts,
    url: &url::Url,
    query: &str,
    payload: &Payload,
    bytes: Option<&[u8]>,
    auth: &Authorization,
    creds: &Credentials,
    body: Body,
) -> std::result::Result<http::Request<Body>, Refused> {
    use aws_sigv4::http_request::{
        PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
        UriPathNormalizationMode, sign,
    };
    let bad = |why: String| Refused {
        status: 500,
        code: "InternalFailure",
        why: format!("op-aws keyless: cannot re-sign: {why}"),
    };
    let mut uri = url.to_string();
    if !query.is_empty() {
        uri.push('?');
        uri.push_str(query);
    }
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => return Err(bad("no host".into())),
    };
    let mut headers = parts.headers.clone();
    strip_hop_by_hop(&mut headers);
    for h in [
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
        "host",
        "expect",
    ] {
        headers.remove(h);
    }
    headers.insert(
        http::header::HOST,
        http::HeaderValue::from_str(&host).map_err(|e| bad(e.to_string()))?,
    );
    let mut settings = SigningSettings::default();
    if auth.service == "s3" {
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    }
    if !matches!(payload, Payload::Buffered) || auth.service == "s3" {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let signable_body = match (payload, bytes) {
        (Payload::Buffered, Some(b)) => SignableBody::Bytes(b),
        (Payload::Buffered, None) => SignableBody::empty(),
        (Payload::Hashed(h), _) => SignableBody::Precomputed(h.clone()),
        (Payload::Unsigned("UNSIGNED-PAYLOAD"), _) => SignableBody::UnsignedPayload,
        (Payload::Unsigned(_), _) => SignableBody::StreamingUnsignedPayloadTrailer,
    };
    let identity = aws_credential_types::Credentials::new(
        creds.access_key_id.clone(),
        creds.secret_access_key.expose_secret().to_owned(),
        creds
            .session_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
        creds.expiration,
        "op-aws",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(&auth.region)
        .name(&auth.service)
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|e| bad(e.to_string()))?
        .into();
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
        .collect();
    let signable = SignableRequest::new(
        parts.method.as_str(),
        uri.as_str(),
        pairs.into_iter(),
        signable_body,
    )
    .map_err(|e| bad(e.to_string()))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| bad(e.to_string()))?
        .into_parts();
    let mut out = http::Request::builder()
        .method(parts.method.clone())
        .uri(uri.as_str())
        .body(body)
        .map_err(|e| bad(e.to_string()))?;
    *out.headers_mut() = headers;
    instructions.apply_to_request_http1x(&mut out);
    Ok(out)
}

pub fn strip_hop_by_hop(headers: &mut http::HeaderMap) {
    for h in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "proxy-authenticate",
        "te",
        "trailer",
        "upgrade",
        "transfer-encoding",
    ] {
        headers.remove(h);
    }
}

pub fn full(b: Bytes) -> Body {
    http_body_util::Full::new(b)
        .map_err(|never| match never {})
        .boxed()
}

pub const ALTERED: &str = "the request body does not match the hash it was signed with";

/// A body passed on as it arrives, hashed on the way; its last piece is held back until the
/// hash is known, so an altered body never reaches the service whole.
pub struct Verified {
    inner: hyper::body::Incoming,
    hasher: Sha256,
    expected: String,
    held: Option<http_body::Frame<Bytes>>,
    checked: bool,
}

impl Verified {
    pub fn new(inner: hyper::body::Incoming, expected: String) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            expected,
            held: None,
            checked: false,
        }
    }
}

impl http_body::Body for Verified {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<http_body::Frame<Bytes>, BoxError>>> {
        loop {
            if self.checked {
                return Poll::Ready(self.held.take().map(Ok));
            }
            match Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(Box::new(e)))),
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(d) = frame.data_ref() {
                        self.hasher.update(d);
                    }
                    if let Some(prev) = self.held.replace(frame) {
                        return Poll::Ready(Some(Ok(prev)));
                    }
                }
                Poll::Ready(None) => {
                    self.checked = true;
                    let got = sigv4::hex(&std::mem::take(&mut self.hasher).finalize());
                    if !bool::from(got.as_bytes().ct_eq(self.expected.as_bytes())) {
                        self.held = None;
                        return Poll::Ready(Some(Err(ALTERED.into())));
                    }
                }
            }
        }
    }
}

/// How the child's SDK reads an error: by the protocol it spoke.
pub enum Protocol {
    Json,
    Query,
    RestXml,
}

impl Protocol {
    pub fn of(headers: &http::HeaderMap) -> Self {
        let ct = header(headers, "content-type").unwrap_or_default();
        if headers.contains_key("x-amz-target") || ct.starts_with("application/x-amz-json") {
            Self::Json
        } else if ct.starts_with("application/x-www-form-urlencoded") {
            Self::Query
        } else {
            Self::RestXml
        }
    }

    pub fn error(&self, r: &Refused) -> http::Response<Body> {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let (ct, text) = match self {
            Self::Json => (
                "application/x-amz-json-1.1",
                serde_json::json!({ "__type": r.code, "message": r.why }).to_string(),
            ),
            Self::Query => (
                "text/xml",
                format!(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>op-aws</RequestId></ErrorResponse>",
                    r.code,
                    esc(&r.why)
                ),
            ),
            Self::RestXml => (
                "application/xml",
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>op-aws</RequestId></Error>",
                    r.code,
                    esc(&r.why)
                ),
            ),
        };
        let mut resp = http::Response::new(full(Bytes::from(text)));
        *resp.status_mut() =
            http::StatusCode::from_u16(r.status).unwrap_or(http::StatusCode::FORBIDDEN);
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(ct),
        );
        resp.headers_mut()
            .insert("x-amzn-errortype", http::HeaderValue::from_static(r.code));
        resp
    }
}
