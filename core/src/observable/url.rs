//! URLs. (The `url` crate is reached as `::url`.)

use std::borrow::Cow;

use ::url::{Host, Url};

use super::domain::normalize_domain;
use super::ip::{parse_v4, parse_v6};
use super::{shown, Kind, Observable};
use crate::error::{Error, Result};

/// Whether `scheme` is `[a-zA-Z][a-zA-Z0-9+.-]*`.
pub(crate) fn scheme_ok(scheme: &str) -> bool {
    let b = scheme.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-'))
}

/// The position of `://` in `s` when what comes before it could be a scheme (no `/`).
pub(crate) fn scheme_end(s: &str) -> Option<usize> {
    let pos = s.find("://")?;
    (!s[..pos].contains('/')).then_some(pos)
}

/// Normalise a URL with a scheme ending at `pos` (where `://` starts).
pub(crate) fn with_scheme(s: &str, pos: usize) -> Result<Observable> {
    let err = |r: &dyn std::fmt::Display| Error::invalid(s, format!("invalid url '{}': {r}", shown(s)));
    if !scheme_ok(&s[..pos]) {
        return Err(err(&format!("bad scheme '{}'", shown(&s[..pos]))));
    }
    let mut u = Url::parse(s).map_err(|e| err(&e.to_string().to_lowercase()))?;
    let special = u.is_special();
    u.set_fragment(None);
    let new_host: Option<String> = match u.host() {
        None => return Err(err(&"no host")),
        Some(Host::Ipv4(_)) => None,
        Some(Host::Ipv6(a)) => a.to_ipv4_mapped().map(|v4| v4.to_string()),
        Some(Host::Domain("")) => return Err(err(&"no host")),
        Some(Host::Domain(d)) => {
            // Special schemes: the url crate has lower-cased and IDNA-encoded the host.
            // Others: the host is opaque, case kept and percent-encoded.
            let decoded: Cow<'_, str> = if special {
                Cow::Borrowed(d)
            } else {
                percent_decode(d).ok_or_else(|| err(&"bad percent-encoding in the host"))?
            };
            if !special && parse_v4(&decoded).is_ok() {
                (decoded != d).then(|| decoded.into_owned())
            } else {
                match normalize_domain(&decoded) {
                    Ok(n) => (n != d).then_some(n),
                    Err(e) => {
                        return Err(err(&format!(
                            "host '{}' is not a valid domain or ip address ({})",
                            shown(d),
                            e.reason()
                        )))
                    }
                }
            }
        }
    };
    if let Some(h) = new_host {
        u.set_host(Some(&h)).map_err(|e| err(&e.to_string().to_lowercase()))?;
    }
    if u.path().is_empty() {
        u.set_path("/");
    }
    Ok(Observable { kind: Kind::Url, value: u.into() })
}

/// Whether `head` (what comes before the first `/` of a scheme-less URL) is `host[:port]` with
/// a valid domain, IPv4 or bracketed IPv6 host.
pub(crate) fn schemeless_head_ok(head: &str) -> bool {
    if head.is_empty() || head.contains('@') {
        return false;
    }
    let port = if let Some(rest) = head.strip_prefix('[') {
        let Some((inner, after)) = rest.split_once(']') else {
            return false;
        };
        if parse_v6(inner).is_err() {
            return false;
        }
        if after.is_empty() {
            None
        } else {
            match after.strip_prefix(':') {
                Some(p) => Some(p),
                None => return false,
            }
        }
    } else {
        let (host, port) = match head.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (head, None),
        };
        if host.contains(':') || (parse_v4(host).is_err() && normalize_domain(host).is_err()) {
            return false;
        }
        port
    };
    match port {
        None => true,
        Some(p) => {
            !p.is_empty()
                && p.len() <= 5
                && p.bytes().all(|c| c.is_ascii_digit())
                && matches!(p.parse::<u32>(), Ok(1..=65535))
        }
    }
}

/// A scheme-less URL (`evil.com/gate.php`): `http://` is prepended.
pub(crate) fn schemeless(s: &str) -> Result<Observable> {
    let full = format!("http://{s}");
    with_scheme(&full, 4).map_err(|e| Error::invalid(s, e.message()))
}

/// `s` validated as a URL because the caller said so: with a scheme, or a scheme-less
/// `host[:port][/path]`.
pub(crate) fn forced(s: &str) -> Result<Observable> {
    if let Some(pos) = scheme_end(s) {
        return with_scheme(s, pos);
    }
    let head_end = s.find(['/', '?', '#']).unwrap_or(s.len());
    if schemeless_head_ok(&s[..head_end]) {
        schemeless(s)
    } else {
        Err(Error::invalid(s, format!("invalid url '{}': no scheme (like http://) and no valid host", shown(s))))
    }
}

/// Decode `%XX` escapes; `None` for a bad escape or non-UTF-8 result.
fn percent_decode(s: &str) -> Option<Cow<'_, str>> {
    if !s.contains('%') {
        return Some(Cow::Borrowed(s));
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        match scheme_end(s) {
            Some(p) => with_scheme(s, p).unwrap().value,
            None => forced(s).unwrap().value,
        }
    }

    #[test]
    fn urls() {
        let cases = [
            ("HTTP://EVIL.COM", "http://evil.com/"),
            ("http://evil.com:80/a#frag", "http://evil.com/a"),
            ("https://evil.com:443/", "https://evil.com/"),
            ("https://evil.com:8443/x?y=1", "https://evil.com:8443/x?y=1"),
            ("http://bücher.de/ä", "http://xn--bcher-kva.de/%C3%A4"),
            ("http://evil.com./x", "http://evil.com/x"),
            ("http://[::ffff:1.2.3.4]/", "http://1.2.3.4/"),
            ("http://[2001:DB8::1]:8080/", "http://[2001:db8::1]:8080/"),
            ("tcp://EVIL.com:4444", "tcp://evil.com:4444/"),
            ("foo://BÜCHER.de/x", "foo://xn--bcher-kva.de/x"),
            ("foo://1.2.3.4:99/x", "foo://1.2.3.4:99/x"),
            ("evil.com/gate.php", "http://evil.com/gate.php"),
            ("1.2.3.4:8080/x", "http://1.2.3.4:8080/x"),
            ("evil.com", "http://evil.com/"),
            ("http://user:pw@evil.com/", "http://user:pw@evil.com/"),
        ];
        for (i, o) in cases {
            assert_eq!(n(i), o, "{i}");
        }
    }

    #[test]
    fn bad_urls() {
        for s in [
            "http://localhost/",
            "http://evil/",
            "http:///x",
            "1http://evil.com/",
            "ht_tp://evil.com/",
            "http://1.2.3.999/",
            "http://evil..com/",
            "http://*.evil.com/",
            "foo://",
            "http://evil.com:99999/",
        ] {
            let r = match scheme_end(s) {
                Some(p) => with_scheme(s, p),
                None => forced(s),
            };
            assert!(r.is_err(), "{s}: {r:?}");
        }
        assert!(forced("a@b.com").is_err());
        assert!(forced("evil").is_err());
    }

    #[test]
    fn heads() {
        assert!(schemeless_head_ok("evil.com"));
        assert!(schemeless_head_ok("evil.com:8080"));
        assert!(schemeless_head_ok("1.2.3.4:8080"));
        assert!(schemeless_head_ok("[::1]:80"));
        assert!(schemeless_head_ok("[::1]"));
        assert!(!schemeless_head_ok("evil.com:0"));
        assert!(!schemeless_head_ok("evil.com:x"));
        assert!(!schemeless_head_ok("a@evil.com"));
        assert!(!schemeless_head_ok("::1"));
        assert!(!schemeless_head_ok("abc"));
        assert!(!schemeless_head_ok(""));
    }
}
