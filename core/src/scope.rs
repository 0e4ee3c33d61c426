//! Field scopes: which event fields are looked up for which kinds of indicator.
//!
//! The [`Profile::default`] profile is the spec's table of ECS fields ("verified with IOC
//! collection: yes") completed with the ECS siblings users expect (`file.hash.*`, `dll.hash.*`,
//! `related.hash`, `url.original`/`url.full`, NAT addresses, `destination.user.email` for the
//! spec's misspelt `destiantion.user.email`, ...). [`Profile::strict`] is the spec's table and
//! nothing else. Profiles are data: [`Profile::parse`] reads one from text, so logs that are not
//! ECS can be matched too.

use crate::error::{Error, Result};
use crate::observable::Kind;

/// A set of kinds, as a mask of [`Kind::bit`].
pub type KindMask = u16;

/// IP addresses and the CIDR ranges that cover them.
pub const IP: KindMask = (1 << 0) | (1 << 1) | (1 << 2);
/// Domain names.
pub const DOMAIN: KindMask = 1 << 3;
/// URLs.
pub const URL: KindMask = 1 << 4;
/// File hashes of every algorithm.
pub const HASH: KindMask = (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9);
/// E-mail addresses.
pub const EMAIL: KindMask = 1 << 10;
/// User names.
pub const USERNAME: KindMask = 1 << 11;

/// The field that IP indicators with the Command and Control kill chain phase are limited to.
pub const C2_FIELD: &str = "destination.ip";

/// One rule of a profile: look `field` up for indicators of `kinds`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRule {
    /// Dotted ECS path (`source.ip`) or any dotted path of a non-ECS log.
    pub field: String,
    /// Kinds looked up in this field.
    pub kinds: KindMask,
}

/// A field-scope profile: the fields an event is checked in, and for which kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    name: String,
    rules: Vec<FieldRule>,
}

const SPEC_USERNAME: &[&str] = &["user.name", "user.domain", "related.user"];
const SPEC_IP: &[&str] = &["client.ip", "destination.ip", "host.ip", "server.ip", "source.ip", "related.ip"];
const SPEC_DOMAIN: &[&str] = &[
    "dns.question.name",
    "dns.question.registered_domain",
    "client.domain",
    "client.registered_domain",
    "destination.domain",
    "destination.registered_domain",
    "source.domain",
    "source.registered_domain",
    "server.domain",
    "server.registered_domain",
    "url.domain",
    "url.registered_domain",
    "related.hosts",
];
const SPEC_EMAIL: &[&str] = &[
    "client.user.email",
    "destination.user.email",
    "file.x509.alternative_names",
    "host.user.email",
    "server.user.email",
    "source.user.email",
    "user.email",
    "user.changes.email",
    "user.effective.email",
    "user.target.email",
    "email.from",
    "email.to",
    "email.from.address",
    "email.to.address",
    "email.cc.address",
    "email.bcc.address",
    "retarus.sender",
    "retarus.recipient",
];
const SPEC_HASH: &[&str] = &[
    "process.hash.md5",
    "process.hash.sha1",
    "process.hash.sha256",
    "process.hash.sha512",
    "process.hash.ssdeep",
    "process.parent.hash.md5",
    "process.parent.hash.sha1",
    "process.parent.hash.sha256",
    "process.parent.hash.sha512",
    "process.parent.hash.ssdeep",
];

/// What the default profile adds to the spec's table.
const EXTRA: &[(&str, KindMask)] = &[
    // the spec's table misspells destination.user.email; keep its spelling working too
    ("destiantion.user.email", EMAIL),
    ("source.nat.ip", IP),
    ("destination.nat.ip", IP),
    ("client.nat.ip", IP),
    ("server.nat.ip", IP),
    ("dns.resolved_ip", IP),
    ("dns.answers.data", IP | DOMAIN),
    ("tls.client.server_name", DOMAIN),
    ("tls.server.x509.subject.common_name", DOMAIN),
    ("url.original", URL),
    ("url.full", URL),
    ("http.request.referrer", URL),
    ("email.reply_to.address", EMAIL),
    ("email.sender.address", EMAIL),
    ("source.user.name", USERNAME),
    ("destination.user.name", USERNAME),
    ("client.user.name", USERNAME),
    ("server.user.name", USERNAME),
    ("host.user.name", USERNAME),
    ("user.target.name", USERNAME),
    ("user.effective.name", USERNAME),
    ("process.user.name", USERNAME),
    ("related.hash", HASH),
];

const HASHED: &[&str] = &["file", "dll", "process", "process.parent", "email.attachments.file"];
const ALGOS: &[&str] = &["md5", "sha1", "sha256", "sha512", "ssdeep"];

impl Default for Profile {
    /// The spec's table plus the usual ECS siblings (see the module documentation).
    fn default() -> Profile {
        let mut p = Profile::strict();
        p.name = "default".into();
        for (f, k) in EXTRA {
            p.add(f, *k);
        }
        for base in HASHED {
            for a in ALGOS {
                p.add(&format!("{base}.hash.{a}"), HASH);
            }
        }
        // user names and e-mail addresses share related.user and x509 names hold host names too
        p.add("related.user", EMAIL);
        p.add("file.x509.alternative_names", DOMAIN);
        p
    }
}

impl Profile {
    /// The spec's table only (with `destination.user.email` spelt right).
    pub fn strict() -> Profile {
        let mut p = Profile { name: "strict".into(), rules: Vec::new() };
        for (fields, kinds) in
            [(SPEC_USERNAME, USERNAME), (SPEC_IP, IP), (SPEC_DOMAIN, DOMAIN), (SPEC_EMAIL, EMAIL), (SPEC_HASH, HASH)]
        {
            for f in fields {
                p.add(f, kinds);
            }
        }
        p
    }

    /// An empty profile, to fill with [`Profile::add`].
    pub fn empty(name: &str) -> Profile {
        Profile { name: name.into(), rules: Vec::new() }
    }

    /// The profile's name (`default`, `strict`, or the one given).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Look `field` up for `kinds` too (added to what the field already has).
    pub fn add(&mut self, field: &str, kinds: KindMask) {
        match self.rules.iter_mut().find(|r| r.field == field) {
            Some(r) => r.kinds |= kinds,
            None => self.rules.push(FieldRule { field: field.to_string(), kinds }),
        }
    }

    /// The rules, in the order fields were added.
    pub fn rules(&self) -> &[FieldRule] {
        &self.rules
    }

    /// The kinds looked up in `field` (0 when it is not in scope).
    pub fn kinds_of(&self, field: &str) -> KindMask {
        self.rules.iter().find(|r| r.field == field).map(|r| r.kinds).unwrap_or(0)
    }

    /// Read a profile from text: one rule per line, `FIELD KIND[,KIND...]` separated by
    /// whitespace or a tab; kinds are kind names (`ipv4`, `sha256`, ...) or the groups `ip`,
    /// `domain`, `url`, `hash`, `email`, `username`. Blank lines and `#` comments are skipped.
    /// A first rule `include default` (or `include strict`) starts from that profile.
    ///
    /// # Errors
    /// A validation error naming the line and the bad field or kind.
    pub fn parse(name: &str, text: &str) -> Result<Profile> {
        let mut p = Profile::empty(name);
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let n = i as u64 + 1;
            let mut parts = line.split_whitespace();
            let (field, kinds) = (parts.next().unwrap_or(""), parts.collect::<Vec<_>>().join(""));
            if field == "include" {
                let base = match kinds.as_str() {
                    "default" => Profile::default(),
                    "strict" => Profile::strict(),
                    other => {
                        return Err(Error::invalid(other, format!("unknown profile '{other}' to include")).at_line(n))
                    }
                };
                for r in base.rules {
                    p.add(&r.field, r.kinds);
                }
                continue;
            }
            if kinds.is_empty() {
                return Err(Error::invalid(field, format!("field '{field}' has no kinds")).at_line(n));
            }
            if !field.split('.').all(|s| !s.is_empty()) {
                return Err(Error::invalid(field, format!("invalid field path '{field}'")).at_line(n));
            }
            let mut mask = 0;
            for k in kinds.split(',').filter(|k| !k.is_empty()) {
                mask |= kind_group(k).map_err(|e| e.at_line(n))?;
            }
            p.add(field, mask);
        }
        if p.rules.is_empty() {
            return Err(Error::invalid(name, format!("profile '{name}' has no field")));
        }
        Ok(p)
    }

    /// A built-in profile (`default`, `strict`) or a profile file.
    pub fn load(name_or_path: &str) -> Result<Profile> {
        match name_or_path {
            "default" => Ok(Profile::default()),
            "strict" => Ok(Profile::strict()),
            path => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| Error::new(crate::ErrorKind::Io, format!("cannot read profile '{path}': {e}")))?;
                Profile::parse(path, &text).map_err(|e| {
                    let msg = format!("profile '{path}': {e}");
                    Error::new(e.kind(), msg)
                })
            }
        }
    }
}

fn kind_group(k: &str) -> Result<KindMask> {
    Ok(match k.to_ascii_lowercase().as_str() {
        "ip" => IP,
        "domain" => DOMAIN,
        "url" => URL,
        "hash" => HASH,
        "email" => EMAIL,
        "username" | "user" => USERNAME,
        other => other.parse::<Kind>()?.bit(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_is_the_spec_table() {
        let s = Profile::strict();
        assert_eq!(s.rules().len(), 3 + 6 + 13 + 18 + 10);
        assert_eq!(s.kinds_of("destination.ip"), IP);
        assert_eq!(s.kinds_of("user.domain"), USERNAME);
        assert_eq!(s.kinds_of("url.original"), 0, "not in the spec's table");
        assert_eq!(s.kinds_of("file.hash.sha256"), 0, "not in the spec's table");
    }

    #[test]
    fn default_adds_the_siblings() {
        let d = Profile::default();
        for (f, k) in [
            ("url.original", URL),
            ("file.hash.sha256", HASH),
            ("dll.hash.md5", HASH),
            ("related.hash", HASH),
            ("destination.user.email", EMAIL),
            ("destiantion.user.email", EMAIL),
            ("dns.answers.data", IP | DOMAIN),
            ("source.ip", IP),
        ] {
            assert_eq!(d.kinds_of(f) & k, k, "{f}");
        }
        assert!(d.rules().len() > Profile::strict().rules().len());
    }

    #[test]
    fn parses_custom_profiles() {
        let p = Profile::parse(
            "fw",
            "# firewall logs\ninclude strict\nfw.src  ip\nfw.dst\tipv4, cidr\nproxy.url url # comment\n",
        )
        .unwrap();
        assert_eq!(p.kinds_of("fw.src"), IP);
        assert_eq!(p.kinds_of("fw.dst"), Kind::Ipv4.bit() | Kind::Cidr.bit());
        assert_eq!(p.kinds_of("proxy.url"), URL);
        assert_eq!(p.kinds_of("source.ip"), IP);
        let e = Profile::parse("x", "a.b\n\nfw.src planet\n").unwrap_err();
        assert_eq!(e.line(), Some(1), "{e}");
        let e = Profile::parse("x", "fw.src planet\n").unwrap_err();
        assert!(e.to_string().contains("'planet'") && e.line() == Some(1), "{e}");
        assert!(Profile::parse("x", "a..b ip\n").is_err());
        assert!(Profile::parse("x", "# nothing\n").is_err());
        assert!(Profile::parse("x", "include nothing\n").is_err());
    }
}
