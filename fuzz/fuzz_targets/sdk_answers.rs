//! STS, IAM, SSO-OIDC and SSO portal answers, as op-aws's SDK clients receive them: every
//! request is answered with the fuzz input (status and body) by a local transport, on a runtime
//! whose time is paused (retry backoff passes at once).
//!
//! Holds: no secret op-aws sent (the signing key, session token, SSO access token, client
//! secret, device and refresh codes) appears in an error; an error is one printable line;
//! credentials op-aws accepts have a key id, a secret and a session token; every call ends
//! (a paging answer cannot keep op-aws asking forever).
#![no_main]

use std::sync::{LazyLock, Mutex};

use libfuzzer_sys::fuzz_target;
use op_aws::creds::Credentials;
use op_aws::iam::Iam;
use op_aws::sso::client::{Clients, Registration};
use op_aws::sts::client::{Client, Transport};
use op_aws::sts::plan::RoleStep;
use secrecy::{ExposeSecret, SecretString};

const SIGNER_SECRET: &str = "FuzzSignerSecretKey0000000000000000000000";
const SIGNER_TOKEN: &str = "FuzzSignerSessionToken000000000000";
const ACCESS_TOKEN: &str = "FuzzSsoAccessToken000000000000";
const CLIENT_SECRET: &str = "FuzzSsoClientSecret00000000000";
const DEVICE_CODE: &str = "FuzzSsoDeviceCode0000000000000";
const REFRESH_TOKEN: &str = "FuzzSsoRefreshToken00000000000";
const SECRETS: &[&str] = &[
    SIGNER_SECRET,
    SIGNER_TOKEN,
    ACCESS_TOKEN,
    CLIENT_SECRET,
    DEVICE_CODE,
    REFRESH_TOKEN,
];

/// The answer every request gets: status, content type, body; and how many requests came.
static ANSWER: Mutex<(u16, &'static str, Vec<u8>, usize)> =
    Mutex::new((200, "text/xml", Vec::new(), 0));

fn transport() -> Transport {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let http = aws_smithy_http_client::test_util::infallible_client_fn(|_req| {
        let mut a = ANSWER.lock().unwrap();
        a.3 += 1;
        http::Response::builder()
            .status(a.0)
            .header("content-type", a.1)
            .body(aws_smithy_types::body::SdkBody::from(a.2.clone()))
            .unwrap()
    });
    Transport::with_http(rt, http)
}

struct World {
    sts: Client,
    iam: Iam,
    sso: Clients,
}

static WORLD: LazyLock<World> = LazyLock::new(|| World {
    sts: Client::with_transport(transport(), "us-east-1", Some("http://127.0.0.1:1")),
    iam: Iam::with_transport(transport(), "us-east-1", Some("http://127.0.0.1:1")),
    sso: Clients::with_transport(
        transport(),
        "us-east-1",
        Some("http://127.0.0.1:1"),
        Some("http://127.0.0.1:1"),
        op_aws::partition::Variant::default(),
    ),
});

fn signer() -> Credentials {
    Credentials {
        access_key_id: "AKIAFUZZSIGNER000000".into(),
        secret_access_key: SecretString::from(SIGNER_SECRET),
        session_token: Some(SecretString::from(SIGNER_TOKEN)),
        expiration: None,
    }
}

fn usable(c: &Credentials) {
    assert!(
        !c.access_key_id.is_empty(),
        "accepted credentials without a key id"
    );
    assert!(
        !c.secret_access_key.expose_secret().is_empty(),
        "accepted credentials without a secret"
    );
    assert!(
        c.session_token
            .as_ref()
            .is_some_and(|t| !t.expose_secret().is_empty()),
        "accepted temporary credentials without a session token"
    );
}

fuzz_target!(|data: &[u8]| {
    let [op, status, kind, body @ ..] = data else {
        return;
    };
    let status = [200, 400, 403, 404, 500][usize::from(*status) % 5];
    let content_type =
        ["text/xml", "application/json", "application/x-amz-json-1.1"][usize::from(*kind) % 3];
    *ANSWER.lock().unwrap() = (status, content_type, body.to_vec(), 0);
    let w = &*WORLD;
    let step = RoleStep {
        profile: "p".into(),
        role_arn: "arn:aws:iam::123456789012:role/R".into(),
        session_name: None,
        external_id: None,
        duration: None,
        source_identity: None,
        tags: Vec::new(),
        transitive_tags: Vec::new(),
    };
    let reg = Registration {
        client_id: "client".into(),
        client_secret: SecretString::from(CLIENT_SECRET),
        expires_at: 0,
    };
    let error: Option<op_aws::Error> = match op % 12 {
        0 => w
            .sts
            .assume_role(&signer(), &step, "fuzz")
            .map(|c| usable(&c))
            .err(),
        1 => w
            .sts
            .get_session_token(&signer(), Some(("arn:aws:iam::1:mfa/d", "123456")), None)
            .map(|c| usable(&c))
            .err(),
        2 => w.sts.caller_arn(&signer()).err(),
        3 => w.iam.user(&signer()).err(),
        4 => w.iam.keys(&signer(), "u").err(),
        5 => w.iam.create_key(&signer(), "u").err(),
        6 => w.sso.register(&[]).err(),
        7 => w
            .sso
            .start_device_authorization(&reg, "https://d-1.awsapps.com/start")
            .err(),
        8 => w.sso.poll("client", CLIENT_SECRET, DEVICE_CODE).err(),
        9 => w.sso.refresh("client", CLIENT_SECRET, REFRESH_TOKEN).err(),
        10 => w
            .sso
            .role_credentials(ACCESS_TOKEN, "123456789012", "R")
            .map(|c| usable(&c))
            .err(),
        _ => w
            .sso
            .accounts(ACCESS_TOKEN)
            .err()
            .or_else(|| w.sso.roles(ACCESS_TOKEN, "1").err()),
    };
    let requests = ANSWER.lock().unwrap().3;
    assert!(requests <= 100, "{requests} requests for one call");
    if let Some(e) = error {
        let msg = e.to_string();
        let echoed = String::from_utf8_lossy(body);
        for s in SECRETS {
            if !echoed.contains(s) {
                assert!(!msg.contains(s), "an error shows a secret: {msg}");
            }
        }
        assert!(
            !msg.chars().any(char::is_control),
            "an error that is not one printable line: {msg:?}"
        );
    }
});
