//! Domain names.

use std::borrow::Cow;

use super::{clip, shown, Kind, Observable};
use crate::error::{Error, Result};

/// Why a string is not a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DomainError {
    /// `*.evil.com`.
    Wildcard,
    /// Anything else, with the reason.
    Invalid(Cow<'static, str>),
}

impl DomainError {
    /// The reason, for a message.
    pub(crate) fn reason(&self) -> Cow<'static, str> {
        match self {
            DomainError::Wildcard => Cow::Borrowed(
                "wildcards are not supported: import the parent domain and use the match_subdomains option",
            ),
            DomainError::Invalid(r) => r.clone(),
        }
    }
}

/// Normalise a domain: lower-case, IDNA (UTS 46) to punycode, one trailing dot stripped, then
/// validated: at least two labels of 1..=63 bytes of `[a-z0-9_-]`, none starting or ending with
/// `-`, at most 253 bytes in all, an alphabetic (or `xn--`) top-level label.
///
/// Pure lower-case ASCII takes a fast path (no IDNA) unless a label is punycode.
pub(crate) fn normalize_domain(s: &str) -> std::result::Result<String, DomainError> {
    if s.starts_with("*.") || s == "*" {
        return Err(DomainError::Wildcard);
    }
    let mut upper = false;
    let mut non_ascii = false;
    for &c in s.as_bytes() {
        if c >= 0x80 {
            non_ascii = true;
            break;
        }
        upper |= c.is_ascii_uppercase();
    }
    let lowered: Cow<'_, str> = if non_ascii {
        Cow::Owned(idna_to_ascii(s)?)
    } else if upper {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    };
    let lowered = if !non_ascii && has_punycode_label(&lowered) {
        // Check that the punycode decodes (and is in its canonical form).
        let checked = idna_to_ascii(&lowered)?;
        if checked != *lowered {
            return Err(DomainError::Invalid(Cow::Borrowed("invalid punycode label")));
        }
        lowered
    } else {
        lowered
    };
    let d = lowered.strip_suffix('.').unwrap_or(&lowered);
    validate(d)?;
    Ok(match lowered {
        Cow::Owned(mut o) if o.len() == d.len() => {
            o.shrink_to_fit();
            o
        }
        _ => d.to_owned(),
    })
}

fn idna_to_ascii(s: &str) -> std::result::Result<String, DomainError> {
    idna::domain_to_ascii(s)
        .map_err(|_| DomainError::Invalid(Cow::Borrowed("not a valid internationalised domain name")))
}

fn has_punycode_label(s: &str) -> bool {
    s.starts_with("xn--") || s.contains(".xn--")
}

/// Validate a lower-case ASCII domain without trailing dot.
fn validate(d: &str) -> std::result::Result<(), DomainError> {
    let bad = |r: String| Err(DomainError::Invalid(Cow::Owned(r)));
    if d.is_empty() {
        return Err(DomainError::Invalid(Cow::Borrowed("empty domain")));
    }
    if d.len() > 253 {
        return bad(format!("longer than 253 bytes ({})", d.len()));
    }
    let mut labels = 0;
    let mut last = "";
    for label in d.split('.') {
        labels += 1;
        let b = label.as_bytes();
        if b.is_empty() {
            return Err(DomainError::Invalid(Cow::Borrowed("empty label")));
        }
        if b.len() > 63 {
            return bad(format!("label '{}...' is longer than 63 bytes", clip(label, 20)));
        }
        if let Some(&c) = b.iter().find(|&&c| !matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_')) {
            return if c == b'*' {
                Err(DomainError::Wildcard)
            } else {
                bad(format!("invalid character {:?}", c as char))
            };
        }
        if b[0] == b'-' || b[b.len() - 1] == b'-' {
            return bad(format!("label '{label}' starts or ends with '-'"));
        }
        last = label;
    }
    if labels < 2 {
        return Err(DomainError::Invalid(Cow::Borrowed("a domain needs at least two labels")));
    }
    let tld_ok = last.bytes().all(|c| c.is_ascii_lowercase())
        || (last.len() > 4 && last.starts_with("xn--") && !last.contains('_'));
    if !tld_ok {
        return bad(format!("the top-level label '{last}' must be alphabetic"));
    }
    Ok(())
}

/// The error for a value that is not a domain.
pub(crate) fn error(s: &str, e: &DomainError) -> Error {
    Error::invalid(s, format!("invalid domain '{}': {}", shown(s), e.reason()))
}

/// Normalise a domain observable.
pub(crate) fn domain(s: &str) -> Result<Observable> {
    normalize_domain(s).map(|value| Observable { kind: Kind::Domain, value }).map_err(|e| error(s, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        let ok = [
            ("evil.com", "evil.com"),
            ("EVIL.Com.", "evil.com"),
            ("bücher.de", "xn--bcher-kva.de"),
            ("BÜCHER.DE", "xn--bcher-kva.de"),
            ("xn--bcher-kva.de", "xn--bcher-kva.de"),
            ("a_b.evil.com", "a_b.evil.com"),
            ("münchen.xn--p1ai", "xn--mnchen-3ya.xn--p1ai"),
            ("пример.рф", "xn--e1afmkfd.xn--p1ai"),
            ("1-2.x.io", "1-2.x.io"),
        ];
        for (i, o) in ok {
            assert_eq!(normalize_domain(i).as_deref(), Ok(o), "{i}");
        }
    }

    #[test]
    fn rejects() {
        let long_label = format!("{}.com", "a".repeat(64));
        let long_total = format!("{}.com", vec!["a".repeat(60); 5].join("."));
        for s in [
            "com",
            "evil..com",
            "evil.com..",
            ".evil.com",
            "-evil.com",
            "evil-.com",
            "foo.123",
            "evil.c_m",
            "evil com.org",
            "evil.com/",
            long_label.as_str(),
            long_total.as_str(),
            "xn--zz-.com",
            "",
            ".",
        ] {
            assert!(normalize_domain(s).is_err(), "{s}");
        }
        assert_eq!(normalize_domain("*.evil.com"), Err(DomainError::Wildcard));
        assert_eq!(normalize_domain("a.*.evil.com"), Err(DomainError::Wildcard));
    }

    #[test]
    fn label_of_63_is_fine() {
        let d = format!("{}.com", "a".repeat(63));
        assert_eq!(normalize_domain(&d).unwrap(), d);
    }
}
