//! What `aws login` hands op-aws from outside: an AWS CLI cache entry (`import --login` reads
//! `~/.aws/login/cache/*.json`, which anyone who can write there shapes), the identity token a
//! sign-in answers with, and the code a person pastes after `signin --remote`.
//!
//! Holds: nothing panics; an entry parses only with a refresh token and a key that loads; a
//! session named by a token is an ARN with no whitespace or control character; a pasted code
//! is accepted only for the sign-in whose state it carries, and is never empty.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let read = op_aws::fuzzing::signin(data, "S1");
    if let Some((refresh, key_loads)) = read.entry {
        assert!(!refresh.is_empty());
        assert!(key_loads);
    }
    if let Some(arn) = read.session {
        assert!(arn.starts_with("arn:"), "{arn:?}");
        assert!(!arn.chars().any(|c| c.is_whitespace() || c.is_control()), "{arn:?}");
    }
    if let Some(code) = read.code {
        assert!(!code.is_empty());
        let other = op_aws::fuzzing::signin(data, "another state").code;
        assert!(other.is_none(), "a code accepted for two states");
    }
});
