//! Which upstream addresses the bridge may connect to.
//!
//! The bridge only reaches configured servers, but a configured *name* can
//! resolve anywhere (a wildcard-DNS name, a record changed after start, DNS
//! rebinding). So every address a lookup returns is checked, at connect time,
//! against the ranges below, and the bridge then connects only to checked
//! addresses. A server marked `internal = true` skips the check.
//!
//! IPv6 forms that embed an IPv4 address (IPv4-mapped, IPv4-compatible,
//! NAT64, 6to4) are checked again as that IPv4 address, so that
//! `::ffff:127.0.0.1` or `64:ff9b::a9fe:a9fe` cannot reach what `127.0.0.1`
//! or `169.254.169.254` cannot.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An IPv4 range: network, prefix length, name (for logs).
type V4Range = (Ipv4Addr, u8, &'static str);
/// An IPv6 range: network, prefix length, name (for logs).
type V6Range = (Ipv6Addr, u8, &'static str);

/// IPv4 ranges that are never public IMAP servers.
const DENIED_V4: &[V4Range] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8, "unspecified/this network"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private (RFC 1918)"),
    (Ipv4Addr::new(100, 64, 0, 0), 10, "carrier-grade NAT"),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback"),
    (Ipv4Addr::new(169, 254, 0, 0), 16, "link-local"),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private (RFC 1918)"),
    (Ipv4Addr::new(192, 0, 0, 0), 24, "IETF protocol assignments"),
    (Ipv4Addr::new(192, 0, 2, 0), 24, "documentation"),
    (Ipv4Addr::new(192, 88, 99, 0), 24, "6to4 relay anycast"),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private (RFC 1918)"),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "benchmarking"),
    (Ipv4Addr::new(198, 51, 100, 0), 24, "documentation"),
    (Ipv4Addr::new(203, 0, 113, 0), 24, "documentation"),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "reserved/broadcast"),
];

/// IPv6 ranges that are never public IMAP servers (the IPv4-embedding
/// prefixes are handled by [`embedded_v4`]).
const DENIED_V6: &[V6Range] = &[
    (Ipv6Addr::UNSPECIFIED, 128, "unspecified"),
    (Ipv6Addr::LOCALHOST, 128, "loopback"),
    (Ipv6Addr::UNSPECIFIED, 96, "IPv4-compatible (deprecated)"),
    (
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        "local-use NAT64",
    ),
    (
        Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0),
        64,
        "discard-only",
    ),
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        "IETF protocol assignments",
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        "documentation",
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        "documentation",
    ),
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        "unique local",
    ),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, "link-local"),
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, "site-local"),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, "multicast"),
];

/// Why `ip` may not be connected to, or `None` if it is a public address.
/// The reason names the range (for the operator's log, never the browser).
pub fn denied_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => denied_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            // An embedded public IPv4 address is still only as good as the
            // IPv4 address itself.
            Some(v4) => denied_v4(v4).or_else(|| denied_v6(v6)),
            None => denied_v6(v6),
        },
    }
}

fn denied_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let bits = u32::from(ip);
    DENIED_V4
        .iter()
        .find(|(net, len, _)| prefix_matches(bits.into(), u32::from(*net).into(), *len, 32))
        .map(|(_, _, name)| *name)
}

fn denied_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let bits = u128::from(ip);
    DENIED_V6
        .iter()
        .find(|(net, len, _)| prefix_matches(bits, u128::from(*net), *len, 128))
        .map(|(_, _, name)| *name)
}

/// Whether the top `len` of `width` bits of `addr` equal those of `net`.
fn prefix_matches(addr: u128, net: u128, len: u8, width: u32) -> bool {
    let shift = width - u32::from(len);
    addr.checked_shr(shift) == net.checked_shr(shift)
}

/// The IPv4 address an IPv6 address stands for, if it embeds one:
/// IPv4-mapped `::ffff:0:0/96`, IPv4-compatible `::/96` (deprecated),
/// IPv4-translated `::ffff:0:0:0/96`, NAT64 `64:ff9b::/96` and 6to4
/// `2002::/16`.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low32 = || Ipv4Addr::from(u128::from(ip) as u32);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _]
        | [0, 0, 0, 0, 0xffff, 0, _, _]
        | [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low32()),
        // `::` and `::1` are handled as IPv6 (unspecified, loopback).
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(low32()),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn denied_addresses() {
        let cases = [
            // IPv4
            ("0.0.0.0", "unspecified/this network"),
            ("0.1.2.3", "unspecified/this network"),
            ("10.0.0.1", "private (RFC 1918)"),
            ("10.255.255.255", "private (RFC 1918)"),
            ("100.64.0.1", "carrier-grade NAT"),
            ("100.127.255.254", "carrier-grade NAT"),
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("169.254.169.254", "link-local"),
            ("169.254.0.1", "link-local"),
            ("172.16.0.1", "private (RFC 1918)"),
            ("172.31.255.255", "private (RFC 1918)"),
            ("192.0.0.8", "IETF protocol assignments"),
            ("192.0.2.10", "documentation"),
            ("192.168.1.1", "private (RFC 1918)"),
            ("198.18.0.1", "benchmarking"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved/broadcast"),
            ("255.255.255.255", "reserved/broadcast"),
            // IPv6
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fc00::1", "unique local"),
            ("fd00::1", "unique local"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "documentation"),
            ("fec0::1", "site-local"),
            ("100::1", "discard-only"),
            ("64:ff9b:1::1", "local-use NAT64"),
            ("::2", "IPv4-compatible (deprecated)"),
            // Teredo (2001::/32) tunnels to an IPv4 address it hides.
            (
                "2001:0:4136:e378:8000:63bf:3fff:fdd2",
                "IETF protocol assignments",
            ),
            // IPv6 embedding a denied IPv4 address
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private (RFC 1918)"),
            ("::ffff:169.254.169.254", "link-local"),
            ("::ffff:0:7f00:1", "loopback"),
            ("::127.0.0.1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "link-local"),
            ("64:ff9b::7f00:1", "loopback"),
            ("64:ff9b::c0a8:101", "private (RFC 1918)"),
            ("2002:7f00:1::", "loopback"),
            ("2002:a00:1::1", "private (RFC 1918)"),
            ("2002:a9fe:a9fe::", "link-local"),
            ("::ffff:100.64.0.1", "carrier-grade NAT"),
            ("::ffff:0.0.0.0", "unspecified/this network"),
        ];
        for (addr, range) in cases {
            assert_eq!(denied_range(ip(addr)), Some(range), "{addr}");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for addr in [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.169.0.1",
            "169.253.255.255",
            "2606:4700::1",
            "2a00:1450:4001::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert_eq!(denied_range(ip(addr)), None, "{addr}");
        }
    }

    #[test]
    fn embedded_v4_forms() {
        let v6 = |s: &str| s.parse::<Ipv6Addr>().unwrap();
        let v4 = |s: &str| Some(s.parse::<Ipv4Addr>().unwrap());
        assert_eq!(embedded_v4(v6("::ffff:1.2.3.4")), v4("1.2.3.4"));
        assert_eq!(embedded_v4(v6("::ffff:0:1.2.3.4")), v4("1.2.3.4"));
        assert_eq!(embedded_v4(v6("64:ff9b::1.2.3.4")), v4("1.2.3.4"));
        assert_eq!(embedded_v4(v6("2002:102:304::")), v4("1.2.3.4"));
        assert_eq!(embedded_v4(v6("::1")), None);
        assert_eq!(embedded_v4(v6("2606:4700::1")), None);
    }
}
