//! The client's IP address, aware of trusted reverse proxies.
//!
//! The original trusted every forwarding header, so any client could claim any address
//! (SEED_BEHAVIOR §16.1.13). nets believes `X-Forwarded-For` only when the connection
//! comes from a proxy listed in `NETS_CORE_TRUSTED_PROXIES` (addresses or CIDR ranges),
//! and then takes the right-most address that is not itself a trusted proxy: entries to
//! its left were written by the client and prove nothing.
//!
//! ```
//! use std::net::IpAddr;
//! use nets_runtime::client_ip::TrustedProxies;
//!
//! let proxies = TrustedProxies::parse(&["10.0.0.0/8".to_string()]).unwrap();
//! let peer: IpAddr = "10.0.0.2".parse().unwrap();
//! // A spoofed left-most entry is ignored; the proxy appended the real client.
//! let ip = proxies.client_ip(peer, ["6.6.6.6, 203.0.113.9"].into_iter());
//! assert_eq!(ip, "203.0.113.9".parse::<IpAddr>().unwrap());
//! // The same header from an untrusted peer is not believed.
//! let stranger: IpAddr = "198.51.100.1".parse().unwrap();
//! assert_eq!(proxies.client_ip(stranger, ["6.6.6.6"].into_iter()), stranger);
//! ```

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;

/// An entry of `NETS_CORE_TRUSTED_PROXIES` that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("'{0}' is neither an IP address nor a CIDR range such as 10.0.0.0/8")]
pub struct InvalidProxy(pub String);

/// An address range: `addr/prefix_len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    fn parse(text: &str) -> Option<Cidr> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, len)) => (addr.parse::<IpAddr>().ok()?, len.parse::<u8>().ok()?),
            None => {
                let addr = text.parse::<IpAddr>().ok()?;
                (addr, if addr.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), 32, self.prefix) == masked(u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), 128, self.prefix) == masked(u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// The top `prefix` bits of a `width`-bit address.
fn masked(bits: u128, width: u32, prefix: u8) -> u128 {
    let prefix = u32::from(prefix);
    if prefix == 0 { 0 } else { bits >> (width - prefix) }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, what dual-stack sockets report) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// The parsed `NETS_CORE_TRUSTED_PROXIES`.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Parses addresses (`10.0.0.1`, `::1`) and ranges (`10.0.0.0/8`, `fd00::/8`).
    pub fn parse(entries: &[String]) -> Result<TrustedProxies, InvalidProxy> {
        entries
            .iter()
            .map(|e| Cidr::parse(e).ok_or_else(|| InvalidProxy(e.clone())))
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    /// No proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is a trusted proxy.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client behind `peer`, given the request's `X-Forwarded-For` header values in
    /// order: the peer itself unless it is trusted; otherwise the right-most forwarded
    /// address that is not a trusted proxy (the left-most when all are). An unparsable
    /// entry stops the walk: what lies left of it cannot be trusted either.
    pub fn client_ip<'a>(&self, peer: IpAddr, forwarded_for: impl DoubleEndedIterator<Item = &'a str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        for value in forwarded_for.rev() {
            for entry in value.rsplit(',') {
                let Some(ip) = parse_forwarded(entry) else { return client };
                client = ip;
                if !self.trusts(ip) {
                    return ip;
                }
            }
        }
        client
    }

    /// The client address of a request served with connect info, `None` without it.
    pub fn client_ip_of(&self, request: &Parts) -> Option<IpAddr> {
        let peer = canonical(request.extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip());
        if self.is_empty() {
            return Some(peer);
        }
        let headers = request.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        let values: Vec<&str> = headers.collect();
        Some(self.client_ip(peer, values.into_iter()))
    }
}

/// The key a rate limit counts a client under: an IPv4 address as is, an IPv6 address by
/// its /64 network (one subscriber usually holds a whole /64, so per-address keys would
/// give one client 2^64 budgets).
pub fn rate_limit_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let network = std::net::Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1));
            format!("{network}/64")
        }
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    entry.parse::<SocketAddr>().ok().map(|s| canonical(s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }
    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_network() {
        assert_eq!(rate_limit_key(ip("2001:db8:1:2::1")), "2001:db8:1:2::/64");
        assert_eq!(rate_limit_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), "2001:db8:1:2::/64");
        assert_ne!(rate_limit_key(ip("2001:db8:1:3::1")), rate_limit_key(ip("2001:db8:1:2::1")));
        assert_eq!(rate_limit_key(ip("203.0.113.9")), "203.0.113.9");
        assert_eq!(rate_limit_key(ip("::ffff:203.0.113.9")), "203.0.113.9");
    }

    #[test]
    fn bad_entries_are_refused() {
        for bad in ["10.0.0.0/33", "::/129", "localhost", "10.0.0/8", ""] {
            assert!(TrustedProxies::parse(&[bad.to_string()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn ranges_match_by_prefix() {
        let p = proxies(&["10.0.0.0/8", "192.168.1.7", "fd00::/8", "0.0.0.0/0"]);
        assert!(p.trusts(ip("10.255.0.1")));
        assert!(p.trusts(ip("::ffff:10.1.2.3")), "IPv4-mapped peers");
        assert!(p.trusts(ip("fd12::1")));
        assert!(!p.trusts(ip("fe80::1")));
        let q = proxies(&["192.168.1.7", "2001:db8::/32"]);
        assert!(q.trusts(ip("192.168.1.7")));
        assert!(!q.trusts(ip("192.168.1.8")));
        assert!(q.trusts(ip("2001:db8:ffff::1")));
        assert!(!q.trusts(ip("2001:db9::1")));
    }

    #[test]
    fn forwarded_for_is_walked_right_to_left_through_trusted_hops() {
        let p = proxies(&["10.0.0.0/8"]);
        let peer = ip("10.0.0.1");
        assert_eq!(p.client_ip(peer, ["1.1.1.1, 2.2.2.2, 10.0.0.5"].into_iter()), ip("2.2.2.2"));
        assert_eq!(p.client_ip(peer, ["1.1.1.1", "2.2.2.2:443"].into_iter()), ip("2.2.2.2"), "several headers, ports");
        assert_eq!(p.client_ip(peer, ["10.0.0.9, 10.0.0.8"].into_iter()), ip("10.0.0.9"), "all proxies");
        assert_eq!(p.client_ip(peer, ["junk, 10.0.0.8"].into_iter()), ip("10.0.0.8"), "garbage stops the walk");
        assert_eq!(p.client_ip(peer, std::iter::empty()), peer);
        assert_eq!(p.client_ip(ip("3.3.3.3"), ["1.1.1.1"].into_iter()), ip("3.3.3.3"), "untrusted peer");
        assert_eq!(p.client_ip(peer, ["[2001:db8::1]:80"].into_iter()), ip("2001:db8::1"));
    }
}
