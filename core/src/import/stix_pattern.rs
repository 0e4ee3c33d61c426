//! A parser for the part of the STIX 2.1 patterning language an indicator store can hold: a
//! disjunction (`OR`) of observations and comparisons, where each disjunct is one comparison or
//! an `AND` of comparisons. Everything else (observation `AND`/`FOLLOWEDBY`, qualifiers, `AND`
//! over `OR`) is refused with a reason; nothing here panics on bad input.

/// The deepest parenthesis nesting accepted.
const MAX_DEPTH: usize = 32;
/// The most disjuncts one pattern may expand to.
const MAX_DISJUNCTS: usize = 10_000;

/// One comparison: `type:path op literal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Comparison {
    /// The object type (`ipv4-addr`).
    pub object: String,
    /// The property path, quotes removed (`["hashes", "SHA-256"]`).
    pub path: Vec<String>,
    /// The operator, upper-case (`=`, `ISSUBSET`, `LIKE`…), with `NOT ` in front when negated.
    pub op: String,
    /// The literal: the string's text, or the raw token of another literal.
    pub value: String,
    /// Whether the literal was a string.
    pub is_string: bool,
}

impl Comparison {
    /// The comparison as text, for reports.
    pub fn shown(&self) -> String {
        let v = if self.is_string { format!("'{}'", self.value) } else { self.value.clone() };
        format!("{}:{} {} {v}", self.object, self.path.join("."), self.op)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    LParen,
    RParen,
    Str(String),
    Path(String, Vec<String>),
    Word(String),
    Op(String),
}

fn lex(p: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = p.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let quoted = |i: &mut usize, q: char| -> Result<String, String> {
        // c[*i] is the opening quote.
        let mut s = String::new();
        *i += 1;
        while *i < c.len() {
            match c[*i] {
                '\\' if *i + 1 < c.len() => {
                    s.push(c[*i + 1]);
                    *i += 2;
                }
                ch if ch == q => {
                    *i += 1;
                    return Ok(s);
                }
                ch => {
                    s.push(ch);
                    *i += 1;
                }
            }
        }
        Err("unterminated string literal".to_string())
    };
    while i < c.len() {
        let ch = c[i];
        match ch {
            _ if ch.is_whitespace() => i += 1,
            '[' => {
                out.push(Tok::Open);
                i += 1
            }
            ']' => {
                out.push(Tok::Close);
                i += 1
            }
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            '\'' | '"' => out.push(Tok::Str(quoted(&mut i, ch)?)),
            '=' | '!' | '<' | '>' => {
                let two = c.get(i + 1) == Some(&'=');
                let op: String = if two { [ch, '='].iter().collect() } else { ch.to_string() };
                if op == "!" {
                    return Err("unexpected '!'".to_string());
                }
                i += op.chars().count();
                out.push(Tok::Op(op));
            }
            _ if ch.is_alphanumeric() || ch == '_' || ch == '-' || ch == '.' || ch == '+' => {
                // A typed literal: b'…', h'…', t'…'.
                if matches!(ch, 'b' | 'h' | 't') && matches!(c.get(i + 1), Some('\'')) {
                    i += 1;
                    let s = quoted(&mut i, '\'')?;
                    out.push(Tok::Word(format!("{ch}'{s}'")));
                    continue;
                }
                let mut raw = String::new();
                let mut segs: Vec<String> = Vec::new();
                let mut cur = String::new();
                loop {
                    while i < c.len() && (c[i].is_alphanumeric() || "_-.:*+".contains(c[i])) {
                        raw.push(c[i]);
                        if c[i] == '.' {
                            segs.push(std::mem::take(&mut cur));
                        } else {
                            cur.push(c[i]);
                        }
                        i += 1;
                    }
                    // A quoted segment: `hashes.'SHA-256'`.
                    if i > 0 && c[i - 1] == '.' && matches!(c.get(i), Some('\'') | Some('"')) {
                        let quote = c[i];
                        let q = quoted(&mut i, quote)?;
                        raw.push_str(&q);
                        cur = q;
                        continue;
                    }
                    // A list index: `to_refs[*]`.
                    if c.get(i) == Some(&'[') && !cur.is_empty() {
                        if let Some(e) = c[i..].iter().position(|&x| x == ']').map(|e| i + e) {
                            if e > i + 1 && c[i + 1..e].iter().all(|x| x.is_ascii_digit() || *x == '*') {
                                let idx: String = c[i..=e].iter().collect();
                                cur.push_str(&idx);
                                raw.push_str(&idx);
                                i = e + 1;
                                continue;
                            }
                        }
                    }
                    break;
                }
                segs.push(cur);
                match segs[0].split_once(':') {
                    None => out.push(Tok::Word(raw)),
                    Some((object, first)) => {
                        let object = object.to_string();
                        segs[0] = first.to_string();
                        segs.retain(|s| !s.is_empty());
                        out.push(Tok::Path(object, segs));
                    }
                }
            }
            other => return Err(format!("unexpected character '{other}'")),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

type Dnf = Vec<Vec<Comparison>>;

fn is_kw(t: Option<&Tok>, kw: &str) -> bool {
    matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    fn observation_or(&mut self) -> Result<Dnf, String> {
        let mut out = self.observation()?;
        loop {
            match self.peek() {
                t if is_kw(t, "OR") => {
                    self.pos += 1;
                    out.extend(self.observation()?);
                    if out.len() > MAX_DISJUNCTS {
                        return Err(format!("more than {MAX_DISJUNCTS} alternatives"));
                    }
                }
                t if is_kw(t, "AND") => return Err("an AND of observations is not supported".to_string()),
                t if is_kw(t, "FOLLOWEDBY") => return Err("FOLLOWEDBY is not supported".to_string()),
                _ => return Ok(out),
            }
        }
    }

    fn qualifiers(&mut self) -> Result<(), String> {
        for q in ["WITHIN", "REPEATS", "START"] {
            if is_kw(self.peek(), q) {
                return Err(format!("the {q} qualifier is not supported"));
            }
        }
        Ok(())
    }

    fn observation(&mut self) -> Result<Dnf, String> {
        self.enter()?;
        let out = match self.next() {
            Some(Tok::Open) => {
                let d = self.comparison_or()?;
                match self.next() {
                    Some(Tok::Close) => one_file(d),
                    _ => return Err("expected ']'".to_string()),
                }
            }
            Some(Tok::LParen) => {
                let d = self.observation_or()?;
                match self.next() {
                    Some(Tok::RParen) => d,
                    _ => return Err("expected ')'".to_string()),
                }
            }
            _ => return Err("expected '[' to open an observation".to_string()),
        };
        self.qualifiers()?;
        self.depth -= 1;
        Ok(out)
    }

    fn comparison_or(&mut self) -> Result<Dnf, String> {
        let mut out = self.comparison_and()?;
        while is_kw(self.peek(), "OR") {
            self.pos += 1;
            out.extend(self.comparison_and()?);
            if out.len() > MAX_DISJUNCTS {
                return Err(format!("more than {MAX_DISJUNCTS} alternatives"));
            }
        }
        Ok(out)
    }

    fn comparison_and(&mut self) -> Result<Dnf, String> {
        let mut out = self.comparison_primary()?;
        while is_kw(self.peek(), "AND") {
            self.pos += 1;
            let right = self.comparison_primary()?;
            if out.len() > 1 || right.len() > 1 {
                return Err("an AND over alternatives (OR) is not supported".to_string());
            }
            if let (Some(l), Some(r)) = (out.first_mut(), right.into_iter().next()) {
                l.extend(r);
            }
        }
        Ok(out)
    }

    fn comparison_primary(&mut self) -> Result<Dnf, String> {
        match self.next() {
            Some(Tok::LParen) => {
                self.enter()?;
                let d = self.comparison_or()?;
                if self.next() != Some(Tok::RParen) {
                    return Err("expected ')'".to_string());
                }
                self.depth -= 1;
                Ok(d)
            }
            Some(Tok::Path(object, path)) => {
                let mut op = String::new();
                if is_kw(self.peek(), "NOT") {
                    self.pos += 1;
                    op.push_str("NOT ");
                }
                match self.next() {
                    Some(Tok::Op(o)) => op.push_str(&o),
                    Some(Tok::Word(w)) => op.push_str(&w.to_ascii_uppercase()),
                    _ => return Err(format!("expected an operator after {object}:{}", path.join("."))),
                }
                let (value, is_string) = match self.next() {
                    Some(Tok::Str(s)) => (s, true),
                    Some(Tok::Word(w)) => (w, false),
                    Some(Tok::LParen) => {
                        // A set literal: ('a', 'b'); kept as its raw text.
                        let mut parts = Vec::new();
                        loop {
                            match self.next() {
                                Some(Tok::RParen) => break,
                                Some(Tok::Str(s)) => parts.push(format!("'{s}'")),
                                Some(Tok::Word(w)) => parts.push(w),
                                _ => return Err("unterminated set literal".to_string()),
                            }
                        }
                        (format!("({})", parts.join(", ")), false)
                    }
                    _ => return Err(format!("expected a literal after {object}:{} {op}", path.join("."))),
                };
                Ok(vec![vec![Comparison { object, path, op, value, is_string }]])
            }
            Some(t) => Err(format!("expected a comparison, found {t:?}")),
            None => Err("the pattern ends too early".to_string()),
        }
    }
}

/// The alternatives of one observation, made one conjunction when they are all hashes of
/// different types (`[file:hashes.MD5 = 'a' OR file:hashes.'SHA-1' = 'b']`: the hashes of one
/// file, matched by any of them, as a multi-hash indicator is).
fn one_file(d: Dnf) -> Dnf {
    if d.len() < 2 {
        return d;
    }
    let mut names = Vec::new();
    for alt in &d {
        match alt.as_slice() {
            [c] if c.object == "file" && c.op == "=" && c.is_string && c.path.len() == 2 && c.path[0] == "hashes" => {
                let n = c.path[1].to_ascii_uppercase().replace(['-', '_'], "");
                if names.contains(&n) {
                    return d;
                }
                names.push(n);
            }
            _ => return d,
        }
    }
    vec![d.into_iter().flatten().collect()]
}

/// Parse a STIX pattern into its disjuncts, each a conjunction of comparisons.
///
/// # Errors
/// Why the pattern cannot be read, or uses what is not supported.
pub(crate) fn parse(pattern: &str) -> Result<Vec<Vec<Comparison>>, String> {
    let toks = lex(pattern)?;
    if toks.is_empty() {
        return Err("empty pattern".to_string());
    }
    let mut p = Parser { toks, pos: 0, depth: 0 };
    let out = p.observation_or()?;
    if p.pos < p.toks.len() {
        return Err(format!("unexpected {:?} after the pattern", p.toks[p.pos]));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text gives an answer, never a panic; text made of pattern pieces too.
        #[test]
        fn never_panics(s in "\\PC{0,80}", t in "([\\[\\]()'\"=. :]|AND|OR|file|hashes|MD5|ISSUBSET|a){0,40}") {
            let _ = parse(&s);
            let _ = parse(&t);
        }
    }

    fn one(p: &str) -> Comparison {
        let d = parse(p).unwrap();
        assert_eq!(d.len(), 1, "{p}");
        assert_eq!(d[0].len(), 1, "{p}");
        d[0][0].clone()
    }

    #[test]
    fn paths_and_quotes() {
        let c = one("[file:hashes.'SHA-256' = 'ab']");
        assert_eq!(
            (c.object.as_str(), c.path.clone(), c.value.as_str()),
            ("file", vec!["hashes".into(), "SHA-256".into()], "ab")
        );
        assert_eq!(one("[file:hashes.\"SHA-1\" = \"ab\"]").path[1], "SHA-1");
        assert_eq!(one("[file:hashes.MD5='ab']").path[1], "MD5");
        assert_eq!(one("[ipv4-addr:value ISSUBSET '10.0.0.0/8']").op, "ISSUBSET");
        assert_eq!(one("[url:value = 'http://a/\\'x']").value, "http://a/'x");
        assert_eq!(one("[email-message:to_refs[*].value = 'a@b.c']").path, vec!["to_refs[*]", "value"]);
        assert_eq!(one("[file:name NOT = 'x']").op, "NOT =");
    }

    #[test]
    fn disjunctions() {
        let d =
            parse("[ipv4-addr:value = '1.2.3.4' OR domain-name:value = 'a.com'] OR [url:value = 'http://x/']").unwrap();
        assert_eq!(d.len(), 3);
        let d = parse("[file:hashes.MD5 = 'a' AND file:hashes.'SHA-1' = 'b']").unwrap();
        assert_eq!((d.len(), d[0].len()), (1, 2));
        assert_eq!(parse("([a:value = '1']) OR ([a:value = '2'])").unwrap().len(), 2);
        // hashes of different types in one observation: one file
        let d = parse("[file:hashes.MD5 = 'a' OR file:hashes.'SHA-1' = 'b']").unwrap();
        assert_eq!((d.len(), d[0].len()), (1, 2));
        // two of one type: two files
        assert_eq!(parse("[file:hashes.MD5 = 'a' OR file:hashes.md5 = 'b']").unwrap().len(), 2);
    }

    #[test]
    fn refusals() {
        for (p, why) in [
            ("[a:value = '1'] AND [b:value = '2']", "AND of observations"),
            ("[a:value = '1'] FOLLOWEDBY [b:value = '2']", "FOLLOWEDBY"),
            ("[a:value = '1'] WITHIN 5 SECONDS", "WITHIN"),
            ("[a:value = '1' AND (b:value = '2' OR c:value = '3')]", "AND over"),
            ("[a:value = 'unterminated]", "unterminated"),
            ("[a:value = '1'", "expected ']'"),
            ("", "empty"),
            ("[a:value = '1'] junk", "after the pattern"),
            ("[[[[", "expected a comparison"),
        ] {
            let e = parse(p).unwrap_err();
            assert!(e.contains(why), "{p}: {e}");
        }
        let deep = format!("{}[a:value = '1']{}", "(".repeat(100), ")".repeat(100));
        assert!(parse(&deep).unwrap_err().contains("nested"));
    }
}
