//! How this op-aws was installed: from the Debian package (`scripts/package`), which dpkg
//! records, or otherwise (scripts/install, `cargo install`, a build tree). `init` and `doctor`
//! say what a packaged install already did (completions, man pages, the nushell plugin in
//! /usr/bin) instead of how to do it by hand.

use std::path::{Path, PathBuf};

/// The package's file list, as dpkg keeps it.
const DPKG_LIST: &str = "/var/lib/dpkg/info/op-aws.list";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packaged {
    /// The nushell plugin beside the binary, for `plugin add`.
    pub plugin: PathBuf,
}

/// `Some` when `exe` (the running binary) is the one the op-aws package installed.
pub fn packaged(exe: &Path) -> Option<Packaged> {
    packaged_by(exe, Path::new(DPKG_LIST))
}

fn packaged_by(exe: &Path, list: &Path) -> Option<Packaged> {
    let files = std::fs::read_to_string(list).ok()?;
    let exe = std::fs::canonicalize(exe).unwrap_or_else(|_| exe.to_owned());
    files
        .lines()
        .any(|l| std::fs::canonicalize(l).is_ok_and(|p| p == exe) || Path::new(l) == exe)
        .then(|| Packaged {
            plugin: exe.with_file_name("nu_plugin_op_aws"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_binary_dpkg_lists_is_packaged() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("usr/bin");
        std::fs::create_dir_all(&bin).unwrap();
        let exe = bin.join("op-aws");
        std::fs::write(&exe, "").unwrap();
        let list = dir.path().join("op-aws.list");
        assert_eq!(packaged_by(&exe, &list), None, "no package installed");
        std::fs::write(&list, format!("/.\n/usr\n{}\n", exe.display())).unwrap();
        assert_eq!(
            packaged_by(&exe, &list),
            Some(Packaged {
                plugin: bin.join("nu_plugin_op_aws")
            })
        );
        let other = dir.path().join("op-aws");
        std::fs::write(&other, "").unwrap();
        assert_eq!(
            packaged_by(&other, &list),
            None,
            "another copy is not the package's"
        );
    }
}
