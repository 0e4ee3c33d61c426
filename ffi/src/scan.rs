//! Streams: NDJSON events and raw-text lines, from a buffer or a read callback, matched in
//! parallel blocks with the results handed to a callback in input order.

use crate::error::{guard, lossless_cstring, FfiError, FfiResult};
use crate::handle;
use crate::matcher::iocmatch_matcher;
use crate::matches::{iocmatch_match_callback, CallbackSink};
use crate::result::iocmatch_result;
use crate::strings::{bytes_arg, write_out};
use iocmatch_core::matcher::{NdjsonItem, NdjsonSummary};
use iocmatch_core::{Error, ErrorKind, Timestamp};
use std::ffi::{c_char, c_int, c_void};
use std::io::Read;

/// Totals of a stream.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct iocmatch_stream_summary {
    /// Lines that held an event (raw text: non-blank lines).
    pub events: u64,
    /// Events with at least one match.
    pub matched_events: u64,
    /// Matches in all.
    pub matches: u64,
    /// Lines skipped because they were not JSON objects (always 0 for raw text).
    pub bad_lines: u64,
    /// Bytes read.
    pub bytes: u64,
}

impl From<NdjsonSummary> for iocmatch_stream_summary {
    fn from(s: NdjsonSummary) -> Self {
        iocmatch_stream_summary {
            events: s.events,
            matched_events: s.matched_events,
            matches: s.matches,
            bad_lines: s.bad_lines,
            bytes: s.bytes,
        }
    }
}

/// Reads up to `len` bytes into `buf` for a stream: writes the number read to `*read_out` (0 at
/// the end of the input) and returns 0, or returns non-zero on a read error (the stream then
/// fails with `IOCMATCH_RESULT_IO`). Called on the thread that called the stream function, with
/// its `read_userdata`; it must not unwind.
pub type iocmatch_read_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, buf: *mut u8, len: usize, read_out: *mut usize) -> c_int>;

/// Called for each NDJSON line that is not a JSON object (it is skipped), with its 1-based line
/// number and why (a NUL-terminated message valid during the call), on the calling thread, with
/// the stream's `userdata`. Return 0 to go on, anything else to stop (`IOCMATCH_RESULT_ABORTED`).
/// It must not unwind.
pub type iocmatch_bad_line_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, line: u64, message: *const c_char) -> c_int>;

/// A reader calling back into C.
struct CallbackReader {
    read: unsafe extern "C" fn(*mut c_void, *mut u8, usize, *mut usize) -> c_int,
    userdata: *mut c_void,
}

impl Read for CallbackReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0usize;
        // SAFETY: the caller's callback, given a buffer of `buf.len()` writable bytes.
        let rc = unsafe { (self.read)(self.userdata, buf.as_mut_ptr(), buf.len(), &mut n) };
        if rc != 0 {
            return Err(std::io::Error::other(format!("the read callback failed with code {rc}")));
        }
        if n > buf.len() {
            return Err(std::io::Error::other(format!(
                "the read callback said it read {n} bytes into a buffer of {}",
                buf.len()
            )));
        }
        Ok(n)
    }
}

/// Match a stream and hand the results to the callbacks; the summary, or why it stopped.
#[allow(clippy::too_many_arguments)]
unsafe fn run(
    matcher: *const iocmatch_matcher,
    input: impl FnOnce() -> FfiResult<Box<dyn Read>>,
    raw: bool,
    at: *const i64,
    callback: iocmatch_match_callback,
    bad_line: iocmatch_bad_line_callback,
    userdata: *mut c_void,
    summary_out: *mut iocmatch_stream_summary,
) -> iocmatch_result {
    guard(|| {
        let matcher = unsafe { handle(matcher, "matcher") }?;
        let input = input()?;
        let mut sink = CallbackSink::new(callback, userdata)?;
        // SAFETY: NULL or readable, by the caller's promise.
        let at = unsafe { at.as_ref() }.map(|s| Timestamp::from_secs(*s));
        let mut stopped: Option<FfiError> = None;
        let stop = |e: FfiError, stopped: &mut Option<FfiError>| {
            *stopped = Some(e);
            Error::new(ErrorKind::InvalidState, "stopped")
        };
        let mut on_item = |item: NdjsonItem<'_>| -> iocmatch_core::Result<()> {
            match item {
                NdjsonItem::Event { line, matches } => sink.deliver(matches, line).map_err(|e| stop(e, &mut stopped)),
                NdjsonItem::BadLine { line, error } => {
                    if let Some(cb) = bad_line {
                        let msg = lossless_cstring(error.message());
                        // SAFETY: the caller's callback; `msg` outlives the call.
                        if unsafe { cb(userdata, line, msg.as_ptr()) } != 0 {
                            return Err(stop(crate::matches::aborted(), &mut stopped));
                        }
                    }
                    Ok(())
                }
            }
        };
        let m = matcher.current()?;
        let result =
            if raw { m.scan_text_stream(input, at, &mut on_item) } else { m.match_ndjson(input, at, &mut on_item) };
        if let Some(e) = stopped {
            return Err(e);
        }
        let summary = result?;
        unsafe { write_out(summary_out, summary.into()) };
        Ok(())
    })
}

fn reader(read: iocmatch_read_callback, read_userdata: *mut c_void) -> FfiResult<Box<dyn Read>> {
    let read = read.ok_or_else(|| FfiError::null("read"))?;
    Ok(Box::new(CallbackReader { read, userdata: read_userdata }))
}

/// Match every line of an NDJSON buffer (`len` bytes; may be 0): one ECS event per line, lines
/// matched in parallel, each match handed to `callback` (not NULL) with `userdata` in input
/// order, on this thread, before the function returns (`event` in the match is the 1-based line
/// number). Blank lines are ignored; lines that are not JSON objects are skipped and handed to
/// `bad_line` (may be NULL). `at` as in `iocmatch_matcher_match_event`. When `summary_out` is
/// not NULL, `*summary_out` gets the totals.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `ABORTED` (a callback returned non-zero);
/// `STORAGE` (a live matcher that had to catch up). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matcher_match_ndjson(
    matcher: *const iocmatch_matcher,
    ndjson: *const u8,
    len: usize,
    at: *const i64,
    callback: iocmatch_match_callback,
    bad_line: iocmatch_bad_line_callback,
    userdata: *mut c_void,
    summary_out: *mut iocmatch_stream_summary,
) -> iocmatch_result {
    let input = || unsafe { bytes_arg(ndjson, len, "ndjson") }.map(|b| Box::new(b) as Box<dyn Read>);
    unsafe { run(matcher, input, false, at, callback, bad_line, userdata, summary_out) }
}

/// As `iocmatch_matcher_match_ndjson`, reading the NDJSON through `read` (not NULL, called with
/// `read_userdata` for blocks of a few MiB) until it reports the end: for stdin, a socket or a
/// file of any size.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `ABORTED`; `IO` (`read` failed); `STORAGE`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matcher_match_ndjson_stream(
    matcher: *const iocmatch_matcher,
    read: iocmatch_read_callback,
    read_userdata: *mut c_void,
    at: *const i64,
    callback: iocmatch_match_callback,
    bad_line: iocmatch_bad_line_callback,
    userdata: *mut c_void,
    summary_out: *mut iocmatch_stream_summary,
) -> iocmatch_result {
    let input = || reader(read, read_userdata);
    unsafe { run(matcher, input, false, at, callback, bad_line, userdata, summary_out) }
}

/// Scan every line of a raw-text buffer (`len` bytes; lines need not be UTF-8) as
/// `iocmatch_matcher_scan_text` does, lines in parallel, each match handed to `callback` (not
/// NULL) with `userdata` in input order, on this thread (`event` in the match is the 1-based
/// line number). Blank lines are skipped. Without `at`, every line is judged at one time (the
/// matcher's default time, taken once). When `summary_out` is not NULL, `*summary_out` gets the
/// totals.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `ABORTED`; `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matcher_scan_text_lines(
    matcher: *const iocmatch_matcher,
    text: *const u8,
    len: usize,
    at: *const i64,
    callback: iocmatch_match_callback,
    userdata: *mut c_void,
    summary_out: *mut iocmatch_stream_summary,
) -> iocmatch_result {
    let input = || unsafe { bytes_arg(text, len, "text") }.map(|b| Box::new(b) as Box<dyn Read>);
    unsafe { run(matcher, input, true, at, callback, None, userdata, summary_out) }
}

/// As `iocmatch_matcher_scan_text_lines`, reading the text through `read` (not NULL, called with
/// `read_userdata`) until it reports the end.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `ABORTED`; `IO` (`read` failed); `STORAGE`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matcher_scan_text_stream(
    matcher: *const iocmatch_matcher,
    read: iocmatch_read_callback,
    read_userdata: *mut c_void,
    at: *const i64,
    callback: iocmatch_match_callback,
    userdata: *mut c_void,
    summary_out: *mut iocmatch_stream_summary,
) -> iocmatch_result {
    let input = || reader(read, read_userdata);
    unsafe { run(matcher, input, true, at, callback, None, userdata, summary_out) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_reader_checks_what_it_is_told() {
        unsafe extern "C" fn liar(_: *mut c_void, _: *mut u8, len: usize, out: *mut usize) -> c_int {
            unsafe { *out = len + 1 };
            0
        }
        unsafe extern "C" fn failing(_: *mut c_void, _: *mut u8, _: usize, _: *mut usize) -> c_int {
            5
        }
        let mut buf = [0u8; 8];
        let e = CallbackReader { read: liar, userdata: std::ptr::null_mut() }.read(&mut buf).unwrap_err();
        assert!(e.to_string().contains("read 9 bytes into a buffer of 8"), "{e}");
        let e = CallbackReader { read: failing, userdata: std::ptr::null_mut() }.read(&mut buf).unwrap_err();
        assert!(e.to_string().contains("code 5"), "{e}");
        assert_eq!(reader(None, std::ptr::null_mut()).err().unwrap().code, iocmatch_result::NullParameter);
    }
}
