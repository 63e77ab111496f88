//! Who owns a TCP socket on this machine (Linux: the kernel's socket diagnostics and
//! /proc/net/tcp and tcp6), for the two places loopback must mean "the user's own": an STS
//! endpoint on 127.0.0.1 (another user's listener would receive a code and a signed request) and
//! the credentials endpoint's clients (another user's connections are closed unread).
//!
//! macOS lists other users' sockets with their owners only to root (libproc reads one's own
//! processes' descriptors), so there: a loopback STS endpoint is not trusted unless listed in
//! `trusted_endpoints` ([`listeners_are_ours`] is None), and the credentials endpoint's
//! connections are not told apart by owner (its bearer token still is the check).

use std::net::{IpAddr, SocketAddr};

const LISTEN: &str = "0A";

/// One line of /proc/net/tcp{,6}: the local address, the state, the owner.
struct Entry {
    local: SocketAddr,
    state: String,
    uid: u32,
}

/// Every TCP socket the kernel lists; empty where there is no /proc to ask.
fn entries() -> Vec<Entry> {
    let mut out = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        out.extend(text.lines().skip(1).filter_map(parse_line));
    }
    out
}

fn parse_line(line: &str) -> Option<Entry> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let (addr, port) = f.get(1)?.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    // The kernel prints the address's 32-bit words as numbers in host order: their bytes in
    // memory, the address's, are those numbers' native bytes.
    let bytes: Vec<u8> = (0..addr.len() / 8)
        .map(|i| u32::from_str_radix(addr.get(i * 8..i * 8 + 8)?, 16).ok())
        .collect::<Option<Vec<u32>>>()?
        .iter()
        .flat_map(|w| w.to_ne_bytes())
        .collect();
    let ip = match bytes.len() {
        4 => IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?),
        16 => IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?),
        _ => return None,
    };
    Some(Entry {
        local: SocketAddr::new(ip, port),
        state: (*f.get(3)?).to_owned(),
        uid: f.get(7)?.parse().ok()?,
    })
}

fn me() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Whether every socket listening on `port` (whatever its address: a wildcard listener
/// answers loopback too) belongs to this user. True when none listens, or Linux has no /proc;
/// None where the system cannot tell (macOS).
pub fn listeners_are_ours(port: u16) -> Option<bool> {
    if !cfg!(any(target_os = "linux", target_os = "android")) {
        return None;
    }
    Some(
        entries()
            .iter()
            .filter(|e| e.state == LISTEN && e.local.port() == port)
            .all(|e| e.uid == me()),
    )
}

/// Whether the connection from `peer` to `local` (accepted here) was made by this user: the
/// owner of the socket at `peer`. False when it is not there any more; true when there is no
/// way to ask (no sock_diag, no /proc; macOS).
pub fn is_ours(peer: SocketAddr, local: SocketAddr) -> bool {
    if !cfg!(any(target_os = "linux", target_os = "android")) {
        return true;
    }
    // The kernel looks the one socket up by its addresses; /proc/net/tcp lists every socket of
    // the machine, walking the whole connection table (1.4 ms with 500 sockets in TIME_WAIT).
    #[cfg(target_os = "linux")]
    if let Ok(owner) = diag::owner(peer, local) {
        return owner == Some(me());
    }
    #[cfg(not(target_os = "linux"))]
    let _ = local;
    if std::fs::metadata("/proc/net/tcp").is_err() {
        return true;
    }
    let mapped = |a: IpAddr| match a {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, IpAddr::V4),
        v4 => v4,
    };
    entries().iter().any(|e| {
        e.local.port() == peer.port()
            && mapped(e.local.ip()) == mapped(peer.ip())
            && e.state != LISTEN
            && e.uid == me()
    })
}

/// One socket's owner from the kernel's socket diagnostics (netlink `NETLINK_SOCK_DIAG`,
/// `SOCK_DIAG_BY_FAMILY` for one TCP socket given by its four addresses; see sock_diag(7)).
#[cfg(target_os = "linux")]
mod diag {
    use std::net::{IpAddr, SocketAddr};
    use std::os::fd::AsRawFd;

    use nix::sys::socket::{
        AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, recv, sendto,
        setsockopt, socket, sockopt,
    };

    const SOCK_DIAG_BY_FAMILY: u16 = 20;
    const NLMSG_ERROR: u16 = 2;
    const NLM_F_REQUEST: u16 = 1;
    /// `struct nlmsghdr`.
    const HEADER: usize = 16;
    /// `struct inet_diag_req_v2`.
    const REQUEST: usize = 56;
    /// Where `idiag_uid` sits in `struct inet_diag_msg`.
    const UID_AT: usize = 64;

    /// The uid owning the TCP socket whose local end is `sock` and remote end `remote`;
    /// `Ok(None)` when there is none. Err: the kernel could not be asked.
    pub fn owner(sock: SocketAddr, remote: SocketAddr) -> Result<Option<u32>, nix::Error> {
        let (family, src, dst) = match (sock.ip(), remote.ip()) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (
                libc_family(AddressFamily::Inet),
                pad(&a.octets()),
                pad(&b.octets()),
            ),
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                (libc_family(AddressFamily::Inet6), a.octets(), b.octets())
            }
            _ => return Err(nix::Error::EAFNOSUPPORT),
        };
        let mut msg = Vec::with_capacity(HEADER + REQUEST);
        msg.extend_from_slice(&((HEADER + REQUEST) as u32).to_ne_bytes());
        msg.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        msg.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
        msg.extend_from_slice(&1u32.to_ne_bytes()); // sequence
        msg.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel's
        msg.extend_from_slice(&[family, nix::libc::IPPROTO_TCP as u8, 0, 0]);
        msg.extend_from_slice(&u32::MAX.to_ne_bytes()); // every state
        msg.extend_from_slice(&sock.port().to_be_bytes());
        msg.extend_from_slice(&remote.port().to_be_bytes());
        msg.extend_from_slice(&src);
        msg.extend_from_slice(&dst);
        msg.extend_from_slice(&0u32.to_ne_bytes()); // any interface
        msg.extend_from_slice(&[0xff; 8]); // INET_DIAG_NOCOOKIE
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkSockDiag,
        )?;
        setsockopt(
            &fd,
            sockopt::ReceiveTimeout,
            &nix::sys::time::TimeVal::new(1, 0),
        )?;
        sendto(
            fd.as_raw_fd(),
            &msg,
            &NetlinkAddr::new(0, 0),
            MsgFlags::empty(),
        )?;
        let mut answer = [0u8; 512];
        let n = recv(fd.as_raw_fd(), &mut answer, MsgFlags::empty())?;
        let answer = &answer[..n];
        let u32_at = |o: usize| {
            answer
                .get(o..o + 4)
                .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        };
        let kind = answer
            .get(4..6)
            .map(|b| u16::from_ne_bytes([b[0], b[1]]))
            .ok_or(nix::Error::EBADMSG)?;
        match kind {
            SOCK_DIAG_BY_FAMILY => u32_at(HEADER + UID_AT).map(Some).ok_or(nix::Error::EBADMSG),
            NLMSG_ERROR => match u32_at(HEADER).map(|e| -(e as i32)) {
                Some(nix::libc::ENOENT) => Ok(None),
                Some(e) => Err(nix::Error::from_raw(e)),
                None => Err(nix::Error::EBADMSG),
            },
            _ => Err(nix::Error::EBADMSG),
        }
    }

    fn libc_family(f: AddressFamily) -> u8 {
        f as i32 as u8
    }

    /// An IPv4 address in `inet_diag_sockid`'s 16 bytes.
    fn pad(v4: &[u8; 4]) -> [u8; 16] {
        let mut a = [0; 16];
        a[..4].copy_from_slice(v4);
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_tcp_lines() {
        let v4 = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 100 0 0 10 0";
        let e = parse_line(v4).unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(e.local, "127.0.0.1:8080".parse().unwrap());
        }
        assert_eq!((e.state.as_str(), e.uid), ("0A", 1000));
        let v6 = "   1: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0";
        let e = parse_line(v6).unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(e.local, "[::1]:80".parse().unwrap());
        }
        assert_eq!(e.uid, 0);
    }

    /// A connection another user made is not ours, by the kernel's answer (root only: the test
    /// connects as nobody, with bash's /dev/tcp).
    #[test]
    #[cfg(target_os = "linux")]
    fn another_users_connection_is_not_ours() {
        use std::os::unix::process::CommandExt;
        if !nix::unistd::geteuid().is_root() {
            println!("skipped: needs root (to connect as another user)");
            return;
        }
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let mut nobody = std::process::Command::new("bash")
            .args([
                "-c",
                &format!("exec 3<>/dev/tcp/127.0.0.1/{port}; read -r -t 30 <&3"),
            ])
            .uid(65534)
            .spawn()
            .unwrap();
        let (accepted, peer) = l.accept().unwrap();
        let local = accepted.local_addr().unwrap();
        let owner = diag::owner(peer, local);
        let ours = is_ours(peer, local);
        drop(accepted);
        let _ = nobody.kill();
        let _ = nobody.wait();
        assert_eq!(owner, Ok(Some(65534)));
        assert!(!ours);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn our_own_connection_is_ours() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (accepted, peer) = l.accept().unwrap();
        assert_eq!(peer, c.local_addr().unwrap());
        assert!(is_ours(peer, accepted.local_addr().unwrap()));
        assert_eq!(
            diag::owner(peer, accepted.local_addr().unwrap()),
            Ok(Some(me())),
            "the kernel's answer, not the /proc fallback"
        );
        drop((c, accepted));
        assert_eq!(listeners_are_ours(port), Some(true));
    }
}
