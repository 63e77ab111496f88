//! Entry points for the fuzz targets in `fuzz/` (not an API): the parsers of outside bytes that
//! are private to their modules, reached without the files around them.

use std::path::Path;

use zeroize::Zeroizing;

use crate::Result;
use crate::item::Item;

/// `data` with every `placeholder` replaced by `value`: an input names a secret the target
/// knows (the identity, the endpoint's token) without the corpus holding it.
pub fn substitute(data: &[u8], placeholder: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut rest = data;
    while !rest.is_empty() {
        if !placeholder.is_empty() && rest.starts_with(placeholder) {
            out.extend_from_slice(value);
            rest = &rest[placeholder.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

/// `.op-aws.toml`, as `trust` and the cd hook parse it.
pub fn project(bytes: &[u8]) -> Result<crate::model::project::Project> {
    crate::project::parse(bytes, Path::new("/fuzz/.op-aws.toml"))
}

/// `config.toml`.
pub fn config(bytes: &[u8]) -> Result<crate::config::Config> {
    crate::config::Config::parse(bytes.to_vec(), Path::new("/fuzz/config.toml"))
}

/// `op item get --format json`: the item, and whether op gave only a one-time code.
pub fn op_item(json: &[u8], requested: &str) -> Result<(Item, bool)> {
    crate::onepassword::parse_item(json, requested).map(|r| (r.item, r.code_only))
}

/// The JSON a 1Password item is kept as in the agent.
pub fn op_item_cache_json(item: &Item) -> Option<Zeroizing<String>> {
    crate::onepassword::to_secret_json(item)
}

/// What [`signin`] read.
pub struct SignInRead {
    /// An AWS CLI cache entry: its refresh token, and whether its key loads.
    pub entry: Option<(Zeroizing<String>, bool)>,
    /// The session an identity token names.
    pub session: Option<String>,
    /// The code of a pasted confirmation.
    pub code: Option<Zeroizing<String>>,
}

/// What `aws login` hands op-aws from outside, read as op-aws reads it: an AWS CLI cache entry
/// (`import --login`), an identity token, a pasted confirmation for the sign-in whose state is
/// `state`.
pub fn signin(bytes: &[u8], state: &str) -> SignInRead {
    let text = String::from_utf8_lossy(bytes);
    let entry = crate::signin::cache::Entry::parse(bytes).ok().map(|e| {
        let _ = e.expires_at();
        (
            Zeroizing::new(e.refresh_token.clone()),
            crate::signin::dpop::Key::from_pem(&e.dpop_key).is_ok(),
        )
    });
    SignInRead {
        entry,
        session: crate::signin::session_of_id_token(&text),
        code: crate::signin::pasted_code(&text, state).ok(),
    }
}

/// Whether the agent's one-pass read of a request line ([`crate::link::protocol::Request::from_line`])
/// gives what serde's tagged-enum read gives (both as JSON, or both an error).
pub fn request_reads_agree(line: &[u8]) -> bool {
    use crate::link::protocol::Request;
    let show = |r: serde_json::Result<Request>| r.ok().map(|req| serde_json::to_vec(&req).ok());
    show(Request::from_line(line)) == show(serde_json::from_slice(line))
}

/// The agent's request handling in this process: its decoder and handler on a state that is
/// locked or holds `identity` (a Resolve request is decoded, then refused unrun).
pub struct Agent(crate::agent::respond::InProcess);

impl Agent {
    pub fn new(dirs: crate::dirs::Dirs, identity: Option<crate::vault::Identity>) -> Self {
        Self(crate::agent::respond::InProcess::new(dirs, identity))
    }

    /// The line the agent writes back for request `line` (without its newline).
    pub fn answer(&self, line: &[u8]) -> Zeroizing<Vec<u8>> {
        self.0.answer_line(line)
    }

    /// Everything a request can change (secrets digested), to compare before and after.
    pub fn state(&self) -> String {
        self.0.digest()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn substitute_replaces_every_placeholder() {
        assert_eq!(
            super::substitute(b"aXXbXX", b"XX", b"TOKEN"),
            b"aTOKENbTOKEN".to_vec()
        );
        assert_eq!(super::substitute(b"abc", b"", b"Z"), b"abc".to_vec());
    }
}
