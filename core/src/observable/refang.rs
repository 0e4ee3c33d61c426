//! Undo the usual defanging of indicators (`hxxp://evil[.]com`).

use std::borrow::Cow;

/// Undo the usual defanging of an indicator.
///
/// - `hxxp`, `hxxps` (any case, e.g. `hXXp`) become `http`, `https`, and `fxp` becomes `ftp`,
///   at the start of a word and followed by `:` or a bracket;
/// - `[.]`, `(.)`, `{.}`, `[dot]`, `(dot)`, `{dot}` (any case) become `.`, eating spaces
///   around them (`evil [.] com`);
/// - `[@]`, `(@)`, `{@}`, `[at]`, `(at)`, `{at}` become `@`, eating spaces around them;
/// - `[:]` becomes `:` (so `[:]//` becomes `://`), `[://]` becomes `://`, `[/]` becomes `/`.
///
/// Cheap when there is nothing to do: the input is returned borrowed.
///
/// # Examples
///
/// ```
/// use iocmatch::observable::refang;
/// assert_eq!(refang("hxxps[:]//evil[.]com/a"), "https://evil.com/a");
/// assert_eq!(refang("bob[at]evil(dot)com"), "bob@evil.com");
/// assert!(matches!(refang("evil.com"), std::borrow::Cow::Borrowed(_)));
/// ```
pub fn refang(s: &str) -> Cow<'_, str> {
    let b = s.as_bytes();
    if !b.iter().any(|&c| matches!(c, b'[' | b'(' | b'{' | b'x' | b'X')) {
        return Cow::Borrowed(s);
    }
    let mut out: Option<String> = None;
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        let found = match b[i] {
            b'[' | b'(' | b'{' => bracket(b, i),
            b'h' | b'H' | b'f' | b'F' if i == 0 || !b[i - 1].is_ascii_alphanumeric() => scheme(b, i),
            _ => None,
        };
        let Some((len, replacement, eat_spaces)) = found else {
            i += 1;
            continue;
        };
        let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
        o.push_str(&s[last..i]);
        if eat_spaces {
            while o.ends_with(' ') {
                o.pop();
            }
        }
        o.push_str(replacement);
        i += len;
        if eat_spaces {
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
        }
        last = i;
    }
    match out {
        None => Cow::Borrowed(s),
        Some(mut o) => {
            o.push_str(&s[last..]);
            Cow::Owned(o)
        }
    }
}

/// A bracketed marker at `b[i]` (an opening bracket): (bytes consumed, replacement, whether
/// to eat the spaces around it).
fn bracket(b: &[u8], i: usize) -> Option<(usize, &'static str, bool)> {
    let close = match b[i] {
        b'[' => b']',
        b'(' => b')',
        _ => b'}',
    };
    // The longest content is three bytes ("dot", "://").
    let end = b.iter().skip(i + 1).take(4).position(|&c| c == close)? + i + 1;
    let inner = &b[i + 1..end];
    let len = end + 1 - i;
    let (rep, eat) = if inner == b"." || inner.eq_ignore_ascii_case(b"dot") {
        (".", true)
    } else if inner == b"@" || inner.eq_ignore_ascii_case(b"at") {
        ("@", true)
    } else if inner == b":" {
        (":", false)
    } else if inner == b"://" {
        ("://", false)
    } else if inner == b"/" {
        ("/", false)
    } else {
        return None;
    };
    Some((len, rep, eat))
}

/// A defanged scheme (`hxxp`, `hxxps`, `fxp`) at `b[i]`, followed by `:` or a bracket.
fn scheme(b: &[u8], i: usize) -> Option<(usize, &'static str, bool)> {
    let rest = &b[i..];
    let starts = |p: &[u8]| {
        rest.len() > p.len()
            && rest[..p.len()].eq_ignore_ascii_case(p)
            && matches!(rest[p.len()], b':' | b'[' | b'(' | b'{')
    };
    if starts(b"hxxps") {
        Some((5, "https", false))
    } else if starts(b"hxxp") {
        Some((4, "http", false))
    } else if starts(b"fxp") {
        Some((3, "ftp", false))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refangs() {
        let cases = [
            ("hxxp://evil[.]com/a", "http://evil.com/a"),
            ("hXXps://evil(.)com", "https://evil.com"),
            ("HXXP[:]//evil{.}com", "http://evil.com"),
            ("hxxps[://]evil[dot]com", "https://evil.com"),
            ("fxp://files[.]evil[.]com", "ftp://files.evil.com"),
            ("evil [.] com", "evil.com"),
            ("evil (DOT) com", "evil.com"),
            ("bob[@]evil.com", "bob@evil.com"),
            ("bob [at] evil [dot] com", "bob@evil.com"),
            ("bob(at)evil{dot}com", "bob@evil.com"),
            ("bob{at}evil.com", "bob@evil.com"),
            ("1[.]2[.]3[.]4[:]80", "1.2.3.4:80"),
            ("http://evil.com[/]x", "http://evil.com/x"),
            ("(hxxp://a[.]b)", "(http://a.b)"),
        ];
        for (i, o) in cases {
            assert_eq!(refang(i), o, "{i}");
        }
    }

    #[test]
    fn leaves_alone() {
        for s in [
            "evil.com",
            "[2001:db8::1]:443",
            "[::1]",
            "xhxxp://a",
            "hxxpfoo",
            "box.example",
            "(x)",
            "[",
            "a[b",
            "hxxp",
            "xn--bcher-kva.de",
            "(...)",
        ] {
            assert_eq!(refang(s), s);
        }
        assert!(matches!(refang("evil.com"), Cow::Borrowed(_)));
        assert!(matches!(refang("xn--bcher-kva.de"), Cow::Borrowed(_)));
    }

    #[test]
    fn non_ascii_is_kept() {
        assert_eq!(refang("bücher[.]de"), "bücher.de");
        assert_eq!(refang("日本[.]jp"), "日本.jp");
        assert_eq!(refang("é[x"), "é[x");
    }
}
