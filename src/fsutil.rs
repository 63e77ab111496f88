//! Private files: 0700 directories we own, 0600 files written atomically (temp, fsync, rename),
//! and an advisory lock so that concurrent writers serialise instead of losing updates.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Creates `dir` (and parents) as 0700 if missing; refuses a symlink, a directory owned by
/// someone else, or one that others can read or write.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            refuse_another_users_parent(dir)?;
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| Error::io(dir, e))?;
        }
        Err(e) => return Err(Error::io(dir, e)),
    }
    check_private_dir(dir)
}

/// Before `dir` and its missing parents are made: the nearest directory that exists must be
/// ours (or root's, like /tmp or /run/user). Root with another user's HOME (`env -i HOME=…`,
/// `sudo -E`) would otherwise leave directories like `~/.local/share` owned by root, and the
/// user's own programs failing on them.
fn refuse_another_users_parent(dir: &Path) -> Result<()> {
    let me = nix::unistd::geteuid().as_raw();
    for parent in dir.ancestors().skip(1) {
        match fs::metadata(parent) {
            Ok(md) if md.uid() == me || md.uid() == 0 => return Ok(()),
            Ok(_) => {
                return Err(Error::UnsafePath(
                    parent.into(),
                    "it belongs to another user: nothing was created in it",
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(parent, e)),
        }
    }
    Ok(())
}

pub fn check_private_dir(dir: &Path) -> Result<()> {
    let md = fs::symlink_metadata(dir).map_err(|e| Error::io(dir, e))?;
    if md.file_type().is_symlink() {
        return Err(Error::UnsafePath(dir.into(), "it is a symbolic link"));
    }
    if !md.is_dir() {
        return Err(Error::UnsafePath(dir.into(), "it is not a directory"));
    }
    if md.uid() != nix::unistd::geteuid().as_raw() {
        return Err(Error::UnsafePath(dir.into(), "it is owned by another user"));
    }
    if md.mode() & 0o077 != 0 {
        // Ours, so tighten it rather than fail: a umask of 022 at first creation is common.
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(dir, e))?;
    }
    Ok(())
}

/// Replaces `path` with `bytes` atomically: a crash leaves either the old or the new file.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    // Replacing another user's file (root with that user's HOME, `sudo -E`) would hand it to us
    // and lock its owner out.
    if let Ok(md) = fs::symlink_metadata(path)
        && md.uid() != nix::unistd::geteuid().as_raw()
    {
        return Err(Error::UnsafePath(
            path.into(),
            "it is owned by another user",
        ));
    }
    #[cfg(test)]
    if crash::now() {
        return Err(Error::io(
            path,
            std::io::Error::other("crashed here (test)"),
        ));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".op-aws-")
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    // The builder's mode is filtered by the umask; set it exactly.
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io(tmp.path(), e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    // Make the rename itself durable.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// An exclusive advisory lock on `<path>.lock`, released on drop.
pub struct LockGuard {
    _file: File,
}

/// `<path>.lock`, opened (made 0600 if missing) for locking.
fn open_lock(path: &Path) -> Result<(File, PathBuf)> {
    let lock_path = lock_path(path);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(|e| Error::io(&lock_path, e))?;
    Ok((file, lock_path))
}

pub fn lock_exclusive(path: &Path) -> Result<LockGuard> {
    let (file, lock_path) = open_lock(path)?;
    file.lock().map_err(|e| Error::io(&lock_path, e))?;
    Ok(LockGuard { _file: file })
}

/// [`lock_exclusive`], waiting for it at most until `deadline`: `None` when another holder
/// keeps it past then.
pub fn lock_exclusive_until(
    path: &Path,
    deadline: std::time::Instant,
) -> Result<Option<LockGuard>> {
    let (file, lock_path) = open_lock(path)?;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(LockGuard { _file: file })),
            Err(fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(fs::TryLockError::WouldBlock) => return Ok(None),
            Err(fs::TryLockError::Error(e)) => return Err(Error::io(&lock_path, e)),
        }
    }
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

/// A `/proc` file: they claim a size of 0, so a plain read grows its buffer from 32 bytes in
/// one call each; one 4 KiB read holds a `stat` whole (the agent reads a few per request).
pub fn read_proc(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut f = fs::File::open(path).ok()?;
    let mut buf = vec![0u8; 4096];
    let mut len = 0;
    loop {
        let room = buf.len() - len;
        match f.read(&mut buf[len..]) {
            Ok(0) => break,
            // procfs hands over a record whole: a short read is its end (one syscall saved).
            Ok(n) if n < room => {
                len += n;
                break;
            }
            Ok(n) => {
                len += n;
                buf.resize(len * 2, 0);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    buf.truncate(len);
    Some(buf)
}

/// Reads a file that may be missing.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Tests: a process that dies before its Nth file write (every later write of the thread fails
/// too), to check that what each step leaves is usable (src/crash_tests.rs).
#[cfg(test)]
pub(crate) mod crash {
    use std::cell::Cell;

    thread_local! {
        /// Writes that still happen; `None`: no crash.
        static WRITES_LEFT: Cell<Option<usize>> = const { Cell::new(None) };
        static WRITES: Cell<usize> = const { Cell::new(0) };
    }

    pub(crate) fn now() -> bool {
        WRITES.with(|w| w.set(w.get() + 1));
        WRITES_LEFT.with(|w| match w.get() {
            Some(0) => true,
            Some(n) => {
                w.set(Some(n - 1));
                false
            }
            None => false,
        })
    }

    /// Runs `f` as a process that dies before its write number `n` (0: before the first).
    pub(crate) fn before_write<T>(n: usize, f: impl FnOnce() -> T) -> T {
        WRITES_LEFT.with(|w| w.set(Some(n)));
        let out = f();
        WRITES_LEFT.with(|w| w.set(None));
        out
    }

    /// How many files `f` writes.
    pub(crate) fn writes_of<T>(f: impl FnOnce() -> T) -> (usize, T) {
        let before = WRITES.with(Cell::get);
        let out = f();
        (WRITES.with(Cell::get) - before, out)
    }
}
