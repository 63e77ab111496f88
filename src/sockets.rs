//! Who owns a TCP socket on this machine (Linux: /proc/net/tcp and tcp6), for the two places
//! loopback must mean "the user's own": an STS endpoint on 127.0.0.1 (another user's listener
//! would receive a code and a signed request) and the credentials endpoint's clients (another
//! user's connections are closed unread).

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
/// answers loopback too) belongs to this user. True when none listens, or there is no /proc.
pub fn listeners_are_ours(port: u16) -> bool {
    entries()
        .iter()
        .filter(|e| e.state == LISTEN && e.local.port() == port)
        .all(|e| e.uid == me())
}

/// Whether the local socket at `addr` (a loopback client's end of a connection) belongs to
/// this user. False when it is not listed (gone already); true when there is no /proc to ask.
pub fn is_ours(addr: SocketAddr) -> bool {
    if std::fs::metadata("/proc/net/tcp").is_err() {
        return true;
    }
    let mapped = |a: IpAddr| match a {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, IpAddr::V4),
        v4 => v4,
    };
    entries().iter().any(|e| {
        e.local.port() == addr.port()
            && mapped(e.local.ip()) == mapped(addr.ip())
            && e.state != LISTEN
            && e.uid == me()
    })
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

    #[test]
    fn our_own_connection_is_ours() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        assert!(is_ours(c.local_addr().unwrap()));
        assert!(listeners_are_ours(port));
    }
}
