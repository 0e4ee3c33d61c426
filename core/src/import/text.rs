//! Text import: one IOC per line, as feeds publish them.

use super::{excerpt, ImportDefaults, ImportReport, Progress, Rejected, Stage};
use crate::error::Result;
use crate::observable::{self, IndicatorValue};
use crate::store::{self, Store, ThreatRegistry};
use crate::time::Timestamp;
use rayon::prelude::*;

/// Lines parsed per progress report.
const CHUNK: usize = 32_768;

/// The value part of one line of a text feed, or `None` for a blank or comment line.
///
/// Strips a trailing `\r`, surrounding whitespace, and a trailing comment (whitespace then
/// `#`, as in many published feeds; a `#` inside a URL is kept). A line starting with `#` is a
/// comment.
pub fn split_text_line(line: &str) -> Option<&str> {
    let mut s = line.trim_end_matches(['\r', '\n']).trim();
    if s.is_empty() || s.starts_with('#') {
        return None;
    }
    let b = s.as_bytes();
    if let Some(i) = (1..b.len()).find(|&i| b[i] == b'#' && b[i - 1].is_ascii_whitespace()) {
        s = s[..i].trim_end();
    }
    Some(s)
}

enum Parsed {
    Skip,
    Value(IndicatorValue),
    Bad(String, String),
}

fn parse_line(raw: &[u8], kind: Option<observable::Kind>) -> Parsed {
    let line = match std::str::from_utf8(raw) {
        Ok(l) => l,
        Err(_) => {
            return Parsed::Bad(excerpt(&String::from_utf8_lossy(raw), 200), "line is not valid UTF-8".to_string())
        }
    };
    match split_text_line(line) {
        None => Parsed::Skip,
        Some(v) => match observable::parse_indicator(v, kind) {
            Ok(p) => Parsed::Value(p),
            Err(e) => Parsed::Bad(excerpt(v, 200), e.message().to_string()),
        },
    }
}

impl Store {
    /// Import a text feed into a collection: one IOC per line, every indicator with the
    /// properties of `defaults`. See [`Store::import_text_with_progress`].
    pub fn import_text(&self, collection: &str, input: &[u8], defaults: &ImportDefaults) -> Result<ImportReport> {
        self.import_text_with_progress(collection, input, defaults, &mut super::no_progress)
    }

    /// Import a text feed, reporting progress.
    ///
    /// Blank lines, `#` comment lines and trailing comments are skipped; defanged values are
    /// accepted; CRLF and a UTF-8 BOM are handled; several hashes of one file on one line form
    /// one indicator; `IP:port` and `[IPv6]:port` are IP indicators keeping the port. A line
    /// that cannot be read is rejected and reported; the others land. The whole import is one
    /// transaction.
    ///
    /// # Errors
    /// Not-found for the collection, validation for bad `defaults` (unknown threat, window,
    /// description), limit-exceeded when the new indicators would pass the community's limit
    /// (nothing is written then), storage errors.
    pub fn import_text_with_progress(
        &self,
        collection: &str,
        input: &[u8],
        defaults: &ImportDefaults,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        let now = Timestamp::now();
        // Check what needs no database before the long part.
        defaults.check(now)?;
        let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
        let lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
        let total = lines.len() as u64;
        let mut parsed: Vec<Parsed> = Vec::with_capacity(lines.len());
        for chunk in lines.chunks(CHUNK) {
            parsed.par_extend(chunk.par_iter().map(|l| parse_line(l, defaults.kind)));
            progress(Progress { stage: Stage::Parse, done: parsed.len() as u64, total });
        }

        let mut report = ImportReport::default();
        self.write(|tx| {
            let coll = store::collection_by_ref(tx, collection)?;
            let resolved = defaults.resolve(&ThreatRegistry::load(tx)?, now)?;
            let mut drafts = Vec::with_capacity(parsed.len());
            for (i, p) in parsed.into_iter().enumerate() {
                match p {
                    Parsed::Skip => {}
                    Parsed::Value(v) => {
                        report.lines += 1;
                        drafts.push(resolved.draft(v));
                    }
                    Parsed::Bad(text, reason) => {
                        report.lines += 1;
                        report.rejected.push(Rejected { line: i as u64 + 1, text, reason });
                    }
                }
            }
            let out = store::insert_drafts(tx, &coll, drafts, &mut |done, total| {
                progress(Progress { stage: Stage::Write, done, total })
            })?;
            report.imported = out.inserted;
            report.duplicates = out.duplicates;
            Ok(())
        })?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_line_endings() {
        assert_eq!(split_text_line("  evil.com  # C2 server\r"), Some("evil.com"));
        assert_eq!(split_text_line("http://a.com/x#frag"), Some("http://a.com/x#frag"));
        assert_eq!(split_text_line("# comment"), None);
        assert_eq!(split_text_line("   \r"), None);
        assert_eq!(split_text_line("1.2.3.4\t# scanner"), Some("1.2.3.4"));
    }
}
