//! Observables: classify a raw indicator string into a [`Kind`] and normalise it.
//!
//! # What [`normalize`] does
//!
//! 1. Trims surrounding whitespace. An empty value, or one longer than [`MAX_LEN`] bytes, is an
//!    error (the message of an oversized value shows only its first 64 characters).
//! 2. [`refang`]s it (`hxxp`, `[.]`, `(dot)`, `[:]//`, `[@]`, `[at]`, ...), except for user
//!    names which are taken verbatim.
//! 3. With no kind given, guesses the kind. The **order matters**; the first rule that applies
//!    decides (and its error, if the value is malformed, is the one reported):
//!    1. a labelled hash (`md5:HEX`, `SHA256=HEX`, `sha-1: HEX`, `ssdeep:...`): the label must
//!       agree with the length;
//!    2. `scheme://...` (scheme `[a-z][a-z0-9+.-]*`, any case): a URL;
//!    3. `mailto:...`: an e-mail address;
//!    4. `digits:text:text` (exactly two colons): an ssdeep hash (`blocksize:hash:hash`, the
//!       block size 3 * 2^n, the hashes base64; case kept);
//!    5. a value containing `/`: if the part before the first `/` is an IP and the rest a number
//!       (or nothing), a CIDR; else if that part is a valid `host[:port]`, a scheme-less URL
//!       (`http://` is prepended); else if it contains `@`, an e-mail address;
//!    6. a value containing `@`: an e-mail address;
//!    7. a value containing `:`: an IPv6 address, bare or in brackets (an IPv4-mapped one folds
//!       to IPv4; zone ids are rejected); `IPv4:port` and `domain:port` are errors here
//!       ([`parse_indicator`] accepts `IPv4:port`);
//!    8. digits and dots with at least one dot: an IPv4 address (leading zeros are rejected);
//!    9. only hex digits: an md5, sha1, sha256 or sha512 hash by length (32, 40, 64, 128);
//!    10. a value with a dot, or non-ASCII: a domain (IDNA to punycode; a wildcard is an error);
//!    11. anything else is unrecognised.
//!
//! With a kind given, the value is validated as that kind; a value that is valid but of another
//! kind is an error saying so. The IP kinds are forms of one another: kind `ipv4` accepts
//! whatever folds to an IPv4 address (`1.2.3.4/32`, `::ffff:1.2.3.4`), `ipv6` likewise, and
//! `cidr` accepts any IP or network (a `/32` still comes back as kind `ipv4`). Kind `url`
//! accepts a scheme-less `host[:port][/path]` (`http://` is prepended). Kind `username` is the
//! only way to get a user name.
//!
//! Normalised forms: canonical IP text (IPv6 compressed lower-case, RFC 5952); CIDR host bits
//! zeroed, a `/32` (`/128`) is an address; domains lower-case punycode without trailing dot;
//! URLs with scheme and host lower-case, punycode host without trailing dot, default port and
//! fragment dropped, empty path `/`; hashes lower-case (ssdeep keeps its case); e-mail
//! addresses lower-case with a normalised domain; user names as given (trimmed).

mod domain;
mod email;
mod hash;
mod ip;
mod parse;
mod refang;
mod url;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use parse::{normalize, parse_indicator};
pub use refang::refang;

/// The longest value accepted, in bytes (after trimming).
pub const MAX_LEN: usize = 2048;

/// The kind of an observable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An IPv4 address (`1.2.3.4`).
    Ipv4,
    /// An IPv6 address, compressed lower-case text (`2001:db8::1`).
    Ipv6,
    /// A CIDR range, v4 or v6, host bits zeroed (`10.0.0.0/8`).
    Cidr,
    /// A domain name, lower-case, punycode, no trailing dot.
    Domain,
    /// A URL, normalised.
    Url,
    /// An MD5 hash, lower-case hex.
    Md5,
    /// A SHA-1 hash, lower-case hex.
    Sha1,
    /// A SHA-256 hash, lower-case hex.
    Sha256,
    /// A SHA-512 hash, lower-case hex.
    Sha512,
    /// An ssdeep fuzzy hash (case kept).
    Ssdeep,
    /// An e-mail address, lower-case.
    Email,
    /// A user name: only when the caller says so.
    Username,
}

impl Kind {
    /// Every kind, in declaration (and bit) order.
    pub const ALL: [Kind; 12] = [
        Kind::Ipv4,
        Kind::Ipv6,
        Kind::Cidr,
        Kind::Domain,
        Kind::Url,
        Kind::Md5,
        Kind::Sha1,
        Kind::Sha256,
        Kind::Sha512,
        Kind::Ssdeep,
        Kind::Email,
        Kind::Username,
    ];

    /// The stable lower-case name: `"ipv4"`, `"ipv6"`, `"cidr"`, `"domain"`, `"url"`, `"md5"`,
    /// `"sha1"`, `"sha256"`, `"sha512"`, `"ssdeep"`, `"email"`, `"username"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ipv4 => "ipv4",
            Kind::Ipv6 => "ipv6",
            Kind::Cidr => "cidr",
            Kind::Domain => "domain",
            Kind::Url => "url",
            Kind::Md5 => "md5",
            Kind::Sha1 => "sha1",
            Kind::Sha256 => "sha256",
            Kind::Sha512 => "sha512",
            Kind::Ssdeep => "ssdeep",
            Kind::Email => "email",
            Kind::Username => "username",
        }
    }

    /// The kind's bit in a kinds mask. Stable: it is stored in the database.
    ///
    /// `Ipv4 = 1 << 0`, `Ipv6 = 1 << 1`, `Cidr = 1 << 2`, `Domain = 1 << 3`, `Url = 1 << 4`,
    /// `Md5 = 1 << 5`, `Sha1 = 1 << 6`, `Sha256 = 1 << 7`, `Sha512 = 1 << 8`,
    /// `Ssdeep = 1 << 9`, `Email = 1 << 10`, `Username = 1 << 11`.
    pub fn bit(self) -> u16 {
        // Spelled out (not `self as u16`) so that reordering the enum cannot change the
        // stored values.
        match self {
            Kind::Ipv4 => 1 << 0,
            Kind::Ipv6 => 1 << 1,
            Kind::Cidr => 1 << 2,
            Kind::Domain => 1 << 3,
            Kind::Url => 1 << 4,
            Kind::Md5 => 1 << 5,
            Kind::Sha1 => 1 << 6,
            Kind::Sha256 => 1 << 7,
            Kind::Sha512 => 1 << 8,
            Kind::Ssdeep => 1 << 9,
            Kind::Email => 1 << 10,
            Kind::Username => 1 << 11,
        }
    }

    /// The kinds whose bit is set in `mask`, in [`Kind::ALL`] order; unknown bits are ignored.
    pub fn from_bits(mask: u16) -> Vec<Kind> {
        Kind::ALL.iter().copied().filter(|k| mask & k.bit() != 0).collect()
    }

    /// Whether this is a file hash kind: md5, sha1, sha256, sha512 or ssdeep.
    pub fn is_hash(self) -> bool {
        matches!(self, Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512 | Kind::Ssdeep)
    }

    /// The kind as a noun with its article, for messages (`"an ipv4 address"`).
    pub(crate) fn described(self) -> &'static str {
        match self {
            Kind::Ipv4 => "an ipv4 address",
            Kind::Ipv6 => "an ipv6 address",
            Kind::Cidr => "a cidr range",
            Kind::Domain => "a domain",
            Kind::Url => "a url",
            Kind::Md5 => "an md5 hash",
            Kind::Sha1 => "a sha1 hash",
            Kind::Sha256 => "a sha256 hash",
            Kind::Sha512 => "a sha512 hash",
            Kind::Ssdeep => "an ssdeep hash",
            Kind::Email => "an e-mail address",
            Kind::Username => "a user name",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = Error;

    /// Parse a kind name, case-insensitively: the [`Kind::as_str`] names plus the aliases
    /// `ipv4-addr`, `ipv6-addr`, `domain-name`, `hostname`, `email-addr`, `e-mail`, `user`,
    /// `user-account`, `user_name`, `sha-1`, `sha-256`, `sha-512`, `ip-cidr` and `network`.
    /// `ip` is refused as ambiguous.
    fn from_str(s: &str) -> Result<Kind> {
        let t = s.trim();
        let k = match t.to_ascii_lowercase().as_str() {
            "ipv4" | "ipv4-addr" => Kind::Ipv4,
            "ipv6" | "ipv6-addr" => Kind::Ipv6,
            "cidr" | "ip-cidr" | "network" => Kind::Cidr,
            "domain" | "domain-name" | "hostname" => Kind::Domain,
            "url" => Kind::Url,
            "md5" => Kind::Md5,
            "sha1" | "sha-1" => Kind::Sha1,
            "sha256" | "sha-256" => Kind::Sha256,
            "sha512" | "sha-512" => Kind::Sha512,
            "ssdeep" => Kind::Ssdeep,
            "email" | "email-addr" | "e-mail" => Kind::Email,
            "username" | "user" | "user-account" | "user_name" => Kind::Username,
            _ => {
                let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                let shown = clip(t, 64);
                return Err(Error::invalid(
                    shown,
                    format!("unknown observable kind '{shown}': expected one of {}", names.join(", ")),
                ));
            }
        };
        Ok(k)
    }
}

/// One normalised observable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Observable {
    /// What it is.
    pub kind: Kind,
    /// Its normalised text.
    pub value: String,
}

impl Observable {
    /// STIX 2.1 cyber-observable type: `"ipv4-addr"` (ipv4 and v4 cidr), `"ipv6-addr"` (ipv6,
    /// v6 cidr), `"domain-name"`, `"url"`, `"file"` (all hashes), `"email-addr"`,
    /// `"user-account"`.
    pub fn stix_type(&self) -> &'static str {
        match self.kind {
            Kind::Ipv4 => "ipv4-addr",
            Kind::Ipv6 => "ipv6-addr",
            Kind::Cidr if self.value.contains(':') => "ipv6-addr",
            Kind::Cidr => "ipv4-addr",
            Kind::Domain => "domain-name",
            Kind::Url => "url",
            Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512 | Kind::Ssdeep => "file",
            Kind::Email => "email-addr",
            Kind::Username => "user-account",
        }
    }
}

impl fmt::Display for Observable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// The value of one indicator: one observable, or several hashes of one file; an IP may carry
/// the port it was seen with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorValue {
    /// The observables, in [`Kind`] order (several only for the hashes of one file).
    pub observables: Vec<Observable>,
    /// The port an IP indicator was seen with (`1.2.3.4:8080`).
    #[serde(default)]
    pub port: Option<u16>,
}

impl IndicatorValue {
    /// One observable, without port.
    pub fn single(observable: Observable) -> IndicatorValue {
        IndicatorValue { observables: vec![observable], port: None }
    }

    /// Canonical text: the observables' values joined by `,` in [`Kind`] order (md5, sha1,
    /// sha256, sha512, ssdeep for a multi-hash). Used as the dedup key and the STIX `name`.
    pub fn key(&self) -> String {
        match self.observables.as_slice() {
            [one] => one.value.clone(),
            many => {
                let mut sorted: Vec<&Observable> = many.iter().collect();
                sorted.sort_by_key(|o| o.kind);
                let mut out = String::with_capacity(many.iter().map(|o| o.value.len() + 1).sum());
                for (i, o) in sorted.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&o.value);
                }
                out
            }
        }
    }

    /// OR of [`Kind::bit`] of all observables.
    pub fn kinds_mask(&self) -> u16 {
        self.observables.iter().fold(0, |m, o| m | o.kind.bit())
    }

    /// Rebuild from a stored key and kinds mask without re-validating (used when reading the
    /// database). The key is split on `,` only when the mask has more than one bit (hash kinds
    /// only); each part's kind is recognised by its length and shape. The port is `None`.
    ///
    /// Returns `None` if the key and mask are inconsistent (empty key, unknown bits, non-hash
    /// kinds in a multi-kind mask, parts that do not match the mask).
    pub fn from_stored(key: &str, mask: u16) -> Option<IndicatorValue> {
        if key.is_empty() || mask == 0 || mask >> Kind::ALL.len() != 0 {
            return None;
        }
        if mask.count_ones() == 1 {
            let kind = Kind::ALL[mask.trailing_zeros() as usize];
            return Some(IndicatorValue::single(Observable { kind, value: key.to_owned() }));
        }
        let mut observables = Vec::with_capacity(mask.count_ones() as usize);
        let mut seen = 0u16;
        for part in key.split(',') {
            let kind = hash::stored_kind(part)?;
            if seen & kind.bit() != 0 {
                return None;
            }
            seen |= kind.bit();
            observables.push(Observable { kind, value: part.to_owned() });
        }
        if seen != mask {
            return None;
        }
        observables.sort();
        Some(IndicatorValue { observables, port: None })
    }
}

impl From<Observable> for IndicatorValue {
    fn from(o: Observable) -> Self {
        IndicatorValue::single(o)
    }
}

/// `s` cut to at most `max` bytes, on a character boundary.
pub(crate) fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `s` for an error message: control characters escaped, cut to 256 bytes with an ellipsis
/// when longer.
pub(crate) fn shown(s: &str) -> std::borrow::Cow<'_, str> {
    let cut = clip(s, 256);
    if cut.len() == s.len() && !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(cut.len() + 8);
    for c in cut.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if cut.len() < s.len() {
        out.push_str("...");
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_stable() {
        let expect = [1u16, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048];
        for (k, b) in Kind::ALL.iter().zip(expect) {
            assert_eq!(k.bit(), b, "{k}");
        }
        assert_eq!(Kind::from_bits(0b1010_0000), vec![Kind::Md5, Kind::Sha256]);
        assert_eq!(Kind::from_bits(0xffff), Kind::ALL.to_vec());
        assert_eq!(Kind::from_bits(0), vec![]);
    }

    #[test]
    fn kind_names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>().unwrap(), k);
            assert_eq!(k.as_str().to_uppercase().parse::<Kind>().unwrap(), k);
            assert_eq!(k.to_string(), k.as_str());
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{}\"", k.as_str()));
            assert_eq!(serde_json::from_str::<Kind>(&format!("\"{}\"", k.as_str())).unwrap(), k);
        }
        let aliases = [
            ("ipv4-addr", Kind::Ipv4),
            ("IPv6-Addr", Kind::Ipv6),
            ("domain-name", Kind::Domain),
            ("hostname", Kind::Domain),
            ("email-addr", Kind::Email),
            ("e-mail", Kind::Email),
            ("user", Kind::Username),
            ("user-account", Kind::Username),
            ("user_name", Kind::Username),
            ("sha-1", Kind::Sha1),
            ("SHA-256", Kind::Sha256),
            ("sha-512", Kind::Sha512),
            ("ip-cidr", Kind::Cidr),
            (" network ", Kind::Cidr),
        ];
        for (s, k) in aliases {
            assert_eq!(s.parse::<Kind>().unwrap(), k, "{s}");
        }
        let e = "ip".parse::<Kind>().unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Validation);
        assert!(e.message().contains("'ip'") && e.message().contains("ipv4, ipv6, cidr"), "{e}");
    }

    #[test]
    fn is_hash() {
        let hashes: Vec<Kind> = Kind::ALL.iter().copied().filter(|k| k.is_hash()).collect();
        assert_eq!(hashes, vec![Kind::Md5, Kind::Sha1, Kind::Sha256, Kind::Sha512, Kind::Ssdeep]);
    }

    #[test]
    fn stix_types() {
        let o = |kind, value: &str| Observable { kind, value: value.into() };
        assert_eq!(o(Kind::Cidr, "10.0.0.0/8").stix_type(), "ipv4-addr");
        assert_eq!(o(Kind::Cidr, "2001:db8::/32").stix_type(), "ipv6-addr");
        assert_eq!(o(Kind::Ipv6, "::1").stix_type(), "ipv6-addr");
        assert_eq!(o(Kind::Sha256, "00").stix_type(), "file");
        assert_eq!(o(Kind::Ssdeep, "3:a:b").stix_type(), "file");
        assert_eq!(o(Kind::Username, "bob").stix_type(), "user-account");
        assert_eq!(o(Kind::Email, "a@b.c").stix_type(), "email-addr");
        assert_eq!(o(Kind::Domain, "b.c").stix_type(), "domain-name");
        assert_eq!(o(Kind::Url, "http://b.c/").stix_type(), "url");
    }

    #[test]
    fn key_mask_and_from_stored() {
        let md5 = "d41d8cd98f00b204e9800998ecf8427e";
        let sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
        let ssdeep = "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C";
        let v = IndicatorValue {
            observables: vec![
                Observable { kind: Kind::Ssdeep, value: ssdeep.into() },
                Observable { kind: Kind::Md5, value: md5.into() },
                Observable { kind: Kind::Sha1, value: sha1.into() },
            ],
            port: None,
        };
        let key = v.key();
        assert_eq!(key, format!("{md5},{sha1},{ssdeep}"));
        let mask = v.kinds_mask();
        assert_eq!(mask, Kind::Md5.bit() | Kind::Sha1.bit() | Kind::Ssdeep.bit());
        let back = IndicatorValue::from_stored(&key, mask).unwrap();
        assert_eq!(back.key(), key);
        assert_eq!(back.observables[0].kind, Kind::Md5);
        assert_eq!(back.observables[2].kind, Kind::Ssdeep);

        // a single kind is never split, even with commas
        let u = IndicatorValue::from_stored("http://a.com/x,y", Kind::Url.bit()).unwrap();
        assert_eq!(u.observables, vec![Observable { kind: Kind::Url, value: "http://a.com/x,y".into() }]);
        assert_eq!(u.kinds_mask(), Kind::Url.bit());

        // inconsistencies
        assert!(IndicatorValue::from_stored("", Kind::Url.bit()).is_none());
        assert!(IndicatorValue::from_stored("x", 0).is_none());
        assert!(IndicatorValue::from_stored("x", 1 << 12).is_none());
        assert!(IndicatorValue::from_stored(&format!("{md5},{sha1}"), Kind::Md5.bit() | Kind::Sha256.bit()).is_none());
        assert!(IndicatorValue::from_stored(&format!("{md5},{md5}"), Kind::Md5.bit() | Kind::Sha1.bit()).is_none());
        assert!(IndicatorValue::from_stored("a.com,b.com", Kind::Domain.bit() | Kind::Url.bit()).is_none());
        assert!(IndicatorValue::from_stored(md5, Kind::Md5.bit() | Kind::Sha1.bit()).is_none());
    }

    #[test]
    fn shown_escapes_and_cuts() {
        assert_eq!(shown("a\u{0}b\n"), "a\\u{0}b\\n");
        assert_eq!(shown(&"x".repeat(300)), format!("{}...", "x".repeat(256)));
        assert!(matches!(shown("evil.com"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn clip_respects_char_boundaries() {
        assert_eq!(clip("héllo", 2), "h");
        assert_eq!(clip("héllo", 3), "hé");
        assert_eq!(clip("abc", 10), "abc");
    }

    #[test]
    fn public_types_are_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<Kind>();
        check::<Observable>();
        check::<IndicatorValue>();
    }
}
