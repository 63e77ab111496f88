//! macOS's answers ([`super`]): libproc's `proc_pidinfo` (`PROC_PIDTBSDINFO`) and
//! `proc_pidpath`, `sysctl` with `KERN_PROCARGS2`, and `ptrace(PT_DENY_ATTACH)`, as the libc
//! crate declares them. The `libproc` crate would wrap the first two, but its build script
//! generates its bindings only on a macOS host, so op-aws could no longer be type-checked or
//! cross-built from Linux; these four calls are small enough to make here.
//!
//! Type-checked on Linux (`cargo clippy --target aarch64-apple-darwin`); never run here.

use std::ffi::{CStr, c_int, c_void};
use std::path::PathBuf;

use nix::libc;

use super::Stat;

/// `proc_pidinfo(PROC_PIDTBSDINFO)`: parent, name and start time (seconds and microseconds
/// since the epoch, as one number of microseconds).
pub fn stat(pid: u32) -> Option<Stat> {
    let pid = c_int::try_from(pid).ok()?;
    let size = c_int::try_from(std::mem::size_of::<libc::proc_bsdinfo>()).ok()?;
    // SAFETY: proc_bsdinfo is plain old data (integers and char arrays); all zeroes is valid.
    let mut info: libc::proc_bsdinfo = unsafe { std::mem::zeroed() };
    // SAFETY: the buffer is `size` bytes of a proc_bsdinfo we own; the kernel writes at most that.
    let got = unsafe {
        libc::proc_pidinfo(
            pid,
            libc::PROC_PIDTBSDINFO,
            0,
            (&raw mut info).cast::<c_void>(),
            size,
        )
    };
    if got != size {
        return None;
    }
    let comm: Vec<u8> = info
        .pbi_comm
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8)
        .collect();
    Some(Stat {
        comm: String::from_utf8_lossy(&comm).into_owned(),
        ppid: info.pbi_ppid,
        start: info
            .pbi_start_tvsec
            .checked_mul(1_000_000)
            .and_then(|s| s.checked_add(info.pbi_start_tvusec)),
    })
}

/// `proc_pidpath`: the executable's path.
pub fn exe(pid: u32) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let pid = c_int::try_from(pid).ok()?;
    let mut buf = vec![0u8; libc::PROC_PIDPATHINFO_MAXSIZE as usize];
    let len = u32::try_from(buf.len()).ok()?;
    // SAFETY: `buf` is `len` writable bytes; the kernel writes a NUL-terminated path into it.
    let n = unsafe { libc::proc_pidpath(pid, buf.as_mut_ptr().cast::<c_void>(), len) };
    if n <= 0 {
        return None;
    }
    let path = CStr::from_bytes_until_nul(&buf).ok()?;
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(path.to_bytes())))
}

/// `sysctl({CTL_KERN, KERN_PROCARGS2, pid})`, parsed ([`super::procargs::parse`]): argv only.
/// Only the user's own processes answer (and root's to root).
pub fn argv(pid: u32) -> Option<Vec<String>> {
    let pid = c_int::try_from(pid).ok()?;
    let mut mib = [libc::CTL_KERN, libc::KERN_PROCARGS2, pid];
    // The most a process's arguments and environment can take (kern.argmax).
    let mut max: c_int = 0;
    let mut len = std::mem::size_of::<c_int>();
    let mut argmax = [libc::CTL_KERN, libc::KERN_ARGMAX];
    // SAFETY: `max` is an int and `len` its size, as KERN_ARGMAX answers.
    let ok = unsafe {
        libc::sysctl(
            argmax.as_mut_ptr(),
            2,
            (&raw mut max).cast::<c_void>(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    if ok != 0 || max <= 0 {
        return None;
    }
    let mut buf = vec![0u8; usize::try_from(max).ok()?];
    let mut len = buf.len();
    // SAFETY: `buf` is `len` writable bytes; the kernel sets `len` to what it wrote.
    let ok = unsafe {
        libc::sysctl(
            mib.as_mut_ptr(),
            3,
            buf.as_mut_ptr().cast::<c_void>(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    if ok != 0 {
        return None;
    }
    buf.truncate(len);
    let parsed = super::procargs::parse(&buf);
    // The environment after argv may hold secrets: gone before the buffer is freed.
    zeroize::Zeroize::zeroize(&mut buf);
    parsed.map(|p| p.argv)
}

/// `ptrace(PT_DENY_ATTACH)`: from now on a debugger's attach to this process fails (and one
/// already attached makes it exit).
pub fn deny_attach() {
    // SAFETY: PT_DENY_ATTACH takes no address or data and changes only this process's flags.
    let _ = unsafe { libc::ptrace(libc::PT_DENY_ATTACH, 0, std::ptr::null_mut(), 0) };
}
