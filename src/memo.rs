//! Files parsed once per change, in the long-lived process that reads them on every request
//! (the agent): a parsed value is kept with what identifies the files it came from (device,
//! inode, size, modification and change times) and handed out again while a `stat` of each
//! finds them so. Short processes never turn it on: for them the `stat`s would be extra work.
//!
//! A file changed less than [`SETTLE`] before it was read is not kept: the kernel stamps a
//! change with a coarse clock (one tick), so a second edit of the same size within that tick
//! would look like no change at all (git's "racily clean" entries). A value whose files changed
//! while it was being read is not kept either. An error is never kept.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

static ON: AtomicBool = AtomicBool::new(false);

/// How long ago a file must have last changed for its parsed value to be kept.
pub const SETTLE: Duration = Duration::from_secs(1);

/// Values kept per kind of file (a caller's AWS files may be other paths than the next one's);
/// past it, the oldest goes.
const MAX_KEPT: usize = 16;

/// Turns keeping on, for this process (the agent, as it starts).
pub fn keep_parsed() {
    ON.store(true, Ordering::Relaxed);
}

/// What tells a file's version apart; `None` in a list: the file is missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    /// The file's stamp; `Ok(None)`: it is missing. Any other failure: nothing is kept.
    fn of(path: &Path) -> std::io::Result<Option<Self>> {
        use std::os::unix::fs::MetadataExt;
        match std::fs::metadata(path) {
            Ok(m) => Ok(Some(Self {
                dev: m.dev(),
                ino: m.ino(),
                size: m.size(),
                mtime: (m.mtime(), m.mtime_nsec()),
                ctime: (m.ctime(), m.ctime_nsec()),
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Last changed at least `settle` before `now`.
    fn settled(&self, now: SystemTime, settle: Duration) -> bool {
        let Ok(now) = now.duration_since(SystemTime::UNIX_EPOCH) else {
            return false;
        };
        let changed = self.mtime.max(self.ctime);
        let Ok(secs) = u64::try_from(changed.0) else {
            return true;
        };
        let changed = Duration::new(secs, u32::try_from(changed.1).unwrap_or(0));
        changed + settle <= now
    }
}

type Stamps = Vec<Option<Stamp>>;

/// Parsed values of one kind of file, each with the files' stamps when it was read.
pub struct Memo<T> {
    kept: Mutex<Vec<(Vec<PathBuf>, Stamps, T)>>,
}

impl<T: Clone> Default for Memo<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone> Memo<T> {
    pub const fn new() -> Self {
        Self {
            kept: Mutex::new(Vec::new()),
        }
    }

    /// `load()`'s value for the files at `paths`: the one kept from when they were as they are
    /// now, else `load()`'s (kept for next time when the files hold still). Without
    /// [`keep_parsed`], always `load()`.
    pub fn get<E>(&self, paths: &[&Path], load: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        if !ON.load(Ordering::Relaxed) {
            return load();
        }
        self.get_at(paths, SETTLE, load)
    }

    fn get_at<E>(
        &self,
        paths: &[&Path],
        settle: Duration,
        load: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        let Ok(before) = stamps(paths) else {
            return load();
        };
        if let Ok(kept) = self.kept.lock()
            && let Some((_, _, v)) = kept.iter().find(|(p, s, _)| {
                *s == before && p.iter().map(PathBuf::as_path).eq(paths.iter().copied())
            })
        {
            return Ok(v.clone());
        }
        let value = load()?;
        let now = SystemTime::now();
        let still = stamps(paths).is_ok_and(|after| after == before);
        if still
            && before.iter().flatten().all(|s| s.settled(now, settle))
            && let Ok(mut kept) = self.kept.lock()
        {
            kept.retain(|(p, _, _)| !p.iter().map(PathBuf::as_path).eq(paths.iter().copied()));
            if kept.len() >= MAX_KEPT {
                kept.remove(0);
            }
            let owned = paths.iter().map(|p| p.to_path_buf()).collect();
            kept.push((owned, before, value.clone()));
        }
        Ok(value)
    }
}

fn stamps(paths: &[&Path]) -> std::io::Result<Stamps> {
    paths.iter().map(|p| Stamp::of(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Reads `path` through `memo` with no settling time; counts the reads.
    fn read(memo: &Memo<String>, path: &Path, reads: &Cell<u32>) -> String {
        memo.get_at(&[path], Duration::ZERO, || {
            reads.set(reads.get() + 1);
            std::fs::read_to_string(path).map_err(|e| e.to_string())
        })
        .unwrap()
    }

    #[test]
    fn a_file_is_read_again_only_when_it_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "one").unwrap();
        let (memo, reads) = (Memo::new(), Cell::new(0));
        assert_eq!(read(&memo, &path, &reads), "one");
        assert_eq!(read(&memo, &path, &reads), "one");
        assert_eq!(reads.get(), 1, "unchanged: kept");
        // Same size, in place: the change time moves (and the test waits out a coarse tick).
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&path, "two").unwrap();
        assert_eq!(read(&memo, &path, &reads), "two");
        // Replaced by a rename (a new inode), and removed.
        let other = dir.path().join("new");
        std::fs::write(&other, "three").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert_eq!(read(&memo, &path, &reads), "three");
        std::fs::remove_file(&path).unwrap();
        let missing = memo.get_at(&[&path], Duration::ZERO, || {
            reads.set(reads.get() + 1);
            Ok::<_, String>("none".to_owned())
        });
        assert_eq!(missing.unwrap(), "none");
        assert_eq!(reads.get(), 4);
    }

    #[test]
    fn a_file_that_just_changed_or_failed_is_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("defaults.json");
        std::fs::write(&path, "{}").unwrap();
        let memo: Memo<String> = Memo::new();
        let reads = Cell::new(0);
        for _ in 0..2 {
            let v = memo.get_at(&[&path], Duration::from_secs(3600), || {
                reads.set(reads.get() + 1);
                Ok::<_, ()>("v".to_owned())
            });
            assert_eq!(v, Ok("v".to_owned()));
        }
        assert_eq!(
            reads.get(),
            2,
            "changed within the settling time: read each time"
        );
        for _ in 0..2 {
            let e = memo.get_at(&[&path], Duration::ZERO, || {
                reads.set(reads.get() + 1);
                Err::<String, _>("bad")
            });
            assert_eq!(e, Err("bad"));
        }
        assert_eq!(reads.get(), 4, "an error is never kept");
    }

    #[test]
    fn a_value_is_kept_per_set_of_paths() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, "a").unwrap();
        std::fs::write(&b, "b").unwrap();
        let (memo, reads) = (Memo::new(), Cell::new(0));
        assert_eq!(read(&memo, &a, &reads), "a");
        assert_eq!(read(&memo, &b, &reads), "b");
        assert_eq!(read(&memo, &a, &reads), "a");
        assert_eq!(read(&memo, &b, &reads), "b");
        assert_eq!(reads.get(), 2);
    }
}
