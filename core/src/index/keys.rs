//! Keys: how observables are keyed in the index, and fast normalisation of event values into
//! the same form (with the full observable normaliser as the slow path, so both always agree).

use crate::observable::{self, Kind};
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

/// The first byte of a string key: which kind it is.
pub(crate) fn tag(kind: Kind) -> u8 {
    match kind {
        Kind::Domain => b'd',
        Kind::Url => b'u',
        Kind::Email => b'e',
        Kind::Username => b'n',
        Kind::Ssdeep => b's',
        // other kinds are not string keys; give them tags that never collide
        Kind::Ipv4 => b'4',
        Kind::Ipv6 => b'6',
        Kind::Cidr => b'c',
        Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512 => b'h',
    }
}

/// Filter-only key prefix: "this domain has indicators that match sub-domains".
pub(crate) const SUBDOMAIN_MARK: u8 = b'S';

/// Hex digit values; `0x80` for bytes that are not hex digits.
const HEX: [u8; 256] = {
    let mut t = [0x80u8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Hex text (either case) into `out`, which must be half as long. False when not hex.
pub(crate) fn decode_hex_into(s: &[u8], out: &mut [u8]) -> bool {
    if s.len() != out.len() * 2 {
        return false;
    }
    // branch-free: a bad digit sets the high bit of `bad`, checked once at the end
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let (a, b) = (HEX[pair[0] as usize], HEX[pair[1] as usize]);
        bad |= a | b;
        *o = (a << 4) | (b & 0x0F);
    }
    bad & 0x80 == 0
}

/// Hex text into bytes.
#[cfg(test)]
pub(crate) fn decode_hex(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![0u8; s.len() / 2];
    decode_hex_into(s, &mut out).then_some(out)
}

/// A dotted-quad IPv4 address in canonical form (no leading zeros), fast.
pub(crate) fn parse_ipv4(s: &[u8]) -> Option<u32> {
    if s.len() < 7 || s.len() > 15 {
        return None;
    }
    let (mut out, mut part, mut digits, mut dots) = (0u32, 0u32, 0u32, 0u32);
    for (i, &c) in s.iter().enumerate() {
        let d = c.wrapping_sub(b'0');
        if d < 10 {
            // a leading zero is only allowed as the whole part
            if digits == 1 && part == 0 {
                return None;
            }
            part = part * 10 + u32::from(d);
            digits += 1;
            if part > 255 {
                return None;
            }
        } else if c == b'.' && digits > 0 && dots < 3 && i + 1 < s.len() {
            out = (out << 8) | part;
            (part, digits) = (0, 0);
            dots += 1;
        } else {
            return None;
        }
    }
    (dots == 3 && digits > 0).then_some((out << 8) | part)
}

/// `s` without surrounding whitespace; no work when there is none (the usual case).
#[inline]
fn trim(s: &str) -> &str {
    match s.as_bytes() {
        [a, .., b] if !a.is_ascii_whitespace() && !b.is_ascii_whitespace() && a.is_ascii() && b.is_ascii() => s,
        _ => s.trim(),
    }
}

/// An IP address as found in an event: IPv4 (fast path), IPv6 (IPv4-mapped folded to IPv4),
/// with surrounding whitespace or brackets tolerated.
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = trim(s);
    if let Some(v4) = parse_ipv4(s.as_bytes()) {
        return Some(IpAddr::V4(Ipv4Addr::from(v4)));
    }
    let s = s.strip_prefix('[').and_then(|x| x.strip_suffix(']')).unwrap_or(s);
    if !s.contains(':') {
        // leading zeros or other unusual IPv4 text: let the std parser decide
        return s.parse::<Ipv4Addr>().ok().map(IpAddr::V4);
    }
    match s.parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => Some(match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        }),
        v4 => Some(v4),
    }
}

/// A domain from an event in the index's form: lower-case, no trailing dot, punycode.
pub(crate) fn domain(s: &str) -> Option<Cow<'_, str>> {
    let t = s.trim();
    let t = t.strip_suffix('.').unwrap_or(t);
    if t.is_empty() || t.len() > 253 {
        return None;
    }
    let plain = t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'_');
    if plain {
        return Some(Cow::Borrowed(t));
    }
    if t.is_ascii() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_') {
        return Some(Cow::Owned(t.to_ascii_lowercase()));
    }
    observable::normalize(t, Some(Kind::Domain)).ok().map(|o| Cow::Owned(o.value))
}

/// An e-mail address from an event in the index's form.
pub(crate) fn email(s: &str) -> Option<Cow<'_, str>> {
    let t = s.trim();
    if t.is_empty() || !t.contains('@') {
        return None;
    }
    if t.bytes().all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase()) && !t.starts_with("mailto:") {
        return Some(Cow::Borrowed(t));
    }
    if t.is_ascii() && !t.contains(['[', '(', '{']) && !t.starts_with(|c: char| c.eq_ignore_ascii_case(&'m')) {
        return Some(Cow::Owned(t.to_ascii_lowercase()));
    }
    observable::normalize(t, Some(Kind::Email)).ok().map(|o| Cow::Owned(o.value))
}

/// Whether a URL is already in the normalised form, so that it can be looked up as it is.
/// Conservative: anything unusual goes through the full normaliser.
fn url_is_canonical(s: &str) -> bool {
    let b = s.as_bytes();
    let rest = if let Some(r) = s.strip_prefix("http://") {
        r
    } else if let Some(r) = s.strip_prefix("https://") {
        r
    } else {
        return false;
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..host_end];
    let path = &rest[host_end..];
    if host.is_empty()
        || host.ends_with('.')
        || !host.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-')
        || host.starts_with("xn--")
        || host.contains(".xn--")
    {
        return false;
    }
    // a numeric last label makes the host an IPv4 address to the normaliser
    let last = host.rsplit('.').next().unwrap_or("");
    if last.bytes().next().is_some_and(|c| c.is_ascii_digit()) && parse_ipv4(host.as_bytes()).is_none() {
        return false;
    }
    if !path.starts_with('/') {
        return false;
    }
    if b.len() > 2048 {
        return false;
    }
    let (p, _) = path.split_once('?').unwrap_or((path, ""));
    if p.contains("/./") || p.contains("/../") || p.ends_with("/.") || p.ends_with("/..") {
        return false;
    }
    // only characters the normaliser keeps as they are (no `'`, space, `#`, `\\`, non-ASCII),
    // and no percent-encoded dot, which it would treat as a dot segment
    path.bytes().all(|c| c.is_ascii_alphanumeric() || b"-._~!$&()*+,;=:@/?%".contains(&c))
        && !path.contains("%2e")
        && !path.contains("%2E")
}

/// A URL from an event in the index's form.
pub(crate) fn url(s: &str) -> Option<Cow<'_, str>> {
    let t = s.trim();
    if url_is_canonical(t) {
        return Some(Cow::Borrowed(t));
    }
    observable::normalize(t, Some(Kind::Url)).ok().map(|o| Cow::Owned(o.value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ipv4_fast_path_agrees_with_std() {
        // every string over digits, dots and one other byte, sampled: the same answer as std
        let alphabet = b"0123456789..x";
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..300_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = 6 + (state % 11) as usize;
            let s: Vec<u8> = (0..len).map(|i| alphabet[((state >> (4 * i % 60)) % 13) as usize]).collect();
            let text = std::str::from_utf8(&s).unwrap();
            assert_eq!(parse_ipv4(&s), text.parse::<Ipv4Addr>().ok().map(u32::from), "{text}");
        }
        for ok in ["0.0.0.0", "10.0.0.1", "192.168.100.200", "1.22.133.4"] {
            assert_eq!(parse_ipv4(ok.as_bytes()), ok.parse::<Ipv4Addr>().ok().map(u32::from), "{ok}");
        }
    }

    #[test]
    fn ipv4_fast_path() {
        assert_eq!(parse_ipv4(b"1.2.3.4"), Some(0x0102_0304));
        assert_eq!(parse_ipv4(b"255.255.255.255"), Some(u32::MAX));
        for bad in ["1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", "1..2.3", "1.2.3.4 ", "a.b.c.d", "1.2.3.4."] {
            assert_eq!(parse_ipv4(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(parse_ip("::ffff:1.2.3.4"), Some("1.2.3.4".parse().unwrap()));
        assert_eq!(parse_ip("[2001:db8::1]"), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(parse_ip("fe80::1%eth0"), None);
    }

    #[test]
    fn hex() {
        assert_eq!(decode_hex(b"00ffAa"), Some(vec![0, 255, 170]));
        assert_eq!(decode_hex(b"0g"), None);
        assert_eq!(decode_hex(b"abc"), None);
        // every byte, in both places of a pair, against char::to_digit
        for c in 0..=255u8 {
            let d = (c as char).to_digit(16).map(|d| d as u8);
            assert_eq!(decode_hex(&[c, b'7']), d.map(|d| vec![d << 4 | 7]), "{c}");
            assert_eq!(decode_hex(&[b'a', c]), d.map(|d| vec![0xA0 | d]), "{c}");
        }
    }

    #[test]
    fn event_values_normalise_like_indicators() {
        for (raw, want) in [
            ("EVIL.example.", "evil.example"),
            ("bücher.example", "xn--bcher-kva.example"),
            ("login.evil.example", "login.evil.example"),
        ] {
            assert_eq!(domain(raw).unwrap(), want, "{raw}");
        }
        assert_eq!(email("Bob@Evil.Example").unwrap(), "bob@evil.example");
        for (raw, want) in [
            ("http://evil.example/a?b=1", "http://evil.example/a?b=1"),
            ("HTTP://Evil.Example:80/a#frag", "http://evil.example/a"),
            ("https://evil.example", "https://evil.example/"),
            ("http://evil.example/a/../b", "http://evil.example/b"),
            ("http://evil.example/a b", "http://evil.example/a%20b"),
        ] {
            assert_eq!(url(raw).unwrap(), want, "{raw}");
        }
    }

    proptest! {
        /// The fast path never disagrees with the full normaliser on a URL an indicator can
        /// hold (a value the normaliser rejects can only miss, whichever path it takes).
        #[test]
        fn url_fast_path_agrees(host in "[a-z0-9.-]{1,20}", path in "[ -~]{0,30}", https in any::<bool>()) {
            let s = format!("{}://{host}/{path}", if https { "https" } else { "http" });
            if let Ok(full) = observable::normalize(&s, Some(Kind::Url)) {
                let fast = url(&s).map(|u| u.into_owned());
                prop_assert_eq!(fast, Some(full.value), "{}", s);
            }
        }

        #[test]
        fn domain_fast_path_agrees(d in "[a-zA-Z0-9_-]{1,10}(\\.[a-zA-Z0-9-]{1,10}){1,3}\\.?") {
            if let (Some(fast), Ok(full)) = (domain(&d), observable::normalize(&d, Some(Kind::Domain))) {
                prop_assert_eq!(fast.as_ref(), full.value.as_str());
            }
        }
    }
}
