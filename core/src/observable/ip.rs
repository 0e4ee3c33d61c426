//! IP addresses and CIDR ranges.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

use super::{shown, Kind, Observable};
use crate::error::{Error, Result};

/// Strict dotted-decimal IPv4: four decimal octets 0..=255 without leading zeros.
pub(crate) fn parse_v4(s: &str) -> std::result::Result<Ipv4Addr, &'static str> {
    let mut octets = [0u8; 4];
    let mut n = 0;
    for part in s.split('.') {
        let p = part.as_bytes();
        if n == 4 || p.is_empty() {
            return Err("expected four decimal octets");
        }
        if !p.iter().all(u8::is_ascii_digit) {
            return Err("octets must be decimal numbers");
        }
        if p.len() > 1 && p[0] == b'0' {
            return Err("leading zero in an octet (octal or decimal?)");
        }
        if p.len() > 3 {
            return Err("octet out of range");
        }
        let v = p.iter().fold(0u16, |v, &c| v * 10 + u16::from(c - b'0'));
        octets[n] = u8::try_from(v).map_err(|_| "octet out of range")?;
        n += 1;
    }
    if n != 4 {
        return Err("expected four decimal octets");
    }
    Ok(Ipv4Addr::from(octets))
}

/// IPv6 text (any case, compressed or not, embedded IPv4 allowed); zone ids are refused.
pub(crate) fn parse_v6(s: &str) -> std::result::Result<Ipv6Addr, &'static str> {
    if s.contains('%') {
        return Err("zone ids (%...) are not supported");
    }
    s.parse::<Ipv6Addr>().map_err(|_| "not a valid ipv6 address")
}

/// An IPv4 address as an observable.
pub(crate) fn v4_observable(a: Ipv4Addr) -> Observable {
    Observable { kind: Kind::Ipv4, value: a.to_string() }
}

/// An IPv6 address as an observable; an IPv4-mapped address folds to IPv4.
pub(crate) fn v6_observable(a: Ipv6Addr) -> Observable {
    match a.to_ipv4_mapped() {
        Some(v4) => v4_observable(v4),
        None => Observable { kind: Kind::Ipv6, value: a.to_string() },
    }
}

/// Normalise an IPv4 address.
pub(crate) fn ipv4(s: &str) -> Result<Observable> {
    parse_v4(s).map(v4_observable).map_err(|r| Error::invalid(s, format!("invalid ipv4 address '{}': {r}", shown(s))))
}

/// Normalise an IPv6 address (an IPv4-mapped one becomes IPv4).
pub(crate) fn ipv6(s: &str) -> Result<Observable> {
    parse_v6(s).map(v6_observable).map_err(|r| Error::invalid(s, format!("invalid ipv6 address '{}': {r}", shown(s))))
}

fn v4_net(a: Ipv4Addr, prefix: u8) -> Observable {
    if prefix == 32 {
        return v4_observable(a);
    }
    // `prefix <= 32` is checked by the callers; `new` cannot fail then.
    match Ipv4Net::new(a, prefix) {
        Ok(n) => Observable { kind: Kind::Cidr, value: n.trunc().to_string() },
        Err(_) => v4_observable(a),
    }
}

/// Normalise a CIDR range `addr/prefix`: host bits zeroed; a v4 `/32` is an IPv4 address, a v6
/// `/128` an IPv6 address; an IPv4-mapped v6 network with prefix >= 96 folds to the v4 network.
pub(crate) fn cidr(s: &str) -> Result<Observable> {
    let err = |r: &dyn std::fmt::Display| Error::invalid(s, format!("invalid cidr '{}': {r}", shown(s)));
    let (addr, prefix) = s.split_once('/').unwrap_or((s, ""));
    if prefix.is_empty() {
        return Err(err(&"missing prefix length after '/'"));
    }
    if prefix.len() > 3 || !prefix.bytes().all(|c| c.is_ascii_digit()) {
        return Err(err(&"the prefix length must be a number"));
    }
    let plen: u16 = prefix.parse().map_err(|_| err(&"the prefix length must be a number"))?;
    if addr.contains(':') {
        let a = parse_v6(addr).map_err(|r| err(&r))?;
        let plen = u8::try_from(plen)
            .ok()
            .filter(|&p| p <= 128)
            .ok_or_else(|| err(&format!("prefix length {plen} out of range (at most 128 for ipv6)")))?;
        let net = Ipv6Net::new(a, plen).map_err(|e| err(&e))?.trunc();
        let network = net.network();
        if plen >= 96 {
            if let Some(v4) = network.to_ipv4_mapped() {
                return Ok(v4_net(v4, plen - 96));
            }
        }
        if plen == 128 {
            return Ok(Observable { kind: Kind::Ipv6, value: network.to_string() });
        }
        Ok(Observable { kind: Kind::Cidr, value: net.to_string() })
    } else {
        let a = parse_v4(addr).map_err(|r| err(&r))?;
        let plen = u8::try_from(plen)
            .ok()
            .filter(|&p| p <= 32)
            .ok_or_else(|| err(&format!("prefix length {plen} out of range (at most 32 for ipv4)")))?;
        Ok(v4_net(a, plen))
    }
}

/// Any of the IP forms: a CIDR (with `/`), an IPv6 (with `:`, bare or in brackets) or an
/// IPv4 address. An address with a port is an error: one observable has no port.
pub(crate) fn family(s: &str) -> Result<Observable> {
    if s.contains('/') {
        cidr(s)
    } else if let Some(r) = with_port(s) {
        match r? {
            (o, None) => Ok(o),
            (_, Some(_)) => Err(port_error(s)),
        }
    } else if s.contains(':') {
        ipv6(s)
    } else {
        ipv4(s)
    }
}

/// The error for `IP:port` where one observable is wanted.
pub(crate) fn port_error(s: &str) -> Error {
    Error::invalid(s, format!("'{}' is an ip address with a port: one observable has no port", shown(s)))
}

/// A port number 1..=65535 in decimal.
fn parse_port(p: &str) -> std::result::Result<u16, &'static str> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|c| c.is_ascii_digit()) {
        return Err("the port must be a number from 1 to 65535");
    }
    match p.parse::<u32>() {
        Ok(n @ 1..=65535) => Ok(n as u16),
        _ => Err("port out of range (1 to 65535)"),
    }
}

/// `IPv4:port`, `[IPv6]:port` or `[IPv6]`: `None` when `s` does not have that shape, an error
/// when it has the shape but the address or port is bad.
pub(crate) fn with_port(s: &str) -> Option<Result<(Observable, Option<u16>)>> {
    let b = s.as_bytes();
    if b.first() == Some(&b'[') {
        let close = s.find(']')?;
        let inner = &s[1..close];
        if !inner.contains(':') {
            return None;
        }
        let rest = &s[close + 1..];
        let port = if rest.is_empty() {
            None
        } else {
            let p = rest.strip_prefix(':')?;
            if !p.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            match parse_port(p) {
                Ok(p) => Some(p),
                Err(r) => return Some(Err(Error::invalid(s, format!("invalid port in '{}': {r}", shown(s))))),
            }
        };
        return Some(
            parse_v6(inner)
                .map(|a| (v6_observable(a), port))
                .map_err(|r| Error::invalid(s, format!("invalid ipv6 address '{}': {r}", shown(s)))),
        );
    }
    let (head, tail) = s.rsplit_once(':')?;
    if head.contains(':')
        || tail.is_empty()
        || !tail.bytes().all(|c| c.is_ascii_digit())
        || !head.contains('.')
        || !head.bytes().all(|c| c.is_ascii_digit() || c == b'.')
    {
        return None;
    }
    let addr = match parse_v4(head) {
        Ok(a) => a,
        Err(r) => return Some(Err(Error::invalid(s, format!("invalid ipv4 address '{}': {r}", shown(s))))),
    };
    Some(match parse_port(tail) {
        Ok(p) => Ok((v4_observable(addr), Some(p))),
        Err(r) => Err(Error::invalid(s, format!("invalid port in '{}': {r}", shown(s)))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_v4() {
        assert_eq!(parse_v4("1.2.3.4"), Ok(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(parse_v4("0.0.0.0"), Ok(Ipv4Addr::UNSPECIFIED));
        assert_eq!(parse_v4("255.255.255.255"), Ok(Ipv4Addr::BROADCAST));
        assert_eq!(parse_v4("1.2.3.999"), Err("octet out of range"));
        assert_eq!(parse_v4("1.2.3.256"), Err("octet out of range"));
        assert_eq!(parse_v4("1.2.3.1000"), Err("octet out of range"));
        assert!(parse_v4("01.2.3.4").unwrap_err().contains("leading zero"));
        assert!(parse_v4("1.2.3").is_err());
        assert!(parse_v4("1.2.3.4.5").is_err());
        assert!(parse_v4("1..3.4").is_err());
        assert!(parse_v4("1.2.3.a").is_err());
        assert!(parse_v4("1.2.3.4.").is_err());
    }

    #[test]
    fn cidrs() {
        let c = |s: &str| cidr(s).map(|o| (o.kind, o.value));
        assert_eq!(c("10.1.2.3/8").unwrap(), (Kind::Cidr, "10.0.0.0/8".into()));
        assert_eq!(c("10.1.2.3/32").unwrap(), (Kind::Ipv4, "10.1.2.3".into()));
        assert_eq!(c("1.2.3.4/0").unwrap(), (Kind::Cidr, "0.0.0.0/0".into()));
        assert_eq!(c("2001:DB8::1/32").unwrap(), (Kind::Cidr, "2001:db8::/32".into()));
        assert_eq!(c("2001:db8::1/128").unwrap(), (Kind::Ipv6, "2001:db8::1".into()));
        assert_eq!(c("::ffff:10.1.2.3/104").unwrap(), (Kind::Cidr, "10.0.0.0/8".into()));
        assert_eq!(c("::ffff:10.1.2.3/128").unwrap(), (Kind::Ipv4, "10.1.2.3".into()));
        assert!(c("1.2.3.4/33").unwrap_err().message().contains("out of range"));
        assert!(c("::/129").is_err());
        assert!(c("1.2.3.4/").is_err());
        assert!(c("1.2.3.4/x").is_err());
        assert!(c("1.2.3.4/0008").is_err());
        assert!(c("fe80::1%eth0/64").unwrap_err().message().contains("zone"));
    }

    #[test]
    fn ports() {
        let p = |s: &str| with_port(s).map(|r| r.map(|(o, p)| (o.value, p)));
        assert_eq!(p("1.2.3.4:8080").unwrap().unwrap(), ("1.2.3.4".into(), Some(8080)));
        assert_eq!(p("[2001:db8::1]:443").unwrap().unwrap(), ("2001:db8::1".into(), Some(443)));
        assert_eq!(p("[::ffff:1.2.3.4]:1").unwrap().unwrap(), ("1.2.3.4".into(), Some(1)));
        assert_eq!(p("[::1]").unwrap().unwrap(), ("::1".into(), None));
        assert!(p("1.2.3.4:0").unwrap().is_err());
        assert!(p("1.2.3.4:65536").unwrap().is_err());
        assert!(p("[::1]:99999").unwrap().is_err());
        assert!(p("1.2.3.999:80").unwrap().is_err());
        assert!(p("2001:db8::80").is_none());
        assert!(p("::1").is_none());
        assert!(p("evil.com:80").is_none());
        assert!(p("1.2.3.4").is_none());
        assert!(p("[::1]/x").is_none());
    }
}
