//! File hashes: md5, sha1, sha256, sha512 (hex) and ssdeep.

use super::{shown, Kind, Observable};
use crate::error::{Error, Result};

/// The hex hash kind of a given length in hex digits.
pub(crate) fn kind_of_len(len: usize) -> Option<Kind> {
    match len {
        32 => Some(Kind::Md5),
        40 => Some(Kind::Sha1),
        64 => Some(Kind::Sha256),
        128 => Some(Kind::Sha512),
        _ => None,
    }
}

/// The number of hex digits of a hex hash kind.
fn len_of_kind(k: Kind) -> usize {
    match k {
        Kind::Md5 => 32,
        Kind::Sha1 => 40,
        Kind::Sha256 => 64,
        _ => 128,
    }
}

pub(crate) fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// A plain hex hash (any case) of a known length, lower-cased; `None` otherwise.
pub(crate) fn plain(s: &str) -> Option<Observable> {
    let kind = kind_of_len(s.len())?;
    if !is_hex(s) {
        return None;
    }
    Some(Observable { kind, value: s.to_ascii_lowercase() })
}

/// The kind named by a hash label (`md5`, `sha-256`, ... any case).
fn label_kind(label: &str) -> Option<Kind> {
    let k = match label.len() {
        3 if label.eq_ignore_ascii_case("md5") => Kind::Md5,
        4 if label.eq_ignore_ascii_case("sha1") => Kind::Sha1,
        5 if label.eq_ignore_ascii_case("sha-1") => Kind::Sha1,
        6 if label.eq_ignore_ascii_case("sha256") => Kind::Sha256,
        6 if label.eq_ignore_ascii_case("sha512") => Kind::Sha512,
        6 if label.eq_ignore_ascii_case("ssdeep") => Kind::Ssdeep,
        7 if label.eq_ignore_ascii_case("sha-256") => Kind::Sha256,
        7 if label.eq_ignore_ascii_case("sha-512") => Kind::Sha512,
        _ => return None,
    };
    Some(k)
}

/// Split a labelled hash `label:value`, `label=value` (spaces allowed around the separator)
/// into its kind and value, when the label names a hash kind.
fn split_label(s: &str) -> Option<(Kind, &str)> {
    if !matches!(s.as_bytes().first(), Some(b'm' | b'M' | b's' | b'S')) {
        return None;
    }
    let sep = s.bytes().take(9).position(|c| c == b':' || c == b'=')?;
    let kind = label_kind(s[..sep].trim_end())?;
    Some((kind, s[sep + 1..].trim_start()))
}

/// A labelled hash (`md5:HEX`, `SHA256=HEX`, `sha-1: HEX`, `ssdeep:3:a:b`): `None` when `s`
/// has no hash label; an error when the value does not agree with the label.
pub(crate) fn labelled(s: &str) -> Option<Result<Observable>> {
    let (kind, value) = split_label(s)?;
    Some(check_labelled(s, kind, value))
}

fn check_labelled(s: &str, kind: Kind, value: &str) -> Result<Observable> {
    if kind == Kind::Ssdeep {
        return ssdeep(value).map_err(|e| Error::invalid(s, e.message()));
    }
    if let Some(o) = plain(value) {
        if o.kind == kind {
            return Ok(o);
        }
        return Err(Error::invalid(
            s,
            format!(
                "hash label does not match the value in '{}': the label says {kind} but {} hex digits make {}",
                shown(s),
                value.len(),
                o.kind.described()
            ),
        ));
    }
    Err(Error::invalid(s, format!("invalid {kind} hash '{}': expected {} hex digits", shown(s), len_of_kind(kind))))
}

/// Normalise `s` as a hash of kind `kind` (a hex kind or ssdeep), labelled or not.
pub(crate) fn as_kind(s: &str, kind: Kind) -> Result<Observable> {
    let (kind_said, value) = split_label(s).unwrap_or((kind, s));
    if kind_said != kind {
        return Err(Error::invalid(s, format!("'{}' is labelled {kind_said}, not {kind}", shown(s))));
    }
    check_labelled(s, kind, value)
}

/// Whether `s` has the shape `digits:text:text` (exactly two colons, non-empty parts, a
/// decimal first part), so that it is an ssdeep hash or nothing.
pub(crate) fn ssdeep_shaped(s: &str) -> bool {
    let mut parts = s.split(':');
    let (Some(bs), Some(h1), Some(h2), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    // Non-empty parts: an IPv6 address with two colons has an empty part ("1::2").
    !bs.is_empty() && !h1.is_empty() && !h2.is_empty() && bs.bytes().all(|c| c.is_ascii_digit())
}

fn is_b64(p: &str) -> bool {
    !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'/' || c == b'+')
}

/// Validate an ssdeep hash `blocksize:hash:hash` (case kept): the block size is 3 * 2^n and
/// both hashes are non-empty base64 text.
pub(crate) fn ssdeep(s: &str) -> Result<Observable> {
    let err = |r: &str| Error::invalid(s, format!("invalid ssdeep hash '{}': {r}", shown(s)));
    let mut parts = s.split(':');
    let (Some(bs), Some(h1), Some(h2), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(err("expected blocksize:hash:hash"));
    };
    if bs.is_empty() || bs.len() > 12 || !bs.bytes().all(|c| c.is_ascii_digit()) || bs.starts_with('0') {
        return Err(err("the block size must be a decimal number"));
    }
    let n: u64 = bs.parse().map_err(|_| err("the block size must be a decimal number"))?;
    if n % 3 != 0 || !(n / 3).is_power_of_two() {
        return Err(err("the block size must be 3 times a power of two"));
    }
    if !is_b64(h1) || !is_b64(h2) {
        return Err(err("the hashes must be non-empty base64 text"));
    }
    Ok(Observable { kind: Kind::Ssdeep, value: s.to_owned() })
}

/// Any hash (labelled, plain hex of a known length, ssdeep): `None` when `s` does not look like
/// a hash at all; an error when it looks like one but is bad.
pub(crate) fn any(s: &str) -> Option<Result<Observable>> {
    if let Some(r) = labelled(s) {
        return Some(r);
    }
    if let Some(o) = plain(s) {
        return Some(Ok(o));
    }
    if ssdeep_shaped(s) {
        return Some(ssdeep(s));
    }
    None
}

/// The kind of one part of a stored multi-hash key, by length and shape.
pub(crate) fn stored_kind(part: &str) -> Option<Kind> {
    if is_hex(part) {
        return kind_of_len(part.len());
    }
    if part.bytes().filter(|&c| c == b':').count() == 2 {
        return Some(Kind::Ssdeep);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";
    const SHA1: &str = "da39a3ee5e6b4b0d3255bfef95601890afd80709";

    #[test]
    fn plain_hashes() {
        assert_eq!(plain(MD5).unwrap().kind, Kind::Md5);
        assert_eq!(plain(&MD5.to_uppercase()).unwrap().value, MD5);
        assert_eq!(plain(SHA1).unwrap().kind, Kind::Sha1);
        assert_eq!(plain(&"a".repeat(64)).unwrap().kind, Kind::Sha256);
        assert_eq!(plain(&"a".repeat(128)).unwrap().kind, Kind::Sha512);
        assert!(plain(&"a".repeat(33)).is_none());
        assert!(plain(&format!("{}g", &MD5[..31])).is_none());
    }

    #[test]
    fn labels() {
        assert_eq!(labelled(&format!("MD5:{MD5}")).unwrap().unwrap().value, MD5);
        assert_eq!(labelled(&format!("sha-1 : {SHA1}")).unwrap().unwrap().kind, Kind::Sha1);
        assert_eq!(labelled(&format!("SHA1={SHA1}")).unwrap().unwrap().kind, Kind::Sha1);
        assert!(labelled(&format!("md5:{SHA1}")).unwrap().unwrap_err().message().contains("does not match"));
        assert!(labelled("md5:xyz").unwrap().is_err());
        assert!(labelled("ssdeep:3:abc:def").unwrap().is_ok());
        assert!(labelled("shadow.com").is_none());
        assert!(labelled("mail.evil.com").is_none());
        assert!(as_kind(&format!("sha1:{SHA1}"), Kind::Md5).is_err());
        assert!(as_kind(SHA1, Kind::Md5).is_err());
        assert!(as_kind(SHA1, Kind::Sha1).is_ok());
    }

    #[test]
    fn ssdeeps() {
        assert!(ssdeep("3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C").is_ok());
        assert!(ssdeep("96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO")
            .is_ok());
        assert!(ssdeep("5:abc:def").is_err());
        assert!(ssdeep("0:abc:def").is_err());
        assert!(ssdeep("3:abc:").is_err());
        assert!(ssdeep("3:a-c:def").is_err());
        assert!(ssdeep("3:abc:def:ghi").is_err());
        assert!(ssdeep("3:abc:def,\"file.exe\"").is_err());
        assert!(ssdeep_shaped("3:a:b"));
        assert!(!ssdeep_shaped("2001:db8::1"));
        assert!(!ssdeep_shaped("a:b:c"));
        assert!(!ssdeep_shaped("8000::/0"));
        assert!(!ssdeep_shaped("1::2"));
    }
}
