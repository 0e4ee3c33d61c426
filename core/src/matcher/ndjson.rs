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
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK * 2);
    let mut line_no = 0u64;
    let mut eof = false;
    while !eof {
        // fill the block
        let start = buf.len();
        buf.resize(start + BLOCK, 0);
        let mut filled = start;
        while filled < buf.len() {
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
        buf.truncate(filled);
        sum.bytes += (filled - start) as u64;
        // complete lines only, unless at the end
        let cut = if eof { buf.len() } else { memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1) };
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
        buf.drain(..cut);
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
