//! The byte scanner that finds plaintext keys in the AWS files (`import`, `doctor`), and the
//! removal that `import --remove-plaintext` writes back.
//!
//! Holds: a removal keeps every other byte (the output is the input without exactly the
//! counted key lines of the chosen profiles); the removed profiles have no key left; removing
//! nothing changes nothing; no secret shows in what is printed about a finding.
#![no_main]

use std::collections::HashSet;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use op_aws::plaintext::{FileKind, remove_key_lines, scan_bytes};
use secrecy::ExposeSecret;

fuzz_target!(|data: &[u8]| {
    let Some((&first, bytes)) = data.split_first() else {
        return;
    };
    let kind = if first & 1 == 0 {
        FileKind::Credentials
    } else {
        FileKind::Config
    };
    let found = scan_bytes(bytes, kind, Path::new("/fuzz/credentials"));

    for f in &found {
        if let Some(secret) = &f.secret_access_key {
            let s = secret.expose_secret();
            assert!(!s.is_empty() && s.trim() == s, "an untrimmed secret {s:?}");
            // What is printed about a finding does not depend on its secret.
            let other = op_aws::plaintext::Found {
                path: f.path.clone(),
                profile: f.profile.clone(),
                access_key_id: f.access_key_id.clone(),
                secret_access_key: Some("another".to_owned().into()),
                temporary: f.temporary,
            };
            assert_eq!(
                format!("{f:?}"),
                format!("{other:?}"),
                "Debug shows the secret"
            );
        }
    }

    let (same, none) = remove_key_lines(bytes, kind, &HashSet::new());
    assert_eq!(
        (same.as_slice(), none),
        (bytes, 0),
        "removing nothing changed the file"
    );

    // Remove the first profile's keys (the second bit picks every profile instead).
    let chosen: HashSet<String> = if first & 2 == 0 {
        found.iter().take(1).map(|f| f.profile.clone()).collect()
    } else {
        found.iter().map(|f| f.profile.clone()).collect()
    };
    let (out, removed) = remove_key_lines(bytes, kind, &chosen);
    let lines_in: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'\n').collect();
    let lines_out: Vec<&[u8]> = out.split_inclusive(|b| *b == b'\n').collect();
    assert_eq!(
        lines_in.len(),
        lines_out.len() + removed,
        "removed lines miscounted"
    );
    // The output is the input with whole lines taken out, in order.
    let mut rest = lines_out.iter().peekable();
    for l in &lines_in {
        if rest.peek() == Some(&l) {
            rest.next();
        }
    }
    assert!(rest.next().is_none(), "the removal changed a line it kept");
    // Nothing of the chosen profiles is found again; the others are found as before.
    let again = scan_bytes(&out, kind, Path::new("/fuzz/credentials"));
    for f in &again {
        assert!(
            !chosen.contains(&f.profile)
                || (f.access_key_id.is_none() && f.secret_access_key.is_none() && !f.temporary),
            "{:?} still has keys after removal",
            f.profile
        );
    }
    for f in found.iter().filter(|f| !chosen.contains(&f.profile)) {
        let g = again
            .iter()
            .find(|g| g.profile == f.profile)
            .expect("an unchosen profile kept");
        assert_eq!(g.access_key_id, f.access_key_id);
        assert_eq!(
            g.secret_access_key
                .as_ref()
                .map(|s| s.expose_secret().to_owned()),
            f.secret_access_key
                .as_ref()
                .map(|s| s.expose_secret().to_owned())
        );
    }
});
