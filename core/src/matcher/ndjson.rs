//! NDJSON streams: blocks of lines matched in parallel, results delivered in input order.

use super::{bad_line, EventMatches, Matcher};
use crate::error::{Error, Result};
use crate::time::Timestamp;
use rayon::prelude::*;
use serde::Serialize;
use std::io::Read;

/// Bytes read per block: big enough to keep every thread busy, small enough to stay in cache.
const BLOCK: usize = 4 << 20;

/// One result of an NDJSON stream.
#[derive(Debug)]
pub enum NdjsonItem<'a> {
    /// A line that held an event, with its matches (possibly none).
    Event {
        /// 1-based line number.
        line: u64,
        /// The matches.
        matches: &'a EventMatches,
    },
    /// A line that is not a JSON object: skipped.
    BadLine {
        /// 1-based line number.
        line: u64,
        /// Why.
        error: &'a Error,
    },
}

/// Totals of an NDJSON stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NdjsonSummary {
    /// Lines that held an event.
    pub events: u64,
    /// Events with at least one match.
    pub matched_events: u64,
    /// Matches in all.
    pub matches: u64,
    /// Lines skipped because they were not JSON objects.
    pub bad_lines: u64,
    /// Bytes read.
    pub bytes: u64,
}

impl Matcher {
    /// Match every line of an NDJSON stream. Lines are matched in parallel and `sink` sees
    /// them in input order; blank lines are ignored, bad lines reported and skipped. `sink`
    /// may stop the stream by returning an error, which is returned.
    ///
    /// # Errors
    /// Reading errors, and whatever `sink` returns.
    pub fn match_ndjson<R: Read>(
        &self,
        input: R,
        at: Option<Timestamp>,
        sink: &mut dyn FnMut(NdjsonItem<'_>) -> Result<()>,
    ) -> Result<NdjsonSummary> {
        stream_lines(input, &|l: &[u8]| self.match_event(l, at), sink)
    }
}

/// Read a stream in blocks of whole lines, run `per_line` on the lines of a block in parallel
/// (blank lines skipped, a trailing `\r` dropped) and hand the results to `sink` in input
/// order, counting them.
pub(crate) fn stream_lines<R: Read>(
    mut input: R,
    per_line: &(dyn Fn(&[u8]) -> Result<EventMatches> + Sync),
    sink: &mut dyn FnMut(NdjsonItem<'_>) -> Result<()>,
) -> Result<NdjsonSummary> {
    let mut sum = NdjsonSummary::default();
    // `buf[..len]` holds unread bytes; the buffer only grows (and is zeroed only when it does)
    let mut buf: Vec<u8> = Vec::new();
    let mut len = 0;
    let mut line_no = 0u64;
    let mut eof = false;
    while !eof {
        // fill the block
        let start = len;
        if buf.len() < start + BLOCK {
            buf.resize(start + BLOCK, 0);
        }
        let mut filled = start;
        while filled < start + BLOCK {
            match input.read(&mut buf[filled..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
        len = filled;
        sum.bytes += (filled - start) as u64;
        // complete lines only, unless at the end
        let cut = if eof { len } else { memchr::memrchr(b'\n', &buf[..len]).map_or(0, |i| i + 1) };
        if cut == 0 && !eof {
            continue; // one line longer than the block: read on
        }
        let lines = split_lines(&buf[..cut]);
        let results: Vec<Option<Result<EventMatches>>> = lines
            .par_iter()
            .with_min_len(256)
            .map(|l| {
                let l = l.strip_suffix(b"\r").unwrap_or(l);
                if l.iter().all(u8::is_ascii_whitespace) {
                    None
                } else {
                    Some(per_line(l))
                }
            })
            .collect();
        for r in results {
            line_no += 1;
            match r {
                None => {}
                Some(Ok(m)) => {
                    sum.events += 1;
                    if !m.matches.is_empty() {
                        sum.matched_events += 1;
                        sum.matches += m.matches.len() as u64;
                    }
                    sink(NdjsonItem::Event { line: line_no, matches: &m })?;
                }
                Some(Err(e)) => {
                    sum.bad_lines += 1;
                    let e = bad_line(line_no, e);
                    sink(NdjsonItem::BadLine { line: line_no, error: &e })?;
                }
            }
        }
        buf.copy_within(cut..len, 0);
        len -= cut;
    }
    Ok(sum)
}

/// The lines of a block (without their `\n`; a last line without one is kept).
pub(crate) fn split_lines(block: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::with_capacity(block.len() / 512 + 1);
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', block) {
        lines.push(&block[start..nl]);
        start = nl + 1;
    }
    if start < block.len() {
        lines.push(&block[start..]);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::TimeSource;
    use crate::time::Timestamp;
    use std::sync::Mutex;

    /// A reader that hands out at most `step` bytes per call.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.data.len().min(self.step).min(out.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn lines_cross_blocks_and_reads_intact() {
        // lines longer than a block, a last line without a newline, CRLF, blank lines
        let long = "x".repeat(BLOCK + 12_345);
        let lines: Vec<String> = vec![
            "a".into(),
            long.clone(),
            "".into(),
            "bb\r".into(),
            long.clone() + "y",
            "c".repeat(100),
            "tail".into(),
        ];
        let text = lines.join("\n");
        for step in [7, 1 << 16, usize::MAX] {
            let seen = Mutex::new(Vec::new());
            let per_line = |l: &[u8]| {
                seen.lock().unwrap().push(l.to_vec());
                Ok(EventMatches { matches: Vec::new(), time: Timestamp(0), time_source: TimeSource::Caller })
            };
            let mut order = Vec::new();
            let sum = stream_lines(Trickle { data: text.as_bytes(), step }, &per_line, &mut |item| {
                if let NdjsonItem::Event { line, .. } = item {
                    order.push(line);
                }
                Ok(())
            })
            .unwrap();
            assert_eq!(sum.bytes, text.len() as u64, "step {step}");
            assert_eq!(order, vec![1, 2, 4, 5, 6, 7], "step {step}");
            let mut got = seen.into_inner().unwrap();
            got.sort();
            let mut want: Vec<Vec<u8>> = ["a", &long, "bb", &(long.clone() + "y"), &"c".repeat(100), "tail"]
                .iter()
                .map(|s| s.as_bytes().to_vec())
                .collect();
            want.sort();
            assert_eq!(got, want, "step {step}");
        }
    }
}
