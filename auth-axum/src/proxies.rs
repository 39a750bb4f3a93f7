//! The client's address behind trusted proxies: [`TrustedProxies`].
//!
//! Per-address limits (failed logins, refreshes, registrations) count by the client
//! address. Behind a proxy or load balancer the TCP peer is the proxy, shared by every
//! client, so the address must come from what the proxy forwards: `Forwarded` (RFC
//! 7239) or `X-Forwarded-For`. Anyone can send those headers, so they are read only
//! when the TCP peer is a trusted proxy, and then only as far as trusted proxies
//! vouch for them: walking the chain from the right (the hop nearest to us), the
//! client is the first address that is not itself a trusted proxy.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::http::header::FORWARDED;
use ipnet::IpNet;

/// The proxies whose forwarded client addresses are believed. Empty (the default):
/// the client is always the TCP peer. Cheap to clone (it rides on every request as an
/// extension).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Arc<[IpNet]>);

impl TrustedProxies {
    /// Trusts the given networks.
    pub fn new(nets: impl IntoIterator<Item = IpNet>) -> Self {
        Self(nets.into_iter().collect())
    }

    /// Whether `ip` is in a trusted network (an IPv4-mapped IPv6 address counts as its
    /// IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client address of a request that came from `peer` with `headers`.
    ///
    /// From an untrusted peer: the peer; `Forwarded` and `X-Forwarded-For` are ignored.
    /// From a trusted peer: the forwarded chain (`Forwarded`'s `for=` values if that
    /// header is present, else `X-Forwarded-For`), followed by the peer, walked from
    /// the right; the answer is the first address that is not a trusted proxy. A value
    /// that is no address (`unknown`, an obfuscated `_name`, garbage) ends the walk:
    /// the answer is then the nearest trusted hop, so a forged or hidden entry never
    /// borrows another client's address. If every hop is trusted, the leftmost.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let chain = forwarded_chain(headers);
        let mut client = peer;
        for hop in chain.iter().rev() {
            match hop {
                Some(ip) if self.contains(*ip) => client = *ip,
                Some(ip) => return *ip,
                None => return client,
            }
        }
        client
    }
}

/// Parses one `TRUSTED_PROXIES` entry: a network in CIDR notation (`10.0.0.0/8`,
/// `fd00::/8`) or a single address (`127.0.0.2`).
pub fn parse_net(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{s:?} is not an address or a CIDR network"))
}

/// The forwarded addresses, leftmost (the original client) first; `None` for a value
/// that is no address.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .flat_map(|v| v.to_str().unwrap_or("\u{0}").split(','))
            .map(str::trim)
            .collect::<Vec<_>>()
    };
    let forwarded = values(FORWARDED.as_str());
    if !forwarded.is_empty() {
        return forwarded
            .into_iter()
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| node_ip(v.trim().trim_matches('"')))
            })
            .collect();
    }
    values("x-forwarded-for").into_iter().map(node_ip).collect()
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn node_ip(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sock) = node.parse::<SocketAddr>() {
        return Some(sock.ip());
    }
    node.strip_prefix('[')?.strip_suffix(']')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    fn proxies() -> TrustedProxies {
        TrustedProxies::new(["10.0.0.0/8", "127.0.0.2", "fd00::/8"].map(|s| parse_net(s).unwrap()))
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        assert_eq!(
            proxies().client_ip(ip("203.0.113.9"), &h),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::default().client_ip(ip("10.0.0.1"), &h),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn the_rightmost_untrusted_forwarded_address_is_the_client() {
        let p = proxies();
        let xff = |v: &str| headers(&[("x-forwarded-for", v)]);
        assert_eq!(
            p.client_ip(ip("127.0.0.2"), &xff("198.51.100.7")),
            ip("198.51.100.7")
        );
        // A client that sends its own header cannot choose its address.
        assert_eq!(
            p.client_ip(ip("127.0.0.2"), &xff("1.1.1.1, 198.51.100.7")),
            ip("198.51.100.7")
        );
        assert_eq!(
            p.client_ip(ip("127.0.0.2"), &xff("1.1.1.1, 198.51.100.7, 10.1.1.1")),
            ip("198.51.100.7")
        );
        // Several headers are one list.
        let two = headers(&[
            ("x-forwarded-for", "1.1.1.1"),
            ("x-forwarded-for", "198.51.100.8"),
        ]);
        assert_eq!(p.client_ip(ip("10.0.0.3"), &two), ip("198.51.100.8"));
        // Only trusted hops: the leftmost. Nothing forwarded: the peer.
        assert_eq!(
            p.client_ip(ip("127.0.0.2"), &xff("10.2.2.2, 10.3.3.3")),
            ip("10.2.2.2")
        );
        assert_eq!(
            p.client_ip(ip("127.0.0.2"), &HeaderMap::new()),
            ip("127.0.0.2")
        );
        // Garbage ends the walk at the nearest trusted hop.
        assert_eq!(
            p.client_ip(ip("127.0.0.2"), &xff("1.1.1.1, nonsense")),
            ip("127.0.0.2")
        );
        assert_eq!(
            p.client_ip(ip("127.0.0.2"), &xff("1.1.1.1, nonsense, 10.9.9.9")),
            ip("10.9.9.9")
        );
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for_and_its_forms_parse() {
        let p = proxies();
        let h = headers(&[
            ("x-forwarded-for", "1.1.1.1"),
            (
                "forwarded",
                r#"for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711""#,
            ),
        ]);
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("2001:db8:cafe::17"));
        let h = headers(&[("forwarded", r#"for="192.0.2.43:47011""#)]);
        assert_eq!(p.client_ip(ip("fd00::1"), &h), ip("192.0.2.43"));
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.1"));
        // An IPv4-mapped peer is its IPv4 address.
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(p.client_ip(ip("::ffff:127.0.0.2"), &h), ip("198.51.100.7"));
    }

    #[test]
    fn entries_are_networks_or_addresses() {
        assert_eq!(parse_net(" 10.0.0.0/8 ").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_net("127.0.0.2").unwrap().to_string(), "127.0.0.2/32");
        assert_eq!(parse_net("::1").unwrap().to_string(), "::1/128");
        assert!(parse_net("10.0.0.0/33").is_err());
        assert!(parse_net("proxy.local").is_err());
    }
}
