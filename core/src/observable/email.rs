//! E-mail addresses.

use super::domain::normalize_domain;
use super::{shown, Kind, Observable};
use crate::error::{Error, Result};

/// Strip a `mailto:` prefix (any case).
fn strip_mailto(s: &str) -> &str {
    match s.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("mailto:") => s[7..].trim_start(),
        _ => s,
    }
}

/// Whether `c` may appear in the local part: printable ASCII without space and `<>()[]\,;:@`.
fn local_ok(c: u8) -> bool {
    (0x21..=0x7e).contains(&c)
        && !matches!(c, b'<' | b'>' | b'(' | b')' | b'[' | b']' | b'\\' | b',' | b';' | b':' | b'@')
}

/// Normalise an e-mail address: optional `mailto:` stripped, exactly one `@`, a local part of
/// 1..=64 bytes of printable ASCII (no spaces, `<>()[]\,;:`), a valid domain (no IP literal);
/// the whole lower-cased, the domain IDNA-encoded.
pub(crate) fn email(s: &str) -> Result<Observable> {
    let err = |r: &dyn std::fmt::Display| Error::invalid(s, format!("invalid e-mail address '{}': {r}", shown(s)));
    let v = strip_mailto(s);
    let Some((local, domain)) = v.split_once('@') else {
        return Err(err(&"missing '@'"));
    };
    if domain.contains('@') {
        return Err(err(&"more than one '@'"));
    }
    if local.is_empty() {
        return Err(err(&"empty local part"));
    }
    if local.len() > 64 {
        return Err(err(&"local part longer than 64 bytes"));
    }
    if let Some(c) = local.chars().find(|&c| !c.is_ascii() || !local_ok(c as u8)) {
        return Err(err(&format!("invalid character {c:?} in the local part")));
    }
    if domain.starts_with('[') {
        return Err(err(&"ip address literals are not supported"));
    }
    let domain = normalize_domain(domain).map_err(|e| err(&format!("bad domain: {}", e.reason())))?;
    let mut value = String::with_capacity(local.len() + 1 + domain.len());
    value.extend(local.chars().map(|c| c.to_ascii_lowercase()));
    value.push('@');
    value.push_str(&domain);
    Ok(Observable { kind: Kind::Email, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        let ok = [
            ("Bob@Evil.COM", "bob@evil.com"),
            ("mailto:bob@evil.com", "bob@evil.com"),
            ("MAILTO:bob.smith+tag@evil.com", "bob.smith+tag@evil.com"),
            ("bob@bücher.de", "bob@xn--bcher-kva.de"),
            ("o'brien@evil.com.", "o'brien@evil.com"),
        ];
        for (i, o) in ok {
            assert_eq!(email(i).unwrap().value, o, "{i}");
        }
        for s in [
            "bob",
            "@evil.com",
            "bob@",
            "bob@@evil.com",
            "a@b@evil.com",
            "bo b@evil.com",
            "bob@evil",
            "bob@[1.2.3.4]",
            "bób@evil.com",
            "<bob>@evil.com",
            "bob@evil..com",
            "mailto:",
        ] {
            assert!(email(s).is_err(), "{s}");
        }
        assert!(email(&format!("{}@evil.com", "a".repeat(65))).is_err());
        assert!(email(&format!("{}@evil.com", "a".repeat(64))).is_ok());
    }
}
