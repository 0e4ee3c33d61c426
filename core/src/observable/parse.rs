//! Classification: [`normalize`] one observable, [`parse_indicator`] one indicator value.

use std::borrow::Cow;

use super::refang::refang;
use super::{clip, domain, email, hash, ip, shown, url, IndicatorValue, Kind, Observable, MAX_LEN};
use crate::error::{Error, Result};

/// The longest user name accepted, in bytes.
const MAX_USERNAME: usize = 256;

/// Classify and normalise ONE observable.
///
/// `kind`: `None` guesses the kind; `Some(k)` says it is `k` (the value is validated as `k`;
/// this is the only way to get a [`Kind::Username`]). Trims whitespace, [`refang`]s (not user
/// names), then classifies and normalises as described in the [module documentation](super).
///
/// # Errors
///
/// A validation error naming the value: empty, oversized (more than [`super::MAX_LEN`]
/// bytes), malformed, unrecognised, or of another kind than the one given.
///
/// # Examples
///
/// ```
/// use iocmatch::observable::{normalize, Kind};
/// let o = normalize("hxxps://Evil[.]COM:443/a#x", None).unwrap();
/// assert_eq!((o.kind, o.value.as_str()), (Kind::Url, "https://evil.com/a"));
/// assert_eq!(normalize("::ffff:1.2.3.4", None).unwrap().kind, Kind::Ipv4);
/// assert_eq!(normalize("bob", Some(Kind::Username)).unwrap().value, "bob");
/// assert!(normalize("1.2.3.999", None).is_err());
/// ```
pub fn normalize(raw: &str, kind: Option<Kind>) -> Result<Observable> {
    if kind == Some(Kind::Username) {
        return username(raw);
    }
    let (trimmed, s) = prepare(raw)?;
    let r = match kind {
        None => guess(&s),
        Some(k) => forced(&s, k),
    };
    r.map_err(|e| name_original(e, trimmed, &s))
}

/// Parse one indicator value as written in a feed line or a batch payload: everything
/// [`normalize`] does, plus
///
/// - several hashes of one file separated by `,` or `;` (spaces allowed around them) make one
///   value with several observables, in [`Kind`] order; two different hashes of the same kind
///   are an error (the same hash twice counts once), and so is a list with a non-hash in it
///   (unless the whole text is one valid observable, like a URL with a comma);
/// - `IPv4:port` and `[IPv6]:port` (port 1..=65535) give an IP with `port = Some(p)`; a bare
///   `[IPv6]` is accepted too. A bare IPv6 address is never read as `ip:port`.
///
/// With a hash `kind`, a multi-hash line is accepted when one of its hashes is of that kind.
///
/// # Errors
///
/// As [`normalize`], plus the multi-hash and port errors above.
///
/// # Examples
///
/// ```
/// use iocmatch::observable::{parse_indicator, Kind};
/// let v = parse_indicator("1.2.3.4:8080", None).unwrap();
/// assert_eq!((v.observables[0].kind, v.port), (Kind::Ipv4, Some(8080)));
/// let h = parse_indicator(
///     "da39a3ee5e6b4b0d3255bfef95601890afd80709; D41D8CD98F00B204E9800998ECF8427E",
///     None,
/// )
/// .unwrap();
/// assert_eq!(h.key(), "d41d8cd98f00b204e9800998ecf8427e,da39a3ee5e6b4b0d3255bfef95601890afd80709");
/// ```
pub fn parse_indicator(raw: &str, kind: Option<Kind>) -> Result<IndicatorValue> {
    if kind == Some(Kind::Username) {
        return username(raw).map(IndicatorValue::single);
    }
    let (trimmed, s) = prepare(raw)?;
    parse_prepared(&s, kind).map_err(|e| name_original(e, trimmed, &s))
}

fn parse_prepared(s: &str, kind: Option<Kind>) -> Result<IndicatorValue> {
    if kind.is_none_or(Kind::is_hash) && s.bytes().any(|c| c == b',' || c == b';') {
        if let Some(r) = multi_hash(s, kind) {
            return r;
        }
    }
    if kind != Some(Kind::Url) {
        if let Some(r) = ip::with_port(s) {
            let (o, port) = r?;
            if let Some(k) = kind {
                if !compatible(k, o.kind) {
                    return Err(mismatch(s, k, o.kind));
                }
            }
            return Ok(IndicatorValue { observables: vec![o], port });
        }
    }
    let o = match kind {
        None => guess(s)?,
        Some(k) => forced(s, k)?,
    };
    Ok(IndicatorValue::single(o))
}

/// Several hashes of one file on one line. `None` when `s` is not a list of values (let the
/// single-observable path report on it).
fn multi_hash(s: &str, kind: Option<Kind>) -> Option<Result<IndicatorValue>> {
    let mut observables: Vec<Observable> = Vec::with_capacity(4);
    let mut parts = 0;
    let mut non_hash = false;
    let mut first_err = None;
    for part in s.split([',', ';']).map(str::trim).filter(|p| !p.is_empty()) {
        parts += 1;
        match hash::any(part) {
            Some(Ok(o)) => observables.push(o),
            Some(Err(e)) => {
                first_err.get_or_insert(e);
            }
            None => non_hash = true,
        }
    }
    if non_hash || (observables.is_empty() && first_err.is_none()) {
        // Maybe the whole text is one observable (a URL with a comma in it).
        let whole = match kind {
            None => guess(s),
            Some(k) => forced(s, k),
        };
        return match whole {
            Ok(o) => Some(Ok(IndicatorValue::single(o))),
            Err(_) if parts >= 2 => Some(Err(Error::invalid(
                s,
                format!("several values on one line ('{}'): only hashes of one file may share a line", shown(s)),
            ))),
            Err(_) => None,
        };
    }
    if let Some(e) = first_err {
        return Some(Err(e));
    }
    observables.sort();
    observables.dedup();
    if let Some(w) = observables.windows(2).find(|w| w[0].kind == w[1].kind) {
        return Some(Err(Error::invalid(
            s,
            format!("two {} hashes on one line ('{}'): a line holds the hashes of one file", w[0].kind, shown(s)),
        )));
    }
    if let Some(k) = kind {
        if !observables.iter().any(|o| o.kind == k) {
            return Some(Err(Error::invalid(s, format!("kind mismatch: '{}' holds no {k} hash", shown(s)))));
        }
    }
    Some(Ok(IndicatorValue { observables, port: None }))
}

/// Trim, reject empty and oversized values, refang.
fn prepare(raw: &str) -> Result<(&str, Cow<'_, str>)> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(Error::invalid(t, "empty value"));
    }
    if t.len() > MAX_LEN {
        return Err(oversized(t, MAX_LEN));
    }
    Ok((t, refang(t)))
}

fn oversized(t: &str, max: usize) -> Error {
    let head = clip(t, 64);
    Error::invalid(head, format!("value too long ({} bytes, at most {max}): '{head}...'", t.len()))
}

/// Errors carry the value as the caller wrote it (before refanging).
fn name_original(e: Error, trimmed: &str, refanged: &str) -> Error {
    if trimmed == refanged || e.value() != Some(refanged) {
        e
    } else {
        Error::invalid(trimmed, e.message())
    }
}

/// A user name: trimmed, non-empty, at most 256 bytes, no control characters; case kept.
fn username(raw: &str) -> Result<Observable> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(Error::invalid(t, "empty value"));
    }
    if t.len() > MAX_USERNAME {
        return Err(oversized(t, MAX_USERNAME));
    }
    if t.chars().any(char::is_control) {
        return Err(Error::invalid(t, format!("invalid user name '{}': control characters are not allowed", shown(t))));
    }
    Ok(Observable { kind: Kind::Username, value: t.to_owned() })
}

fn unrecognised(s: &str) -> Error {
    Error::invalid(
        s,
        format!(
            "unrecognised observable '{}': not an ip, cidr, domain, url, hash or e-mail (use kind username for user names)",
            shown(s)
        ),
    )
}

/// Whether a value normalised to `got` satisfies a caller who said `said`.
fn compatible(said: Kind, got: Kind) -> bool {
    said == got || (said == Kind::Cidr && matches!(got, Kind::Ipv4 | Kind::Ipv6))
}

fn mismatch(s: &str, said: Kind, got: Kind) -> Error {
    Error::invalid(s, format!("kind mismatch: '{}' is {}, not {}", shown(s), got.described(), said.described()))
}

/// Validate `s` as `k` (not [`Kind::Username`]).
fn forced(s: &str, k: Kind) -> Result<Observable> {
    let direct = match k {
        Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr => ip::family(s),
        Kind::Domain => domain::domain(s),
        Kind::Url => url::forced(s),
        Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512 | Kind::Ssdeep => hash::as_kind(s, k),
        Kind::Email => email::email(s),
        Kind::Username => username(s),
    };
    match direct {
        Ok(o) if compatible(k, o.kind) => Ok(o),
        Ok(o) => Err(mismatch(s, k, o.kind)),
        Err(e) => match guess(s) {
            Ok(o) if compatible(k, o.kind) => Ok(o),
            Ok(o) => Err(mismatch(s, k, o.kind)),
            Err(_) => Err(e),
        },
    }
}

/// Guess the kind of a trimmed, refanged value; see the module documentation for the order.
fn guess(s: &str) -> Result<Observable> {
    if let Some(r) = hash::labelled(s) {
        return r;
    }
    if let Some(pos) = url::scheme_end(s) {
        return url::with_scheme(s, pos);
    }
    if s.len() >= 7 && s.as_bytes()[..7].eq_ignore_ascii_case(b"mailto:") {
        return email::email(s);
    }
    if hash::ssdeep_shaped(s) {
        // Before '/': ssdeep hashes are base64 and may contain '/'.
        return hash::ssdeep(s);
    }
    let b = s.as_bytes();
    if let Some(slash) = s.find('/') {
        let head = &s[..slash];
        let tail = &s[slash + 1..];
        let ipish = (head.contains(':') && !head.starts_with('['))
            || (head.contains('.') && head.bytes().all(|c| c.is_ascii_digit() || c == b'.'));
        if ipish && tail.bytes().all(|c| c.is_ascii_digit()) {
            return ip::cidr(s);
        }
        if url::schemeless_head_ok(head) {
            return url::schemeless(s);
        }
        if s.contains('@') {
            return email::email(s);
        }
        return Err(unrecognised(s));
    }
    if s.contains('@') {
        return email::email(s);
    }
    if s.contains(':') {
        if let Some(r) = ip::with_port(s) {
            if let (o, None) = r? {
                return Ok(o); // a bracketed IPv6 address
            }
            return Err(ip::port_error(s));
        }
        if s.contains('%') || b.iter().all(|&c| c.is_ascii_hexdigit() || c == b':' || c == b'.') {
            return ip::ipv6(s);
        }
        if let Some((host, port)) = s.rsplit_once(':') {
            if !port.is_empty() && port.bytes().all(|c| c.is_ascii_digit()) && domain::domain(host).is_ok() {
                return Err(Error::invalid(
                    s,
                    format!(
                        "'{}' is a domain with a port: give the domain alone, or a url (http://{}/)",
                        shown(s),
                        shown(s)
                    ),
                ));
            }
        }
        return Err(unrecognised(s));
    }
    let mut digits_dots = true;
    let mut all_hex = true;
    let mut has_dot = false;
    let mut has_digit = false;
    let mut has_word = false; // a letter, digit or non-ASCII character
    for &c in b {
        match c {
            b'0'..=b'9' => has_digit = true,
            b'.' => {
                has_dot = true;
                all_hex = false;
            }
            b'a'..=b'f' | b'A'..=b'F' => {
                digits_dots = false;
                has_word = true;
            }
            _ => {
                digits_dots = false;
                all_hex = false;
                has_word |= c.is_ascii_alphabetic() || c >= 0x80;
            }
        }
    }
    if digits_dots && has_dot && has_digit {
        return ip::ipv4(s);
    }
    if all_hex {
        return hash::plain(s).ok_or_else(|| unrecognised(s));
    }
    if ((has_word || has_digit) && (has_dot || !b.is_ascii())) || s.starts_with("*.") {
        return domain::domain(s);
    }
    Err(unrecognised(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> (Kind, String) {
        let o = normalize(s, None).unwrap_or_else(|e| panic!("{s}: {e}"));
        (o.kind, o.value)
    }

    #[test]
    fn guesses() {
        assert_eq!(ok(" 1.2.3.4 "), (Kind::Ipv4, "1.2.3.4".into()));
        assert_eq!(ok("1[.]2[.]3[.]4"), (Kind::Ipv4, "1.2.3.4".into()));
        assert_eq!(ok("2001:0DB8:0:0::1"), (Kind::Ipv6, "2001:db8::1".into()));
        assert_eq!(ok("10.0.0.1/8"), (Kind::Cidr, "10.0.0.0/8".into()));
        assert_eq!(ok("Evil.COM."), (Kind::Domain, "evil.com".into()));
        assert_eq!(ok("hxxp://evil[.]com/a"), (Kind::Url, "http://evil.com/a".into()));
        assert_eq!(ok("bob[at]evil[.]com"), (Kind::Email, "bob@evil.com".into()));
        assert_eq!(ok("D41D8CD98F00B204E9800998ECF8427E"), (Kind::Md5, "d41d8cd98f00b204e9800998ecf8427e".into()));
        assert_eq!(ok("3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C").0, Kind::Ssdeep);
        assert_eq!(ok("evil.com/redirect?u=http://x.com").1, "http://evil.com/redirect?u=http://x.com");
    }

    #[test]
    fn errors_name_the_value_as_written() {
        let e = normalize("1.2.3.999", None).unwrap_err();
        assert_eq!(e.message(), "invalid ipv4 address '1.2.3.999': octet out of range");
        assert_eq!(e.value(), Some("1.2.3.999"));
        let e = normalize(" evil[.]c_m ", None).unwrap_err();
        assert_eq!(e.value(), Some("evil[.]c_m"));
        let e = normalize("", None).unwrap_err();
        assert_eq!(e.message(), "empty value");
        let e = normalize(&"a".repeat(5000), None).unwrap_err();
        assert!(e.message().len() < 200, "{}", e.message());
        assert_eq!(e.value().unwrap().len(), 64);
        let e = normalize("*.evil.com", None).unwrap_err();
        assert!(e.message().contains("match_subdomains"), "{e}");
        let e = normalize("deadbeef", None).unwrap_err();
        assert!(e.message().starts_with("unrecognised observable 'deadbeef'"), "{e}");
    }

    #[test]
    fn forced_kinds() {
        assert_eq!(normalize("1.2.3.4/32", Some(Kind::Ipv4)).unwrap().value, "1.2.3.4");
        assert_eq!(normalize("::ffff:1.2.3.4", Some(Kind::Ipv4)).unwrap().value, "1.2.3.4");
        assert_eq!(normalize("1.2.3.4", Some(Kind::Cidr)).unwrap().kind, Kind::Ipv4);
        let e = normalize("1.2.3.4", Some(Kind::Domain)).unwrap_err();
        assert_eq!(e.message(), "kind mismatch: '1.2.3.4' is an ipv4 address, not a domain");
        let e = normalize("1.2.3.4", Some(Kind::Ipv6)).unwrap_err();
        assert!(e.message().contains("is an ipv4 address, not an ipv6 address"), "{e}");
        let e = normalize("da39a3ee5e6b4b0d3255bfef95601890afd80709", Some(Kind::Md5)).unwrap_err();
        assert!(e.message().contains("is a sha1 hash, not an md5 hash"), "{e}");
        let e = normalize("foo", Some(Kind::Domain)).unwrap_err();
        assert!(e.message().contains("at least two labels"), "{e}");
        assert_eq!(normalize(" Bob ", Some(Kind::Username)).unwrap().value, "Bob");
        assert!(normalize("a\u{7}b", Some(Kind::Username)).is_err());
        assert!(normalize(&"a".repeat(257), Some(Kind::Username)).is_err());
        assert_eq!(normalize("evil.com", Some(Kind::Url)).unwrap().value, "http://evil.com/");
    }

    #[test]
    fn indicators() {
        let md5 = "d41d8cd98f00b204e9800998ecf8427e";
        let sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
        let v = parse_indicator(&format!("{sha1} , {md5};"), None).unwrap();
        assert_eq!(v.key(), format!("{md5},{sha1}"));
        let v = parse_indicator(&format!("{md5},{md5}"), None).unwrap();
        assert_eq!(v.observables.len(), 1);
        let e = parse_indicator(&format!("{md5},{}", "0".repeat(32)), None).unwrap_err();
        assert!(e.message().starts_with("two md5 hashes on one line"), "{e}");
        let e = parse_indicator(&format!("{md5},evil.com"), None).unwrap_err();
        assert!(e.message().starts_with("several values on one line"), "{e}");
        let v = parse_indicator("http://evil.com/a,b;c", None).unwrap();
        assert_eq!(v.observables[0].kind, Kind::Url);
        let v = parse_indicator(&format!("{md5},{sha1}"), Some(Kind::Sha1)).unwrap();
        assert_eq!(v.observables.len(), 2);
        assert!(parse_indicator(&format!("{md5},{sha1}"), Some(Kind::Sha256)).is_err());
        let v = parse_indicator("[2001:db8::1]:443", None).unwrap();
        assert_eq!((v.observables[0].value.as_str(), v.port), ("2001:db8::1", Some(443)));
        let v = parse_indicator("2001:db8::443", None).unwrap();
        assert_eq!(v.port, None);
        assert!(parse_indicator("1.2.3.4:8080", Some(Kind::Domain)).is_err());
        assert_eq!(parse_indicator("1.2.3.4:8080", Some(Kind::Ipv4)).unwrap().port, Some(8080));
        assert!(normalize("1.2.3.4:8080", None).is_err());
    }
}
