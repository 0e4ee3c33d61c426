//! Raw-text mode: find indicators anywhere in an unparsed log line (syslog, proxy logs, Zeek
//! TSV, free text), with token boundaries, so that `evil.com` fires in `GET http://evil.com/`
//! and `user@evil.com` but not in `notevil.com` or `evil.community`.
//!
//! # Design
//!
//! Raw text is not ECS: there are no fields, so every kind is looked for regardless of the
//! field profile, and every match carries the field `"raw"`, the token as it is in the line
//! and its byte offset. Nearly every byte of a log line belongs to a word that can be no
//! indicator, so the scanner does not walk words: it jumps to the few bytes a token must
//! contain and looks around them.
//!
//! 1. **Hashes** are maximal runs of 32, 40, 64 or 128 hex digits (either case) bounded by
//!    neither a letter nor a digit (`md5=…`, `sha256:…`, `"…"` and `file_….bin` all qualify).
//!    Any run of 32 bytes or more covers one of the bytes 31, 63, 95, …: only those are
//!    probed, and a run is measured only around a probe that is a hex digit.
//! 2. Every **`.`, `:` and `@`** is found with `memchr3` (SIMD), in line order:
//!    * at a dot, the *word run* around it, a maximal run of `[A-Za-z0-9._-]` and non-ASCII
//!      letters and digits (a 256-entry class table; each run is looked at once):
//!      - **IPv4**: a dotted quad (canonical octets) not preceded by a letter, a digit or
//!        `<alnum>.` and not followed by a letter, a digit or `.<alnum>`: `1.2.3.4:80`,
//!        `(1.2.3.4)` and `host-1.2.3.4` match, `1.2.3.45`, `11.2.3.4`, `v1.2.3.4` and
//!        `1.2.3.4.5` do not. Looked up as an address and against every covering range.
//!      - **domain**: the run, trimmed of leading and trailing dots and hyphens, with an
//!        alphabetic (or `xn--`) last label, unless an `@` follows it (the local part of an
//!        e-mail address); looked up with sub-domain matching, after lower-casing (IDNA for
//!        non-ASCII). `/`, `@`, `:`, quotes and brackets end a run, so the host of a URL and
//!        the domain of an e-mail address are found by this rule; a non-ASCII letter does not,
//!        so `bücher.example` is not read as `cher.example`.
//!    * at a colon:
//!      - **URL** when `//` follows it (or it is the `[:]//` of a defanged URL) and the
//!        letters before it are a scheme: `http`, `https`, `ftp`, `hxxp`, `hxxps`, `fxp`,
//!        in any case, not preceded by a letter or digit. The URL runs up to whitespace, a
//!        control byte, a quote, `<`, `>`, `` ` ``, `\`, `|` (pipe-delimited logs; none of
//!        these may stand unencoded in a URL), a non-ASCII character that is no letter or
//!        digit (`”`, `»`, a no-break space) or a closing bracket that has no opening one in
//!        the URL; trailing `.,;:!?` are dropped. Its key is the index's URL
//!        key (the full normaliser refangs `hxxp`). URLs inside URLs
//!        (`?redirect=http://…`) are found too. A defanged host (`hxxp://evil[.]com/`) is
//!        refanged and looked up as a domain here (a plain host is a word run).
//!      - **IPv6**: the run of hex digits, colons and dots around the first colon of the run,
//!        holding `::` or exactly seven colons, bounded by no letter or digit (bracketed or
//!        not; a `%zone` is left out; an IPv4-mapped address is looked up as IPv4, and the
//!        IPv4 text inside it is not looked up again).
//!      - **ssdeep**: `<blocksize>:<chunk>:<chunk>` with a block size of `3 * 2^n`.
//!    * at an `@`: an **e-mail address**, local part `[A-Za-z0-9._%+-]`, domain
//!      `[A-Za-z0-9.-]` with an alphabetic last label.
//!
//! Finding the URL anchors at the colons the scanner visits anyway costs nothing; a separate
//! `aho-corasick` pass over the line for `://` cost 12 % of the whole scan of an NDJSON line,
//! and a case-insensitive automaton for the scheme names themselves cannot use its SIMD
//! prefilter.
//!
//! Candidates are looked up through the index's own lookups and keys (the same normalisation
//! as for ECS values). Nothing is allocated in this module on the miss path: domains are
//! lower-cased into a stack buffer, hashes decoded into one, addresses parsed in place; the
//! index's binary fuse filter rejects nearly every string miss with one or two cache misses.
//! Matches are reported in line order.
//!
//! # Rules
//!
//! Rows are filtered exactly as for events: the indicator's validity window at the time of the
//! line (the caller's time, else the matcher's default time, else now), and the collections
//! the matcher sees. The Command and Control rule matches a C2 IP indicator in
//! `destination.ip` only: raw text has no `destination.ip`, so **C2 IP indicators never match
//! raw text** (C2 domains, URLs and the like do).
//!
//! An indicator is reported once per distinct token per line, at the token's first occurrence;
//! one token may match several indicators (an address and the ranges covering it), and one
//! place several tokens (a URL and its host are different indicators and both may match).
//!
//! # Limitations
//!
//! * User names are never matched in raw text: no boundary tells a user name from any other
//!   word.
//! * Defanged text is only understood in URL anchors (`hxxp://`, `[:]//`) and URL hosts
//!   (`hxxp://evil[.]com/`); a bare `evil[.]com` or `bob[at]evil.com` is not refanged.
//! * A URL is cut at a backslash (JSON escapes), at a non-ASCII character that is no letter
//!   or digit, and at the first byte that is not UTF-8; a
//!   URL without a scheme (`evil.com/gate.php`) is only its host, a domain.
//! * ssdeep hashes are recognised by their shape only (a first chunk of digits only, as in the
//!   clock time `12:30:45`, is not one), so an odd `12:ab:cd` is looked up too (and misses).
//! * Lines that are not UTF-8 are scanned as bytes: offsets are byte offsets in the line as
//!   read, and only tokens that are valid UTF-8 are reported.

use super::ndjson::stream_lines;
use super::{EventMatches, Layer, Match, Matcher, NdjsonItem, NdjsonSummary, TimeSource};
use crate::error::Result;
use crate::index;
use crate::observable::{refang, Kind};
use crate::time::Timestamp;
use std::io::Read;
use std::net::IpAddr;

/// The field name of every raw-text match.
const RAW_FIELD: &str = "raw";
/// A field id that is no profile field: never `destination.ip`, so the C2 rule rejects C2 IPs.
const NO_FIELD: u32 = u32::MAX;
/// The longest IPv6 text (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`).
const MAX_V6: usize = 45;

// Byte classes.
const WORD: u16 = 1 << 0; // [A-Za-z0-9._-] and every byte >= 0x80 (checked further)
const DOT: u16 = 1 << 1;
const DIGIT: u16 = 1 << 2;
const ALPHA: u16 = 1 << 3;
const HIGH: u16 = 1 << 4; // >= 0x80
const HEX: u16 = 1 << 5;
const LOCAL: u16 = 1 << 6; // e-mail local part: [A-Za-z0-9._%+-]
const HOST: u16 = 1 << 7; // e-mail domain: [A-Za-z0-9.-]
const B64: u16 = 1 << 8; // ssdeep: [A-Za-z0-9+/]
const URL_END: u16 = 1 << 9; // whitespace, controls, quotes, <>, `, backslash, |
const NEAR_COLON: u16 = 1 << 10; // what may stand next to a colon of a token: [0-9A-Fa-f:/\]]

const fn classes() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let mut k = 0u16;
        if c.is_ascii_digit() {
            k |= WORD | DIGIT | HEX | LOCAL | HOST | B64;
        }
        if c.is_ascii_alphabetic() {
            k |= WORD | ALPHA | LOCAL | HOST | B64;
            if c.is_ascii_hexdigit() {
                k |= HEX;
            }
        }
        match c {
            b'.' => k |= WORD | DOT | LOCAL | HOST,
            b'-' => k |= WORD | LOCAL | HOST,
            b'_' => k |= WORD | LOCAL,
            b'%' => k |= LOCAL,
            b'+' => k |= LOCAL | B64,
            b'/' => k |= B64,
            b'"' | b'\'' | b'<' | b'>' | b'`' | b'\\' | b'|' | 0x7F => k |= URL_END,
            _ => {}
        }
        if c <= b' ' {
            k |= URL_END;
        }
        if c >= 0x80 {
            k |= WORD | HIGH;
        }
        if c.is_ascii_hexdigit() || matches!(c, b':' | b'/' | b']') {
            k |= NEAR_COLON;
        }
        t[i] = k;
        i += 1;
    }
    t
}

static CLASS: [u16; 256] = classes();

/// The value of each hex digit (0 for other bytes).
static HEX_VALUE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => 0,
        };
        i += 1;
    }
    t
};

#[inline(always)]
fn class(c: u8) -> u16 {
    CLASS[c as usize]
}

#[inline]
fn alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

/// Schemes recognised before an anchor (compared without case).
const SCHEMES: [&[u8]; 6] = [b"http", b"https", b"ftp", b"hxxp", b"hxxps", b"fxp"];

/// The length of the UTF-8 sequence a lead byte starts (`None` for other bytes).
fn utf8_width(c: u8) -> Option<usize> {
    match c {
        0xC2..=0xDF => Some(2),
        0xE0..=0xEF => Some(3),
        0xF0..=0xF4 => Some(4),
        _ => None,
    }
}

/// The character at `b[j]` (a byte >= 0x80) when it is a letter or digit: its width.
fn alnum_char_at(b: &[u8], j: usize) -> Option<usize> {
    let w = utf8_width(b[j])?;
    let s = std::str::from_utf8(b.get(j..j + w)?).ok()?;
    s.chars().next().filter(|c| c.is_alphanumeric()).map(|_| w)
}

/// A top-level label as the index accepts them: letters (or non-ASCII, which IDNA decides
/// on), or punycode.
fn tld_ok(l: &[u8]) -> bool {
    !l.is_empty()
        && (l.iter().all(|&c| c.is_ascii_alphabetic() || c >= 0x80)
            || (l.len() > 4 && l[..4].eq_ignore_ascii_case(b"xn--") && !l.contains(&b'_')))
}

/// A dotted quad at `b[i..]` (`b[i]` a digit): the address and where it ends. Canonical
/// octets only (1 to 3 digits, no leading zero, at most 255).
fn dotted_quad(b: &[u8], i: usize) -> Option<(u32, usize)> {
    let mut v = 0u32;
    let mut j = i;
    for part in 0..4 {
        if part > 0 {
            if b.get(j) != Some(&b'.') {
                return None;
            }
            j += 1;
        }
        let st = j;
        let mut x = 0u32;
        while j < b.len() && j - st < 3 && b[j].is_ascii_digit() {
            x = x * 10 + u32::from(b[j] - b'0');
            j += 1;
        }
        if j == st || x > 255 || (j - st > 1 && b[st] == b'0') {
            return None;
        }
        v = (v << 8) | x;
    }
    Some((v, j))
}

/// The ASCII part of a word run from `s`: its end and the OR of its byte classes.
#[inline(always)]
fn ascii_word(b: &[u8], s: usize) -> (usize, u16) {
    let mut fl = 0u16;
    let mut j = s;
    while j < b.len() {
        let c = class(b[j]);
        if c & (WORD | HIGH) != WORD {
            break;
        }
        fl |= c;
        j += 1;
    }
    (j, fl)
}

/// The start of the word run that holds `b[p]` (a word byte).
fn word_start(b: &[u8], p: usize) -> usize {
    let mut s = p;
    loop {
        while s > 0 && class(b[s - 1]) & (WORD | HIGH) == WORD {
            s -= 1;
        }
        match char_before(b, s) {
            Some(c) if s > c.0 && c.1 => s = c.0,
            _ => return s,
        }
    }
}

/// The end of the word run from `s`, and the OR of its byte classes.
fn word_end(b: &[u8], s: usize) -> (usize, u16) {
    let (mut j, mut fl) = ascii_word(b, s);
    while j < b.len() && b[j] >= 0x80 {
        // a non-ASCII letter or digit continues the word; anything else ends it
        let Some(w) = alnum_char_at(b, j) else { break };
        let (k, more) = ascii_word(b, j + w);
        j = k;
        fl |= more | HIGH;
    }
    (j, fl)
}

/// The non-ASCII character that ends just before `b[s]`: where it starts, and whether it is a
/// letter or digit.
fn char_before(b: &[u8], s: usize) -> Option<(usize, bool)> {
    if s == 0 || b[s - 1] < 0x80 {
        return None;
    }
    let mut c = s - 1;
    while c > 0 && s - c < 4 && b[c] & 0xC0 == 0x80 {
        c -= 1;
    }
    Some((c, alnum_char_at(b, c) == Some(s - c)))
}

/// Whether a letter or digit (ASCII or not) ends just before `b[s]`.
fn alnum_before(b: &[u8], s: usize) -> bool {
    s > 0 && (alnum(b[s - 1]) || char_before(b, s).is_some_and(|c| c.1))
}

/// Whether a letter or digit (ASCII or not) starts at `b[e]`.
fn alnum_after(b: &[u8], e: usize) -> bool {
    e < b.len() && (alnum(b[e]) || (b[e] >= 0x80 && alnum_char_at(b, e).is_some()))
}

/// One line being scanned.
struct Scan<'m, 'l> {
    m: &'m Matcher,
    b: &'l [u8],
    t: u32,
    out: Vec<Match>,
    /// (layer, row, token start, token end) of every match so far: one report per (row, token).
    seen: Vec<(usize, u32, usize, usize)>,
    /// Colons before this were already looked at as part of a hex/colon run.
    colon_done: usize,
    /// End of the last word run looked at (for its dots).
    word_end: usize,
    /// End of the last IPv6 address found: IPv4 text inside it (`::ffff:1.2.3.4`) is part of
    /// it, not another token.
    v6_end: usize,
}

impl<'m, 'l> Scan<'m, 'l> {
    fn new(m: &'m Matcher, b: &'l [u8], t: u32) -> Self {
        Scan { m, b, t, out: Vec::new(), seen: Vec::new(), colon_done: 0, word_end: 0, v6_end: 0 }
    }

    /// Report row `row` of layer `li` for the token `b[s..e]` if the matcher accepts it at the
    /// line's time.
    fn hit(&mut self, li: usize, row: u32, kind: Kind, s: usize, e: usize, observable: impl FnOnce() -> String) {
        let Some(layer) = self.m.layers.get(li) else { return };
        let Some(coll) = self.m.accept(layer, row, NO_FIELD, self.t) else { return };
        let b = self.b;
        let tok = &b[s..e];
        if self.seen.iter().any(|&(l, r, a, z)| l == li && r == row && &b[a..z] == tok) {
            return;
        }
        let Ok(value) = std::str::from_utf8(tok) else { return };
        self.seen.push((li, row, s, e));
        let index = &layer.index;
        self.out.push(Match {
            indicator_id: prefixed_id("indicator--", index.row_uuid(row)),
            collection_id: prefixed_id("ioc-collection--", index.collection_uuid(coll)),
            kind,
            observable: observable(),
            field: RAW_FIELD.to_string(),
            value: value.to_string(),
            offset: s,
        });
    }

    /// Look an address up in every layer, reporting it as the token `b[s..e]`.
    fn lookup_ip(&mut self, ip: IpAddr, s: usize, e: usize) {
        let m = self.m;
        for (li, layer) in m.layers.iter().enumerate() {
            layer
                .index
                .lookup_ip(ip, &mut |row, kind| self.hit(li, row, kind, s, e, || observable_ip(layer, row, kind, ip)));
        }
    }

    /// Look a domain key up (with sub-domain matching) in every layer.
    fn lookup_domain(&mut self, key: &str, s: usize, e: usize) {
        let m = self.m;
        for (li, layer) in m.layers.iter().enumerate() {
            layer
                .index
                .lookup_domain(key, &mut |row, matched| self.hit(li, row, Kind::Domain, s, e, || matched.to_string()));
        }
    }

    /// Look a key of a string kind (URL, e-mail, ssdeep) up in every layer.
    fn lookup_string(&mut self, kind: Kind, key: &str, s: usize, e: usize) {
        let m = self.m;
        for (li, layer) in m.layers.iter().enumerate() {
            layer.index.lookup_string(kind, key, &mut |row| self.hit(li, row, kind, s, e, || key.to_string()));
        }
    }

    /// Look a binary hash up in every layer; the token is its hex text.
    fn lookup_hash(&mut self, kind: Kind, bytes: &[u8], s: usize, e: usize) {
        let m = self.m;
        let b = self.b;
        for (li, layer) in m.layers.iter().enumerate() {
            layer.index.lookup_hash(kind, bytes, &mut |row| {
                self.hit(li, row, kind, s, e, || String::from_utf8_lossy(&b[s..e]).to_ascii_lowercase())
            });
        }
    }

    fn run(mut self) -> Vec<Match> {
        let b = self.b;
        self.hashes();
        for p in memchr::memchr3_iter(b'.', b':', b'@', b) {
            match b[p] {
                b'.' if p >= self.word_end => self.dot(p),
                // most colons (`"key":"value"`, `a: b`) have nothing of a token next to them
                b':' if (p > 0 && class(b[p - 1]) & NEAR_COLON != 0)
                    || b.get(p + 1).is_some_and(|&c| class(c) & NEAR_COLON != 0) =>
                {
                    self.colon(p)
                }
                b'@' => self.email(p),
                _ => {}
            }
        }
        let mut out = self.out;
        if out.windows(2).any(|w| w[0].offset > w[1].offset) {
            out.sort_by_key(|m| m.offset);
        }
        out
    }

    /// At a dot: the word run around it, which may hold IPv4 addresses or be a domain.
    #[inline(never)]
    fn dot(&mut self, p: usize) {
        let b = self.b;
        let s = word_start(b, p);
        let (e, fl) = word_end(b, s);
        self.word_end = e;
        if fl & DIGIT != 0 {
            self.ipv4s(s, e);
        }
        if fl & (ALPHA | HIGH) != 0 {
            self.domain_run(s, e);
        }
    }

    /// Every dotted quad with IPv4 boundaries in the run `b[s..e]`.
    fn ipv4s(&mut self, s: usize, e: usize) {
        let b = self.b;
        let mut i = s.max(self.v6_end);
        while i < e {
            if !b[i].is_ascii_digit() || (i > 0 && (alnum(b[i - 1]) || (b[i - 1] == b'.' && i > 1 && alnum(b[i - 2]))))
            {
                i += 1;
                continue;
            }
            let Some((v, end)) = dotted_quad(b, i) else {
                i += 1;
                continue;
            };
            // no other address starts inside this one
            let start = std::mem::replace(&mut i, end);
            if end < b.len() && (alnum(b[end]) || (b[end] == b'.' && b.get(end + 1).is_some_and(|&c| alnum(c)))) {
                continue;
            }
            self.lookup_ip(IpAddr::V4(v.into()), start, end);
        }
    }

    /// The domain in the run `b[s..e]`, if it is one.
    fn domain_run(&mut self, s: usize, e: usize) {
        let b = self.b;
        if b.get(e) == Some(&b'@') {
            return; // the local part of an e-mail address
        }
        let (mut ds, mut de) = (s, e);
        while ds < de && matches!(b[ds], b'.' | b'-') {
            ds += 1;
        }
        while de > ds && matches!(b[de - 1], b'.' | b'-') {
            de -= 1;
        }
        let tok = &b[ds..de];
        match memchr::memrchr(b'.', tok) {
            Some(dot) if dot > 0 && tld_ok(&tok[dot + 1..]) => self.domain(ds, de),
            _ => {}
        }
    }

    /// Look the domain `b[s..e]` up (with sub-domain matching), reporting it as that token.
    fn domain(&mut self, s: usize, e: usize) {
        let tok = &self.b[s..e];
        if tok.len() > 253 {
            return;
        }
        if tok.is_ascii() {
            let mut buf = [0u8; 253];
            let key = &mut buf[..tok.len()];
            for (o, c) in key.iter_mut().zip(tok) {
                *o = c.to_ascii_lowercase();
            }
            if let Ok(key) = std::str::from_utf8(key) {
                self.lookup_domain(key, s, e);
            }
        } else if let Some(key) = std::str::from_utf8(tok).ok().and_then(index::domain_key) {
            self.lookup_domain(&key, s, e);
        }
    }

    /// Hashes: maximal runs of hex digits of hash length, bounded by neither a letter nor a
    /// digit. Every run of 32 or more bytes covers a multiple of 32 (less one): only those
    /// bytes are probed, and a run is measured only where one is a hex digit.
    fn hashes(&mut self) {
        let b = self.b;
        let n = b.len();
        let mut p = 31;
        while p < n {
            if class(b[p]) & HEX == 0 {
                p += 32;
                continue;
            }
            let mut s = p;
            while s > 0 && class(b[s - 1]) & HEX != 0 {
                s -= 1;
            }
            let mut e = p + 1;
            while e < n && class(b[e]) & HEX != 0 {
                e += 1;
            }
            while p < e {
                p += 32;
            }
            let kind = match e - s {
                32 => Kind::Md5,
                40 => Kind::Sha1,
                64 => Kind::Sha256,
                128 => Kind::Sha512,
                _ => continue,
            };
            if alnum_before(b, s) || alnum_after(b, e) {
                continue;
            }
            // every byte is a hex digit: decode without branches
            let mut buf = [0u8; 64];
            let bytes = &mut buf[..(e - s) / 2];
            for (o, pair) in bytes.iter_mut().zip(b[s..e].chunks_exact(2)) {
                *o = (HEX_VALUE[pair[0] as usize] << 4) | HEX_VALUE[pair[1] as usize];
            }
            self.lookup_hash(kind, bytes, s, e);
        }
    }

    /// At a colon: a URL anchor, or an IPv6 address or ssdeep hash around it.
    #[inline(never)]
    fn colon(&mut self, p: usize) {
        let b = self.b;
        let before = p.checked_sub(1).and_then(|i| b.get(i)).copied().unwrap_or(b' ');
        let after = b.get(p + 1).copied().unwrap_or(b' ');
        if after == b'/' && b.get(p + 2) == Some(&b'/') {
            self.url(p, p + 3);
            return;
        }
        if before == b'[' && after == b']' && b.get(p + 2..p + 4) == Some(b"//") {
            self.url(p - 1, p + 4);
            return;
        }
        // an IPv6 colon has a hex digit or a colon next to it; ssdeep's first a digit before
        let near = |c: u8| c == b':' || class(c) & HEX != 0;
        if !near(before) && !near(after) {
            return;
        }
        if p >= self.colon_done {
            self.ipv6(p);
        }
        self.ssdeep(p);
    }

    fn ipv6(&mut self, p: usize) {
        let b = self.b;
        let n = b.len();
        let mut st = p;
        while st > 0 && p - st < 4 && class(b[st - 1]) & HEX != 0 {
            st -= 1;
        }
        // the whole run of hex digits, colons and dots from there
        let mut en = p;
        let mut colons = 0;
        let mut double = false;
        let mut digits = st < p;
        while en < n {
            match b[en] {
                b':' => {
                    colons += 1;
                    double |= en > st && b[en - 1] == b':';
                }
                b'.' => {}
                c if class(c) & HEX != 0 => digits = true,
                _ => break,
            }
            en += 1;
        }
        self.colon_done = en;
        if st > 0 && (alnum_before(b, st) || matches!(b[st - 1], b'.' | b':' | b'_')) {
            return;
        }
        while en > st && b[en - 1] == b'.' {
            en -= 1;
        }
        if b.get(en) == Some(&b'_') || alnum_after(b, en) {
            return;
        }
        if en - st > MAX_V6 || colons < 2 || !digits || !(double || colons == 7) {
            return;
        }
        let Some(ip) = std::str::from_utf8(&b[st..en]).ok().and_then(index::parse_ip) else { return };
        self.v6_end = en;
        self.lookup_ip(ip, st, en);
    }

    /// `<blocksize>:<chunk>:<double chunk>` with `:` at `p` the first colon.
    fn ssdeep(&mut self, p: usize) {
        let b = self.b;
        let n = b.len();
        let mut bs = p;
        while bs > 0 && p - bs < 10 && b[bs - 1].is_ascii_digit() {
            bs -= 1;
        }
        if bs == p
            || alnum_before(b, bs)
            || (bs > 0 && (class(b[bs - 1]) & B64 != 0 || matches!(b[bs - 1], b':' | b'_' | b'.' | b'-')))
        {
            return;
        }
        let size: u64 = b[bs..p].iter().fold(0, |a, &c| a * 10 + u64::from(c - b'0'));
        if size < 3 || size % 3 != 0 || !(size / 3).is_power_of_two() {
            return;
        }
        let mut q = p + 1;
        while q < n && class(b[q]) & B64 != 0 {
            q += 1;
        }
        if q == p + 1 || q - p - 1 > 64 || b[p + 1..q].iter().all(u8::is_ascii_digit) || b.get(q) != Some(&b':') {
            return;
        }
        let mut r = q + 1;
        while r < n && class(b[r]) & B64 != 0 {
            r += 1;
        }
        if r - q - 1 > 64 || b.get(r) == Some(&b':') || alnum_after(b, r) {
            return;
        }
        let Ok(text) = std::str::from_utf8(&b[bs..r]) else { return };
        self.lookup_string(Kind::Ssdeep, text, bs, r);
    }

    /// At an `@`: the e-mail address around it.
    #[inline(never)]
    fn email(&mut self, p: usize) {
        let b = self.b;
        let n = b.len();
        let mut ls = p;
        while ls > 0 && class(b[ls - 1]) & LOCAL != 0 {
            ls -= 1;
        }
        if alnum_before(b, ls) {
            return;
        }
        while ls < p && b[ls] == b'.' {
            ls += 1;
        }
        if ls == p {
            return;
        }
        let mut de = p + 1;
        while de < n && class(b[de]) & HOST != 0 {
            de += 1;
        }
        if b.get(de) == Some(&b'_') || alnum_after(b, de) {
            return;
        }
        while de > p + 1 && matches!(b[de - 1], b'.' | b'-') {
            de -= 1;
        }
        let domain = &b[p + 1..de];
        match memchr::memrchr(b'.', domain) {
            Some(dot) if dot > 0 && tld_ok(&domain[dot + 1..]) => {}
            _ => return,
        }
        let Some(key) = std::str::from_utf8(&b[ls..de]).ok().and_then(index::email_key) else { return };
        self.lookup_string(Kind::Email, &key, ls, de);
    }

    /// The URL whose anchor (`://` or `[:]//`) is `b[a..z]`.
    #[inline(never)]
    fn url(&mut self, a: usize, z: usize) {
        let b = self.b;
        let n = b.len();
        let mut st = a;
        while st > 0 && a - st < 5 && b[st - 1].is_ascii_alphabetic() {
            st -= 1;
        }
        if st > 0 && alnum(b[st - 1]) {
            return;
        }
        let scheme = &b[st..a];
        if !SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
            return;
        }
        let mut e = z;
        let (mut paren, mut square, mut curly) = (0u32, 0u32, 0u32);
        while e < n {
            let c = b[e];
            if class(c) & URL_END != 0 {
                break;
            }
            if c >= 0x80 {
                // non-ASCII letters and digits (an IRI) go on; quotes, spaces, dashes do not
                let Some(w) = alnum_char_at(b, e) else { break };
                e += w;
                continue;
            }
            let depth = match c {
                b'(' | b')' => &mut paren,
                b'[' | b']' => &mut square,
                b'{' | b'}' => &mut curly,
                _ => {
                    e += 1;
                    continue;
                }
            };
            if matches!(c, b'(' | b'[' | b'{') {
                *depth += 1;
            } else if *depth == 0 {
                break;
            } else {
                *depth -= 1;
            }
            e += 1;
        }
        if let Err(err) = std::str::from_utf8(&b[st..e]) {
            e = st + err.valid_up_to();
        }
        while e > z && matches!(b[e - 1], b'.' | b',' | b';' | b':' | b'!' | b'?') {
            e -= 1;
        }
        if e <= z {
            return;
        }
        let Ok(text) = std::str::from_utf8(&b[st..e]) else { return };
        if let Some(key) = index::url_key(text) {
            self.lookup_string(Kind::Url, &key, st, e);
        }
        // The host. A plain one is a word run, found by the tokenizer; a defanged one is
        // looked up here.
        let auth = &b[z..e];
        let mut he = z + auth.iter().position(|c| matches!(c, b'/' | b'?' | b'#')).unwrap_or(auth.len());
        let mut hs = z;
        if let Some(at) = memchr::memrchr(b'@', &b[hs..he]) {
            hs += at + 1;
        }
        if let Some(colon) = memchr::memrchr(b':', &b[hs..he]) {
            if b[hs + colon + 1..he].iter().all(u8::is_ascii_digit) {
                he = hs + colon;
            }
        }
        let host = &b[hs..he];
        if host.first() == Some(&b'[') || !host.iter().any(|c| matches!(c, b'[' | b'(' | b'{')) {
            return;
        }
        let Ok(host_text) = std::str::from_utf8(host) else { return };
        if let Some(key) = index::domain_key(&refang(host_text)) {
            self.lookup_domain(&key, hs, he);
        }
    }
}

/// `<prefix><uuid>` (the nil uuid when there is none), without the formatting machinery.
fn prefixed_id(prefix: &str, id: Option<uuid::Uuid>) -> String {
    let mut buf = uuid::Uuid::encode_buffer();
    let text = id.unwrap_or_default().hyphenated().encode_lower(&mut buf);
    let mut s = String::with_capacity(prefix.len() + text.len());
    s.push_str(prefix);
    s.push_str(text);
    s
}

/// The observable of an IP match: the address, or the covering range.
fn observable_ip(layer: &Layer, row: u32, kind: Kind, ip: IpAddr) -> String {
    match kind {
        Kind::Cidr => layer.index.row_cidr(row).map(|n| n.to_string()).unwrap_or_default(),
        _ => ip.to_string(),
    }
}

impl Matcher {
    /// Scan one line of raw, unparsed text (a syslog line, a proxy or Zeek log line, free
    /// text) for indicators of every kind but user names; the field profile does not apply.
    ///
    /// Tokens need boundaries: `evil.com` matches in `GET http://evil.com/x`, `(evil.com)`,
    /// `evil.com:443` and `user@evil.com`, not in `notevil.com` or `evil.community`;
    /// `1.2.3.4` matches in `1.2.3.4:80`, not in `1.2.3.45`, `11.2.3.4` or `1.2.3.4.5`.
    /// Found are IPv4 and IPv6 addresses (also against CIDR ranges; IPv6 bracketed or not),
    /// URLs from `http`, `https`, `ftp` and defanged `hxxp`, `hxxps` and `[:]//` anchors
    /// (trailing punctuation and unbalanced closing brackets left out), e-mail addresses,
    /// domains (with sub-domain matching; the host of a URL and the domain of an e-mail
    /// address count), MD5, SHA-1, SHA-256 and SHA-512 hashes (exact runs of hex digits, either
    /// case) and ssdeep hashes.
    ///
    /// Matches carry the field `"raw"`, the token as it is in the line and its byte offset, in
    /// line order; an indicator is reported once per distinct token and line. The time is `at`
    /// ([`TimeSource::Caller`]), else the matcher's default time ([`TimeSource::Default`]).
    /// Validity windows and the collections the matcher sees apply as for events; Command and
    /// Control IP indicators match `destination.ip` only, so never raw text.
    ///
    /// # Examples
    ///
    /// ```
    /// use iocmatch::{ImportDefaults, MatchOptions, Matcher, NewCollection, Store, Timestamp};
    /// use std::sync::Arc;
    ///
    /// let store = Store::open_in_memory()?;
    /// store.create_collection(&NewCollection::named("feed"))?;
    /// let defaults = ImportDefaults { valid_from: Some(Timestamp::from_secs(0)), ..Default::default() };
    /// store.import_text("feed", b"evil.com\n203.0.113.7\n", &defaults)?;
    /// let m = Matcher::new(Arc::new(store.compile()?), &MatchOptions::default())?;
    /// let r = m.scan_text("GET http://evil.com/x from 203.0.113.7:5123 (notevil.com)", None);
    /// let found: Vec<(&str, usize)> = r.matches.iter().map(|x| (x.value.as_str(), x.offset)).collect();
    /// assert_eq!(found, [("evil.com", 11), ("203.0.113.7", 27)]);
    /// # Ok::<(), iocmatch::Error>(())
    /// ```
    pub fn scan_text(&self, line: &str, at: Option<Timestamp>) -> EventMatches {
        self.scan_text_bytes(line.as_bytes(), at)
    }

    /// [`Matcher::scan_text`] over bytes that need not be UTF-8: the line is scanned as it
    /// is, offsets are byte offsets in it, and only tokens that are valid UTF-8 are reported.
    pub fn scan_text_bytes(&self, line: &[u8], at: Option<Timestamp>) -> EventMatches {
        let (time, time_source) = match at {
            Some(t) => (t, TimeSource::Caller),
            None => (self.default_time(), TimeSource::Default),
        };
        let matches = Scan::new(self, line, Self::secs(time)).run();
        EventMatches { matches, time, time_source }
    }

    /// Scan every line of a text stream, as [`Matcher::scan_text`] (without `at`, at the
    /// matcher's default time, taken once for the whole stream). Lines are scanned in
    /// parallel (blocks of a few MiB, rayon) and `sink` sees them in input order, each as an
    /// [`NdjsonItem::Event`] with its 1-based line number (possibly without matches). Blank
    /// lines are skipped; a trailing `\r` is dropped; a line that is not UTF-8 is scanned as
    /// bytes and counts as an event like any other (there are no bad lines in raw text).
    /// `sink` may stop the stream by returning an error, which is returned.
    ///
    /// # Errors
    /// Reading errors, and whatever `sink` returns.
    pub fn scan_text_stream<R: Read>(
        &self,
        input: R,
        at: Option<Timestamp>,
        sink: &mut dyn FnMut(NdjsonItem<'_>) -> Result<()>,
    ) -> Result<NdjsonSummary> {
        // One time for the whole stream when the caller gives none, so that every line is
        // judged alike.
        let (time, source) = match at {
            Some(t) => (t, TimeSource::Caller),
            None => (self.default_time(), TimeSource::Default),
        };
        let t = Self::secs(time);
        stream_lines(
            input,
            &|l: &[u8]| Ok(EventMatches { matches: Scan::new(self, l, t).run(), time, time_source: source }),
            sink,
        )
    }
}
