//! [`scan_event`]: one validating pass over an event, reporting the wanted string values.
//!
//! Recursive descent, bounded by [`MAX_DEPTH`] levels (so at most that many frames deep): an
//! object or array under a trie node that leads to wanted fields is walked by [`Scanner::object`]
//! and [`Scanner::array`], which look keys up; anything else is validated by
//! [`Scanner::skip_container`], which neither looks keys up nor unescapes.
//!
//! Strings, most of the bytes, are crossed with a 64-byte window of "special" bytes (`"`, `\`,
//! control, non-ASCII) computed with SSE2 (SWAR elsewhere): the end of a plain string is a shift
//! and a count of trailing zeros. Escapes and non-ASCII characters are validated on the slow path.
//!
//! The position is passed and returned by value (not kept in `self`) so that it stays in a
//! register; errors are parked in [`Scanner::error`] and signalled with a zero-sized [`Stop`], so
//! that every `Result` fits in registers.

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
    let mut s = Scanner {
        buf: json,
        paths,
        sink,
        meta: EventMeta::default(),
        error: None,
        window_start: usize::MAX / 2,
        window: 0,
        kind: 0,
    };
    match s.event() {
        Ok(()) => Ok(s.meta),
        Err(Stop) => Err(s.error.take().unwrap_or_else(|| EventError { offset: 0, message: "invalid json".into() })),
    }
}

/// The scan stopped on an error, kept in [`Scanner::error`].
struct Stop;

type R<T> = Result<T, Stop>;

struct Scanner<'a, 'p, 's> {
    buf: &'a [u8],
    paths: &'p FieldPaths,
    sink: &'s mut dyn FnMut(FieldValue<'a>),
    meta: EventMeta,
    error: Option<EventError>,
    /// A 64-byte window of the input, from `window_start`: bit `k` of `window` is set when byte
    /// `window_start + k` is `"`, `\\`, a control character or non-ASCII (see [`special_bits`]).
    /// Finding the end of a string is then a shift and a count of trailing zeros, not a chain of
    /// loads and compares that each string would wait for.
    window_start: usize,
    window: u64,
    /// What the last [`scan_string`](Self::scan_string) met: [`ESCAPED`] | [`NON_ASCII`].
    kind: u8,
}

/// The byte at `i`, or 0 past the end (0 is never valid where a token is expected).
#[inline(always)]
fn at(buf: &[u8], i: usize) -> u8 {
    match buf.get(i) {
        Some(&b) => b,
        None => 0,
    }
}

/// Skip whitespace from `i`: the index and the byte there (0 at the end).
#[inline(always)]
fn ws(buf: &[u8], i: usize) -> (usize, u8) {
    let b = at(buf, i);
    if b > b' ' {
        return (i, b);
    }
    ws_slow(buf, i)
}

fn ws_slow(buf: &[u8], mut i: usize) -> (usize, u8) {
    loop {
        match at(buf, i) {
            b' ' | b'\n' | b'\r' | b'\t' => i += 1,
            b => return (i, b),
        }
    }
}

impl<'a> Scanner<'a, '_, '_> {
    fn event(&mut self) -> R<()> {
        let (i, b) = ws(self.buf, 0);
        if b != b'{' {
            return self.unexpected(i, "'{' (an event is a json object)");
        }
        let i = self.object(ROOT, i, 0)?;
        let (i, _) = ws(self.buf, i);
        if i < self.buf.len() {
            return self.fail(i, "trailing characters after the event object");
        }
        Ok(())
    }

    /// An object at `i` (its `{`) under trie node `node` (which has children), `depth` levels
    /// deep; returns the index after its `}`.
    fn object(&mut self, node: u32, i: usize, depth: u32) -> R<usize> {
        let buf = self.buf;
        let depth = depth + 1;
        if depth > MAX_DEPTH {
            return self.too_deep(i);
        }
        let (mut i, mut b) = ws(buf, i + 1);
        if b == b'}' {
            return Ok(i + 1);
        }
        loop {
            if b != b'"' {
                return self.unexpected(i, "'\"' (an object key)");
            }
            let end = self.scan_string(i)?;
            let child = if self.kind & ESCAPED == 0 {
                self.paths.lookup_in(node, buf, i + 1, end - 1)
            } else {
                self.escaped_key(node, i + 1, end - 1)?
            };
            (i, b) = ws(buf, end);
            if b != b':' {
                return self.unexpected(i, "':'");
            }
            (i, b) = ws(buf, i + 1);
            i = if b == b'"' {
                // Scanned before the lookup's answer is needed, so that the two overlap.
                let end = self.scan_string(i)?;
                if child != NONE {
                    self.string_at(child, i, end)?;
                }
                end
            } else if child == NONE {
                self.skip_value(i, b, depth)?
            } else {
                self.value(child, i, b, depth)?
            };
            (i, b) = ws(buf, i);
            if b == b',' {
                (i, b) = ws(buf, i + 1);
            } else if b == b'}' {
                return Ok(i + 1);
            } else {
                return self.unexpected(i, "',' or '}'");
            }
        }
    }

    /// An array at `i` whose elements sit at trie node `node` (arrays are transparent).
    fn array(&mut self, node: u32, i: usize, depth: u32) -> R<usize> {
        let buf = self.buf;
        let depth = depth + 1;
        if depth > MAX_DEPTH {
            return self.too_deep(i);
        }
        let (mut i, mut b) = ws(buf, i + 1);
        if b == b']' {
            return Ok(i + 1);
        }
        loop {
            i = if b == b'"' {
                let end = self.scan_string(i)?;
                self.string_at(node, i, end)?;
                end
            } else {
                self.value(node, i, b, depth)?
            };
            (i, b) = ws(buf, i);
            if b == b',' {
                (i, b) = ws(buf, i + 1);
            } else if b == b']' {
                return Ok(i + 1);
            } else {
                return self.unexpected(i, "',' or ']'");
            }
        }
    }

    /// The child of `node` that the key with escapes `start..end` leads to, or [`NONE`].
    #[cold]
    fn escaped_key(&mut self, node: u32, start: usize, end: usize) -> R<u32> {
        let key = self.unescape(start, end)?;
        Ok(self.paths.lookup(node, key.as_bytes()))
    }

    /// The value at `i` (first byte `b`), at trie node `node` (not [`NONE`]).
    #[inline(always)]
    fn value(&mut self, node: u32, i: usize, b: u8, depth: u32) -> R<usize> {
        let n = self.paths.node(node);
        match b {
            b'"' => {
                let end = self.scan_string(i)?;
                self.string_at(node, i, end)?;
                Ok(end)
            }
            b'{' if n.flags & HAS_CHILDREN != 0 => {
                if n.flags & TIMESTAMP != 0 {
                    // `@timestamp.x` is wanted, but an object is no timestamp.
                    self.set_timestamp(None);
                }
                self.object(node, i, depth)
            }
            b'[' => self.array(node, i, depth),
            _ if n.flags & TIMESTAMP != 0 => self.timestamp_other(i, b, depth),
            _ => self.skip_value(i, b, depth),
        }
    }

    /// The string `i..end`, just scanned with [`scan_string`](Self::scan_string), at trie node
    /// `node` (not [`NONE`]): reported and/or read as the timestamp when the node wants it.
    #[inline(always)]
    fn string_at(&mut self, node: u32, i: usize, end: usize) -> R<()> {
        let n = self.paths.node(node);
        if n.flags & WANTS_STRING != 0 {
            self.report(n, i, end)?;
        }
        Ok(())
    }

    /// A string at a node that wants one: report it and/or read it as the timestamp.
    fn report(&mut self, n: Node, i: usize, end: usize) -> R<()> {
        let kind = self.kind;
        let (from, to) = (i + 1, end - 1);
        let value = if kind == 0 {
            let ascii = &self.buf[from..to];
            debug_assert!(ascii.is_ascii());
            // SAFETY: `kind == 0`: scan_string met no escape and no byte >= 0x80 in the string
            // (next_special stops at every such byte, as special_bits flags them all, and only
            // string_slow, which then sets NON_ASCII, steps over one), so the bytes are ASCII,
            // hence UTF-8.
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
            (self.sink)(FieldValue { field: n.field, value, offset: i });
        }
        Ok(())
    }

    /// A non-string, non-array `@timestamp`: a number is epoch milliseconds, `null` is absent,
    /// anything else is bad.
    #[cold]
    fn timestamp_other(&mut self, i: usize, b: u8, depth: u32) -> R<usize> {
        let end = self.skip_value(i, b, depth)?;
        match b {
            b'n' => {}
            b'-' | b'0'..=b'9' => {
                let t = std::str::from_utf8(&self.buf[i..end]).ok().and_then(parse_timestamp);
                self.set_timestamp(t);
            }
            _ => self.set_timestamp(None),
        }
        Ok(end)
    }

    fn set_timestamp(&mut self, t: Option<crate::time::Timestamp>) {
        self.meta = EventMeta { timestamp: t, bad_timestamp: t.is_none() };
    }

    /// Validate the value at `i` (first byte `b`) without looking into it.
    #[inline]
    fn skip_value(&mut self, i: usize, b: u8, depth: u32) -> R<usize> {
        match b {
            b'"' => self.skip_string(i),
            b'{' | b'[' => self.skip_container(i, depth),
            _ => self.scalar(i, b),
        }
    }

    /// A number or literal at `i` (first byte `b`).
    #[inline]
    fn scalar(&mut self, i: usize, b: u8) -> R<usize> {
        match b {
            b'-' | b'0'..=b'9' => self.number(i),
            b't' => self.literal(i, b"true"),
            b'f' => self.literal(i, b"false"),
            b'n' => self.literal(i, b"null"),
            _ => self.unexpected(i, "a value"),
        }
    }

    /// Validate the object or array at `i`, `depth` levels deep, without looking into it.
    fn skip_container(&mut self, i: usize, depth: u32) -> R<usize> {
        let buf = self.buf;
        let depth = depth + 1;
        if depth > MAX_DEPTH {
            return self.too_deep(i);
        }
        let is_array = at(buf, i) == b'[';
        let close = if is_array { b']' } else { b'}' };
        let (mut i, mut b) = ws(buf, i + 1);
        if b == close {
            return Ok(i + 1);
        }
        loop {
            if !is_array {
                i = self.member_key(i, b)?;
                b = at(buf, i);
            }
            i = match b {
                b'"' => self.skip_string(i)?,
                b'{' | b'[' => self.skip_container(i, depth)?,
                _ => self.scalar(i, b)?,
            };
            (i, b) = ws(buf, i);
            if b == b',' {
                (i, b) = ws(buf, i + 1);
            } else if b == close {
                return Ok(i + 1);
            } else {
                return self.unexpected(i, if is_array { "',' or ']'" } else { "',' or '}'" });
            }
        }
    }

    /// A member's `"key" :` at `i` (first byte `b`) in a skipped object: the start of its value.
    #[inline(always)]
    fn member_key(&mut self, i: usize, b: u8) -> R<usize> {
        if b != b'"' {
            return self.unexpected(i, "'\"' (an object key)");
        }
        let (i, b) = ws(self.buf, self.skip_string(i)?);
        if b != b':' {
            return self.unexpected(i, "':'");
        }
        Ok(ws(self.buf, i + 1).0)
    }

    #[inline]
    fn literal(&mut self, i: usize, lit: &'static [u8]) -> R<usize> {
        if self.buf.get(i..i + lit.len()) == Some(lit) {
            return Ok(i + lit.len());
        }
        self.fail(i, "invalid literal")
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` at `i`, syntax only.
    fn number(&mut self, mut i: usize) -> R<usize> {
        let buf = self.buf;
        let digit = |i: usize| at(buf, i).is_ascii_digit();
        if at(buf, i) == b'-' {
            i += 1;
        }
        match at(buf, i) {
            b'0' => i += 1,
            b'1'..=b'9' => {
                i += 1;
                while digit(i) {
                    i += 1;
                }
            }
            _ => return self.fail(i, "invalid number"),
        }
        if at(buf, i) == b'.' {
            i += 1;
            if !digit(i) {
                return self.fail(i, "invalid number: expected a digit after '.'");
            }
            while digit(i) {
                i += 1;
            }
        }
        if matches!(at(buf, i), b'e' | b'E') {
            i += 1;
            if matches!(at(buf, i), b'+' | b'-') {
                i += 1;
            }
            if !digit(i) {
                return self.fail(i, "invalid number: expected a digit in the exponent");
            }
            while digit(i) {
                i += 1;
            }
        }
        Ok(i)
    }

    /// Validate the string at `i` (its opening quote): the index after its closing quote.
    #[inline(always)]
    fn skip_string(&mut self, i: usize) -> R<usize> {
        let end = self.next_special(i + 1);
        if at(self.buf, end) == b'"' {
            return Ok(end + 1);
        }
        self.string_slow(end)
    }

    /// [`skip_string`](Self::skip_string), also setting [`kind`](Self::kind) to [`ESCAPED`] |
    /// [`NON_ASCII`] as found in the string.
    #[inline(always)]
    fn scan_string(&mut self, i: usize) -> R<usize> {
        self.kind = 0;
        self.skip_string(i)
    }

    /// The rest of a string from `i` (inside it), byte class by byte class; sets the bits of
    /// [`kind`](Self::kind) for what it meets.
    fn string_slow(&mut self, mut i: usize) -> R<usize> {
        let buf = self.buf;
        loop {
            i = self.next_special(i);
            match buf.get(i) {
                Some(b'"') => return Ok(i + 1),
                Some(b'\\') => {
                    self.kind |= ESCAPED;
                    i = match at(buf, i + 1) {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i + 2,
                        _ => self.escape(i)?.0,
                    };
                }
                Some(&c) if c >= 0x80 => match utf8_char_end(buf, i) {
                    Some(end) => {
                        self.kind |= NON_ASCII;
                        i = end;
                    }
                    None => return self.fail(i, "invalid utf-8 in string"),
                },
                Some(_) => return self.fail(i, "control character in string (must be escaped)"),
                None => return self.fail(i, "unexpected end of input in string"),
            }
        }
    }

    /// The index of the first `"`, `\\`, control or non-ASCII byte at or after `i`, or the length
    /// of the input.
    #[inline(always)]
    fn next_special(&mut self, i: usize) -> usize {
        let offset = i.wrapping_sub(self.window_start);
        if offset < 64 {
            let m = self.window >> offset;
            if m != 0 {
                return i + m.trailing_zeros() as usize;
            }
        }
        self.slide(i)
    }

    /// [`next_special`](Self::next_special) when the window does not have the answer: move it.
    #[inline(never)]
    fn slide(&mut self, mut i: usize) -> usize {
        loop {
            let bits = match self.buf.get(i..).and_then(<[u8]>::first_chunk::<64>) {
                Some(chunk) => special_bits(chunk),
                None => {
                    // The last bytes, padded with spaces (not special).
                    let rest = self.buf.get(i..).unwrap_or_default();
                    let mut padded = [b' '; 64];
                    padded[..rest.len()].copy_from_slice(rest);
                    self.window = special_bits(&padded);
                    self.window_start = i;
                    return match self.window {
                        0 => self.buf.len(),
                        m => i + m.trailing_zeros() as usize,
                    };
                }
            };
            self.window_start = i;
            self.window = bits;
            if bits != 0 {
                return i + bits.trailing_zeros() as usize;
            }
            i += 64;
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

    #[cold]
    #[inline(never)]
    fn too_deep<T>(&mut self, i: usize) -> R<T> {
        self.fail(i, format!("nesting deeper than {MAX_DEPTH} levels"))
    }

    /// Stop: `what` was expected at `i`.
    #[cold]
    #[inline(never)]
    fn unexpected<T>(&mut self, i: usize, what: &str) -> R<T> {
        let message = match self.buf.get(i) {
            None => "unexpected end of input".to_owned(),
            Some(&c) if c.is_ascii_graphic() => format!("expected {what}, found '{}'", c as char),
            Some(&c) => format!("expected {what}, found byte 0x{c:02x}"),
        };
        self.fail(i, message)
    }
}

/// [`Scanner::scan_string`] found an escape.
const ESCAPED: u8 = 1;
/// [`Scanner::scan_string`] found a (valid) non-ASCII character.
const NON_ASCII: u8 = 2;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Bit `k` set when `chunk[k]` is `"`, `\\`, a control character or a non-ASCII byte.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn special_bits(chunk: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let mut bits = 0;
    for k in 0..4 {
        // SAFETY: the target has SSE2 (checked by the cfg above); the unaligned load reads the
        // 16 bytes of `chunk` from `16 * k`, all within its 64.
        let m = unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().add(16 * k).cast());
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            // Signed: below 0x20 is a control character or (negative) a byte >= 0x80.
            let other = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), other))
        };
        bits |= (m as u32 as u64) << (16 * k);
    }
    bits
}

/// [`special_bits`] without SSE2: eight bytes at a time in a word (SWAR).
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn special_bits(chunk: &[u8; 64]) -> u64 {
    special_bits_swar(chunk)
}

/// [`special_bits`] eight bytes at a time in a word: the high bit of each byte of the word is
/// computed exactly (no carry crosses bytes), then the eight high bits are gathered.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
#[inline(always)]
fn special_bits_swar(chunk: &[u8; 64]) -> u64 {
    let high = |x: u64| x & HIGHS;
    // High bit set in each byte of `x` that is zero.
    let zero = |x: u64| high(!(((x & !HIGHS) + !HIGHS) | x));
    let mut bits = 0;
    for (k, part) in chunk.chunks_exact(8).enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(part);
        let w = u64::from_le_bytes(b);
        let quote = zero(w ^ (ONES * b'"' as u64));
        let backslash = zero(w ^ (ONES * b'\\' as u64));
        let control = high(!((w & !HIGHS) + ONES * 0x60)) & !high(w);
        let m = (quote | backslash | control | high(w)) >> 7;
        // Gather bit 0 of each byte into the top byte, then down.
        bits |= (m.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    bits
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

    /// The reference of [`special_bits`].
    fn slow_bits(chunk: &[u8; 64]) -> u64 {
        let mut special = 0;
        for (k, &c) in chunk.iter().enumerate() {
            if c == b'"' || c == b'\\' || !(0x20..0x80).contains(&c) {
                special |= 1 << k;
            }
        }
        special
    }

    #[test]
    fn special_bits_are_exact() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let classes = [b'"', b'\\', 0, 0x1f, 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xbf, 0xc3, 0xff, b'a', b'.', b' '];
        for round in 0..20_000 {
            let mut chunk = [b'a'; 64];
            for c in chunk.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *c = if round % 2 == 0 { classes[(x % classes.len() as u64) as usize] } else { x as u8 };
            }
            assert_eq!(special_bits(&chunk), slow_bits(&chunk), "{chunk:02x?}");
            assert_eq!(special_bits_swar(&chunk), slow_bits(&chunk), "{chunk:02x?}");
        }
        for c in 0..=255u8 {
            let chunk = [c; 64];
            assert_eq!(special_bits(&chunk), slow_bits(&chunk), "{c:02x}");
            assert_eq!(special_bits_swar(&chunk), slow_bits(&chunk), "{c:02x}");
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
