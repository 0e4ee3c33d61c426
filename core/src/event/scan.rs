//! [`scan_event`]: one validating pass over an event, reporting the wanted string values.
//!
//! Recursive descent bounded by [`MAX_DEPTH`]: an object or array under a trie node that leads to
//! wanted fields is walked with [`Scanner::object`] / [`Scanner::array`]; anything else is
//! validated by the `skip_*` functions, which neither look keys up nor unescape. Strings are
//! skipped eight bytes at a time (SWAR: find the first `"`, `\`, control or non-ASCII byte).

use std::borrow::Cow;

use super::paths::{FieldPaths, Node, HAS_CHILDREN, NONE, ROOT, TIMESTAMP, WANTS_STRING};
use super::timestamp::parse_timestamp;
use super::{EventError, EventMeta, FieldValue};

/// The deepest nesting of objects and arrays accepted (the top-level object counts), the same as
/// serde_json's default recursion limit.
pub(crate) const MAX_DEPTH: u32 = 127;

/// Scan one event (a JSON object): call `sink` for every string value found at a wanted path of
/// `paths`, in document order, and read the top-level `@timestamp`.
///
/// See the [module documentation](super) for what reaches a path and what is valid.
///
/// # Errors
/// An [`EventError`] naming the byte offset when the input is not one valid JSON object (optionally
/// surrounded by whitespace). Values already passed to `sink` before the error was found stay
/// passed.
pub fn scan_event<'a>(
    json: &'a [u8],
    paths: &FieldPaths,
    sink: &mut dyn FnMut(FieldValue<'a>),
) -> Result<EventMeta, EventError> {
    let mut s = Scanner { buf: json, pos: 0, depth: 0, paths, sink, meta: EventMeta::default(), error: None };
    match s.event() {
        Ok(()) => Ok(s.meta),
        Err(Stop) => {
            Err(s.error.take().unwrap_or_else(|| EventError { offset: s.pos, message: "invalid json".into() }))
        }
    }
}

/// The scan stopped on an error, kept in [`Scanner::error`] (a one-byte `Err` keeps the hot path
/// lean).
struct Stop;

type R<T> = Result<T, Stop>;

struct Scanner<'a, 'p, 's> {
    buf: &'a [u8],
    pos: usize,
    depth: u32,
    paths: &'p FieldPaths,
    sink: &'s mut dyn FnMut(FieldValue<'a>),
    meta: EventMeta,
    error: Option<EventError>,
}

impl<'a> Scanner<'a, '_, '_> {
    fn event(&mut self) -> R<()> {
        if self.ws() != b'{' {
            return self.unexpected("'{' (an event is a json object)");
        }
        self.object(ROOT)?;
        self.ws();
        if self.pos < self.buf.len() {
            return self.fail(self.pos, "trailing characters after the event object");
        }
        Ok(())
    }

    /// The byte at `pos`, or 0 at the end (0 is never valid where a token is expected).
    #[inline(always)]
    fn peek(&self) -> u8 {
        match self.buf.get(self.pos) {
            Some(&b) => b,
            None => 0,
        }
    }

    /// Skip whitespace; the next byte (0 at the end).
    #[inline(always)]
    fn ws(&mut self) -> u8 {
        let b = self.peek();
        if b > b' ' {
            return b;
        }
        self.ws_slow()
    }

    fn ws_slow(&mut self) -> u8 {
        loop {
            match self.peek() {
                b' ' | b'\n' | b'\r' | b'\t' => self.pos += 1,
                b => return b,
            }
        }
    }

    #[inline(always)]
    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail(self.pos, format!("nesting deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    /// An object under trie node `node` (which has children); `pos` is at its `{`.
    fn object(&mut self, node: u32) -> R<()> {
        self.enter()?;
        self.pos += 1;
        let mut b = self.ws();
        if b == b'}' {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            if b != b'"' {
                return self.unexpected("'\"' (an object key)");
            }
            let child = self.key(node)?;
            if self.ws() != b':' {
                return self.unexpected("':'");
            }
            self.pos += 1;
            b = self.ws();
            if child == NONE {
                self.skip_value(b)?;
            } else {
                self.value(child, b)?;
            }
            b = self.ws();
            if b == b',' {
                self.pos += 1;
                b = self.ws();
            } else if b == b'}' {
                self.pos += 1;
                self.depth -= 1;
                return Ok(());
            } else {
                return self.unexpected("',' or '}'");
            }
        }
    }

    /// An array whose elements sit at trie node `node` (arrays are transparent); `pos` is at `[`.
    fn array(&mut self, node: u32) -> R<()> {
        self.enter()?;
        self.pos += 1;
        let mut b = self.ws();
        if b == b']' {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            self.value(node, b)?;
            b = self.ws();
            if b == b',' {
                self.pos += 1;
                b = self.ws();
            } else if b == b']' {
                self.pos += 1;
                self.depth -= 1;
                return Ok(());
            } else {
                return self.unexpected("',' or ']'");
            }
        }
    }

    /// A key (`pos` at its opening quote): the child of `node` it leads to, or [`NONE`].
    #[inline(always)]
    fn key(&mut self, node: u32) -> R<u32> {
        let start = self.pos + 1;
        let kind = self.skip_string()?;
        let end = self.pos - 1;
        if kind & ESCAPED == 0 {
            return Ok(self.paths.lookup_in(node, self.buf, start, end));
        }
        let key = self.unescape(start, end)?;
        Ok(self.paths.lookup(node, key.as_bytes()))
    }

    /// A value at trie node `node` (not [`NONE`]); `b` is its first byte, at `pos`.
    #[inline(always)]
    fn value(&mut self, node: u32, b: u8) -> R<()> {
        let n = self.paths.node(node);
        match b {
            b'"' if n.flags & WANTS_STRING != 0 => self.report(n),
            b'{' if n.flags & HAS_CHILDREN != 0 => self.object(node),
            b'[' => self.array(node),
            _ if n.flags & TIMESTAMP != 0 => self.timestamp_other(b),
            _ => self.skip_value(b),
        }
    }

    /// A string at a node that wants one: report it and/or read it as the timestamp.
    fn report(&mut self, n: Node) -> R<()> {
        let start = self.pos;
        let kind = self.skip_string()?;
        let (from, to) = (start + 1, self.pos - 1);
        let value = if kind == 0 {
            let ascii = &self.buf[from..to];
            debug_assert!(ascii.is_ascii());
            // SAFETY: `kind == 0`: skip_string saw no escape and no byte >= 0x80 in the string
            // (find_special stops at every such byte, and only utf8_char_end, which sets
            // NON_ASCII, steps over one), so the bytes are ASCII, hence UTF-8.
            Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(ascii) })
        } else if kind & ESCAPED != 0 {
            Cow::Owned(self.unescape(from, to)?)
        } else {
            match std::str::from_utf8(&self.buf[from..to]) {
                Ok(s) => Cow::Borrowed(s),
                Err(e) => return self.fail(from + e.valid_up_to(), "invalid utf-8 in string"),
            }
        };
        if n.flags & TIMESTAMP != 0 {
            self.set_timestamp(parse_timestamp(&value));
        }
        if n.field != NONE {
            (self.sink)(FieldValue { field: n.field, value, offset: start });
        }
        Ok(())
    }

    /// A non-string, non-array `@timestamp`: a number is epoch milliseconds, `null` is absent,
    /// anything else is bad.
    #[cold]
    fn timestamp_other(&mut self, b: u8) -> R<()> {
        let start = self.pos;
        self.skip_value(b)?;
        match b {
            b'n' => {}
            b'-' | b'0'..=b'9' => {
                let t = std::str::from_utf8(&self.buf[start..self.pos]).ok().and_then(parse_timestamp);
                self.set_timestamp(t);
            }
            _ => self.set_timestamp(None),
        }
        Ok(())
    }

    fn set_timestamp(&mut self, t: Option<crate::time::Timestamp>) {
        self.meta = EventMeta { timestamp: t, bad_timestamp: t.is_none() };
    }

    /// Validate any value without looking into it; `b` is its first byte, at `pos`.
    fn skip_value(&mut self, b: u8) -> R<()> {
        match b {
            b'"' => self.skip_string().map(drop),
            b'{' => self.skip_object(),
            b'[' => self.skip_array(),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => self.unexpected("a value"),
        }
    }

    fn skip_object(&mut self) -> R<()> {
        self.enter()?;
        self.pos += 1;
        let mut b = self.ws();
        if b == b'}' {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            if b != b'"' {
                return self.unexpected("'\"' (an object key)");
            }
            self.skip_string()?;
            if self.ws() != b':' {
                return self.unexpected("':'");
            }
            self.pos += 1;
            b = self.ws();
            self.skip_value(b)?;
            b = self.ws();
            if b == b',' {
                self.pos += 1;
                b = self.ws();
            } else if b == b'}' {
                self.pos += 1;
                self.depth -= 1;
                return Ok(());
            } else {
                return self.unexpected("',' or '}'");
            }
        }
    }

    fn skip_array(&mut self) -> R<()> {
        self.enter()?;
        self.pos += 1;
        let mut b = self.ws();
        if b == b']' {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            self.skip_value(b)?;
            b = self.ws();
            if b == b',' {
                self.pos += 1;
                b = self.ws();
            } else if b == b']' {
                self.pos += 1;
                self.depth -= 1;
                return Ok(());
            } else {
                return self.unexpected("',' or ']'");
            }
        }
    }

    #[inline]
    fn literal(&mut self, lit: &'static [u8]) -> R<()> {
        if self.buf.get(self.pos..self.pos + lit.len()) == Some(lit) {
            self.pos += lit.len();
            return Ok(());
        }
        self.fail(self.pos, "invalid literal")
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, syntax only.
    fn number(&mut self) -> R<()> {
        let buf = self.buf;
        let digit = |i: usize| matches!(buf.get(i), Some(b'0'..=b'9'));
        let mut i = self.pos;
        if buf.get(i) == Some(&b'-') {
            i += 1;
        }
        match buf.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                i += 1;
                while digit(i) {
                    i += 1;
                }
            }
            _ => return self.fail(i, "invalid number"),
        }
        if buf.get(i) == Some(&b'.') {
            i += 1;
            if !digit(i) {
                return self.fail(i, "invalid number: expected a digit after '.'");
            }
            while digit(i) {
                i += 1;
            }
        }
        if matches!(buf.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(buf.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !digit(i) {
                return self.fail(i, "invalid number: expected a digit in the exponent");
            }
            while digit(i) {
                i += 1;
            }
        }
        self.pos = i;
        Ok(())
    }

    /// Validate a string (`pos` at its opening quote), leaving `pos` after its closing quote.
    /// Returns [`ESCAPED`] | [`NON_ASCII`] as found in it.
    #[inline(always)]
    fn skip_string(&mut self) -> R<u8> {
        let buf = self.buf;
        let mut i = self.pos + 1;
        let mut kind = 0;
        loop {
            i = find_special(buf, i);
            match buf.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(kind);
                }
                Some(b'\\') => {
                    kind |= ESCAPED;
                    i = self.escape(i)?.0;
                }
                Some(&c) if c >= 0x80 => match utf8_char_end(buf, i) {
                    Some(end) => {
                        kind |= NON_ASCII;
                        i = end;
                    }
                    None => return self.fail(i, "invalid utf-8 in string"),
                },
                Some(_) => return self.fail(i, "control character in string (must be escaped)"),
                None => return self.fail(i, "unexpected end of input in string"),
            }
        }
    }

    /// The escape at `i` (a backslash): the index after it and the character it stands for.
    fn escape(&mut self, i: usize) -> R<(usize, char)> {
        let c = match self.buf.get(i + 1) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => return self.unicode_escape(i),
            Some(_) => return self.fail(i, "invalid escape"),
            None => return self.fail(i + 1, "unexpected end of input in string"),
        };
        Ok((i + 2, c))
    }

    /// `\uXXXX` at `i`, or a surrogate pair `\uD8XX\uDCXX`; a lone surrogate is an error.
    #[cold]
    fn unicode_escape(&mut self, i: usize) -> R<(usize, char)> {
        let Some(hi) = hex4(self.buf, i + 2) else {
            return self.fail(i, "invalid \\u escape");
        };
        if !(0xD800..=0xDFFF).contains(&hi) {
            let c = char::from_u32(hi).unwrap_or(char::REPLACEMENT_CHARACTER);
            return Ok((i + 6, c));
        }
        if hi >= 0xDC00 || self.buf.get(i + 6..i + 8) != Some(b"\\u") {
            return self.fail(i, "lone surrogate in \\u escape");
        }
        let Some(lo) = hex4(self.buf, i + 8) else {
            return self.fail(i + 6, "invalid \\u escape");
        };
        if !(0xDC00..=0xDFFF).contains(&lo) {
            return self.fail(i, "lone surrogate in \\u escape");
        }
        let c = char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)).unwrap_or(char::REPLACEMENT_CHARACTER);
        Ok((i + 12, c))
    }

    /// The unescaped text of the (already validated) string body `start..end`.
    #[cold]
    fn unescape(&mut self, start: usize, end: usize) -> R<String> {
        let buf = self.buf;
        let mut out = String::with_capacity(end - start);
        let mut i = start;
        while i < end {
            let run = buf[i..end].iter().position(|&b| b == b'\\').map_or(end, |k| i + k);
            match std::str::from_utf8(&buf[i..run]) {
                Ok(s) => out.push_str(s),
                Err(e) => return self.fail(i + e.valid_up_to(), "invalid utf-8 in string"),
            }
            if run == end {
                break;
            }
            let (next, c) = self.escape(run)?;
            out.push(c);
            i = next;
        }
        Ok(out)
    }

    /// Stop with an error at byte `at`.
    #[cold]
    #[inline(never)]
    fn fail<T>(&mut self, at: usize, message: impl Into<String>) -> R<T> {
        self.error = Some(EventError { offset: at, message: message.into() });
        Err(Stop)
    }

    /// Stop: `what` was expected at `pos`.
    #[cold]
    #[inline(never)]
    fn unexpected<T>(&mut self, what: &str) -> R<T> {
        let message = match self.buf.get(self.pos) {
            None => "unexpected end of input".to_owned(),
            Some(&c) if c.is_ascii_graphic() => format!("expected {what}, found '{}'", c as char),
            Some(&c) => format!("expected {what}, found byte 0x{c:02x}"),
        };
        self.fail(self.pos, message)
    }
}

/// [`Scanner::skip_string`] found an escape.
const ESCAPED: u8 = 1;
/// [`Scanner::skip_string`] found a (valid) non-ASCII character.
const NON_ASCII: u8 = 2;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The index of the first byte at or after `i` that ends a plain run inside a string (`"`, `\`,
/// a control character or a non-ASCII byte), or `buf.len()`.
#[inline(always)]
fn find_special(buf: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = buf.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let w = u64::from_le_bytes(*chunk);
        // High bit of each byte: set for `"` (q - 1 borrows), `\`, < 0x20 (w - 0x20 borrows) or
        // >= 0x80 (w itself). A borrow only comes out of a flagged byte, so the lowest flag is exact.
        let q = w ^ (ONES * b'"' as u64);
        let s = w ^ (ONES * b'\\' as u64);
        let m = (q.wrapping_sub(ONES) | s.wrapping_sub(ONES) | w.wrapping_sub(ONES * 0x20) | w) & HIGHS;
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = buf.get(i) {
        if c == b'"' || c == b'\\' || !(0x20..0x80).contains(&c) {
            return i;
        }
        i += 1;
    }
    buf.len()
}

/// The end of the UTF-8 sequence starting with the non-ASCII byte at `i`, when it is valid
/// (shortest form, no surrogates, at most U+10FFFF).
#[inline]
fn utf8_char_end(buf: &[u8], i: usize) -> Option<usize> {
    let (len, lo, hi) = match *buf.get(i)? {
        0xC2..=0xDF => (2, 0x80, 0xBF),
        0xE0 => (3, 0xA0, 0xBF),
        0xE1..=0xEC | 0xEE..=0xEF => (3, 0x80, 0xBF),
        0xED => (3, 0x80, 0x9F),
        0xF0 => (4, 0x90, 0xBF),
        0xF1..=0xF3 => (4, 0x80, 0xBF),
        0xF4 => (4, 0x80, 0x8F),
        _ => return None,
    };
    let second = *buf.get(i + 1)?;
    if second < lo || second > hi {
        return None;
    }
    for k in 2..len {
        if !matches!(buf.get(i + k), Some(0x80..=0xBF)) {
            return None;
        }
    }
    Some(i + len)
}

/// Four hex digits at `i`.
#[inline]
fn hex4(buf: &[u8], i: usize) -> Option<u32> {
    let mut v = 0;
    for &c in buf.get(i..i + 4)? {
        v = v << 4 | (c as char).to_digit(16)?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_special_is_exact() {
        for len in 0..40 {
            for pos in 0..len {
                for special in [b'"', b'\\', 0, 0x1f, 0x80, 0xff] {
                    let mut v = vec![b'a'; len];
                    v[pos] = special;
                    if pos + 1 < len {
                        v[pos + 1] = b'"';
                    }
                    assert_eq!(find_special(&v, 0), pos, "{v:?}");
                }
            }
            let v: Vec<u8> = (0x20..0x80u8).filter(|&c| c != b'"' && c != b'\\').cycle().take(len).collect();
            assert_eq!(find_special(&v, 0), len);
        }
    }

    #[test]
    fn utf8_matches_std_on_every_short_sequence() {
        let samples = [
            0x00u8, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee,
            0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff,
        ];
        for &a in &samples[2..] {
            for &b in &samples {
                for &c in &samples {
                    for &d in &samples {
                        let s = [a, b, c, d];
                        let std_len = match std::str::from_utf8(&s) {
                            Ok(_) => Some(4),
                            Err(e) if e.valid_up_to() > 0 => Some(e.valid_up_to()),
                            Err(_) => None,
                        };
                        let first_char_ok =
                            std_len.map(|n| std::str::from_utf8(&s[..n]).unwrap().chars().next().unwrap().len_utf8());
                        assert_eq!(utf8_char_end(&s, 0), first_char_ok, "{s:02x?}");
                    }
                }
            }
        }
    }
}
