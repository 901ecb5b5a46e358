//! Client addresses: truncation for privacy and the proxy rule for `X-Forwarded-For`.

use std::net::IpAddr;

/// Zeroes the host part of an address: the last octet of IPv4 (a /24) and all but
/// the first 48 bits of IPv6 (a /48), which keeps the country and usually the city.
pub fn truncate(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::from([a, b, c, 0])
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return truncate(IpAddr::V4(v4));
            }
            let s = v6.segments();
            IpAddr::from([s[0], s[1], s[2], 0, 0, 0, 0, 0])
        }
    }
}

/// The network a client is counted by when bounding what one client may hold
/// (connections, sign-in attempts): an IPv4 address as it is, IPv6 by its /64.
/// One IPv6 host is usually given a whole /64, so counting single IPv6
/// addresses would let one client count as 2^64 of them.
pub fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            IpAddr::from([s[0], s[1], s[2], s[3], 0, 0, 0, 0])
        }
    }
}

/// The network a per-address rate limit counts a client by ([`network`]), or
/// `None` for an address no such limit applies to: loopback, private,
/// link-local, unspecified, and IPv6's unique-local addresses. Such an address
/// is a proxy Spoor was not told about (every client would share its limit)
/// or a service on the same network.
pub fn rate_limited_network(ip: IpAddr) -> Option<IpAddr> {
    let ip = network(ip);
    let local = match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified()
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
        }
    };
    (!local).then_some(ip)
}

/// The client address when Spoor sits behind `hops` trusted proxies: each proxy
/// appends the address it saw, so the client is the `hops`-th entry from the right.
/// Entries further left were written by the client and cannot be trusted. With no
/// trusted proxy, or a header too short to hold that many hops, the peer address wins.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, hops: usize) -> IpAddr {
    if hops == 0 {
        return peer;
    }
    let Some(header) = forwarded_for else {
        return peer;
    };
    let entries: Vec<&str> = header
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if entries.len() < hops {
        return peer;
    }
    entries[entries.len() - hops].parse().unwrap_or(peer)
}

#[cfg(test)]
mod tests {

    #[test]
    fn only_public_networks_are_rate_limited_by_address() {
        let limited = |s: &str| rate_limited_network(s.parse().unwrap()).map(|ip| ip.to_string());
        for local in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.9",
            "192.168.1.1",
            "169.254.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert_eq!(limited(local), None, "{local}");
        }
        assert_eq!(limited("203.0.113.9").as_deref(), Some("203.0.113.9"));
        assert_eq!(
            limited("172.32.0.1").as_deref(),
            Some("172.32.0.1"),
            "just past 172.16/12"
        );
        assert_eq!(
            limited("::ffff:203.0.113.9").as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(
            limited("2001:db8:1:2:3:4:5:6").as_deref(),
            Some("2001:db8:1:2::")
        );
    }

    use super::*;

    fn check(peer: &str, xff: Option<&str>, hops: usize, expected: &str) {
        let got = client_ip(peer.parse().unwrap(), xff, hops);
        assert_eq!(
            got.to_string(),
            expected,
            "peer={peer} xff={xff:?} hops={hops}"
        );
    }

    #[test]
    fn forwarded_for_is_read_only_behind_trusted_proxies() {
        check("10.0.0.1", Some("1.2.3.4"), 0, "10.0.0.1");
        check("10.0.0.1", Some("1.2.3.4"), 1, "1.2.3.4");
        check("10.0.0.1", Some("6.6.6.6, 1.2.3.4"), 1, "1.2.3.4");
        check("10.0.0.1", Some("6.6.6.6, 1.2.3.4, 10.0.0.9"), 2, "1.2.3.4");
        check("10.0.0.1", Some("1.2.3.4"), 2, "10.0.0.1");
        check("10.0.0.1", Some("not-an-ip"), 1, "10.0.0.1");
        check("10.0.0.1", None, 1, "10.0.0.1");
    }

    #[test]
    fn clients_are_counted_by_ipv4_address_and_ipv6_slash_64() {
        let net = |s: &str| network(s.parse().unwrap()).to_string();
        assert_eq!(net("196.249.12.34"), "196.249.12.34");
        assert_eq!(net("::ffff:1.2.3.4"), "1.2.3.4");
        assert_eq!(net("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::");
        assert_eq!(net("2001:db8:1:2:ffff::1"), net("2001:db8:1:2::9"));
        assert_ne!(net("2001:db8:1:2::1"), net("2001:db8:1:3::1"));
    }

    #[test]
    fn truncation_keeps_the_network() {
        assert_eq!(
            truncate("196.249.12.34".parse().unwrap()).to_string(),
            "196.249.12.0"
        );
        assert_eq!(
            truncate("2001:db8:1234:5678::1".parse().unwrap()).to_string(),
            "2001:db8:1234::"
        );
        assert_eq!(
            truncate("::ffff:1.2.3.4".parse().unwrap()).to_string(),
            "1.2.3.0"
        );
    }
}
