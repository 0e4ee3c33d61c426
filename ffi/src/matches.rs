//! Match results: one match as a borrowed C struct (what callbacks receive), and the owned list
//! of matches of one event or a batch, with accessors.

use crate::error::{guard, guard_value, FfiError, FfiResult};
use crate::result::{iocmatch_kind, iocmatch_result, iocmatch_time_source};
use crate::strings::{check_out, iocmatch_str, write_json, write_out, Arena, Span};
use crate::{free_handle, handle};
use iocmatch_core::{EventMatches, Match};
use serde::Serialize;
use std::ffi::{c_char, c_int, c_void, CString};

/// One indicator found in one event (or line). Every string is borrowed: valid during the
/// callback that receives the struct, or until the list it was read from is freed. Each
/// `iocmatch_str` is UTF-8 followed by a NUL.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct iocmatch_match {
    /// The indicator's id, `indicator--<uuid>`.
    pub indicator_id: iocmatch_str,
    /// Its collection's id, `ioc-collection--<uuid>`.
    pub collection_id: iocmatch_str,
    /// The kind of the indicator's observable.
    pub kind: iocmatch_kind,
    /// The indicator's normalised observable (the parent domain of a sub-domain match, the
    /// range of a CIDR match).
    pub observable: iocmatch_str,
    /// The event field it was found in (`"raw"` for raw text).
    pub field: iocmatch_str,
    /// The value as it was in the event.
    pub value: iocmatch_str,
    /// Byte offset of the value: of its opening quote in a JSON event, of the token in a line of
    /// raw text; for field pairs, the pair's position.
    pub offset: usize,
    /// Which event: its 0-based position in a batch (0 for a single event), or its 1-based line
    /// number in an NDJSON or text stream.
    pub event: u64,
    /// The time the event was matched at, in seconds since the Unix epoch.
    pub time: i64,
    /// Where that time came from.
    pub time_source: iocmatch_time_source,
}

/// Called once per match, in input order, on the thread that called the matching function,
/// with the `userdata` given to it. `m` and its strings are valid during the call only.
/// Return 0 to go on, anything else to stop: the matching function then returns
/// `IOCMATCH_RESULT_ABORTED`. It must not unwind (no C++ exception, no longjmp); it may call the
/// library (another matcher function included).
pub type iocmatch_match_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, m: *const iocmatch_match) -> c_int>;

/// One match with its strings in an arena.
#[derive(Debug, Clone, Copy)]
struct Row {
    strings: [Span; 5],
    kind: iocmatch_kind,
    offset: usize,
    event: u64,
}

/// What happened to one event of a list.
#[derive(Debug)]
struct EventRow {
    result: iocmatch_result,
    error: Option<CString>,
    time: i64,
    time_source: iocmatch_time_source,
}

/// The matches of one event or of a batch of events, in input order; owned by the caller, freed
/// with `iocmatch_matches_free`. Immutable: any thread may read it, at once. Strings read from
/// it are borrowed and valid until it is freed.
#[derive(Debug, Default)]
pub struct iocmatch_matches {
    arena: Arena,
    rows: Vec<Row>,
    events: Vec<EventRow>,
    /// The matches as core gave them, for JSON.
    json: Vec<JsonMatch>,
}

#[derive(Debug, Serialize)]
struct JsonMatch {
    event: u64,
    #[serde(flatten)]
    m: Match,
    time: String,
    time_source: iocmatch_core::TimeSource,
}

impl Row {
    fn push(arena: &mut Arena, m: &Match, event: u64) -> Row {
        Row {
            strings: [
                arena.push(&m.indicator_id),
                arena.push(&m.collection_id),
                arena.push(&m.observable),
                arena.push(&m.field),
                arena.push(&m.value),
            ],
            kind: m.kind.into(),
            offset: m.offset,
            event,
        }
    }

    fn view(&self, arena: &Arena, time: i64, time_source: iocmatch_time_source) -> iocmatch_match {
        let [id, coll, obs, field, value] = self.strings.map(|s| arena.view(s));
        iocmatch_match {
            indicator_id: id,
            collection_id: coll,
            kind: self.kind,
            observable: obs,
            field,
            value,
            offset: self.offset,
            event: self.event,
            time,
            time_source,
        }
    }
}

impl iocmatch_matches {
    /// Add the matches of one event.
    pub(crate) fn push_event(&mut self, found: EventMatches) {
        let event = self.events.len() as u64;
        for m in &found.matches {
            self.rows.push(Row::push(&mut self.arena, m, event));
        }
        let (time, source) = (found.time, found.time_source);
        self.json.extend(found.matches.into_iter().map(|m| JsonMatch {
            event,
            m,
            time: time.to_rfc3339(),
            time_source: source,
        }));
        self.events.push(EventRow {
            result: iocmatch_result::Ok,
            error: None,
            time: time.secs(),
            time_source: source.into(),
        });
    }

    /// Add an event that could not be matched.
    pub(crate) fn push_failed(&mut self, e: &FfiError) {
        self.events.push(EventRow {
            result: e.code,
            error: Some(crate::error::lossless_cstring(&e.message)),
            time: 0,
            time_source: iocmatch_time_source::None,
        });
    }

    fn get(&self, i: usize) -> Option<iocmatch_match> {
        let row = self.rows.get(i)?;
        let ev = self.events.get(row.event as usize)?;
        Some(row.view(&self.arena, ev.time, ev.time_source))
    }

    fn string(&self, i: usize, which: usize) -> *const c_char {
        self.rows.get(i).map_or(std::ptr::null(), |r| self.arena.view(r.strings[which]).data)
    }
}

/// Hands matches to a C callback, one borrowed struct at a time.
pub(crate) struct CallbackSink {
    callback: unsafe extern "C" fn(*mut c_void, *const iocmatch_match) -> c_int,
    userdata: *mut c_void,
    scratch: Arena,
}

impl CallbackSink {
    /// A sink for `callback` (which must not be NULL) and `userdata`.
    pub fn new(callback: iocmatch_match_callback, userdata: *mut c_void) -> FfiResult<CallbackSink> {
        let callback = callback.ok_or_else(|| FfiError::null("callback"))?;
        Ok(CallbackSink { callback, userdata, scratch: Arena::default() })
    }

    /// Call back once per match of `found` (event `event`); `Err(ABORTED)` when the callback
    /// asks to stop.
    pub fn deliver(&mut self, found: &EventMatches, event: u64) -> FfiResult<()> {
        let (time, source) = (found.time.secs(), found.time_source.into());
        for m in &found.matches {
            self.scratch.clear();
            let row = Row::push(&mut self.scratch, m, event);
            let view = row.view(&self.scratch, time, source);
            // SAFETY: the caller's callback, called as the header says; `view` outlives the call.
            if unsafe { (self.callback)(self.userdata, &view) } != 0 {
                return Err(aborted());
            }
        }
        Ok(())
    }
}

/// The error of a callback that asked to stop.
pub(crate) fn aborted() -> FfiError {
    FfiError::new(iocmatch_result::Aborted, "stopped by the callback")
}

/// Number of matches in the list; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matches_count(list: *const iocmatch_matches) -> usize {
    guard_value(0, || unsafe { list.as_ref() }.map_or(0, |l| l.rows.len()))
}

/// Match `i` (0-based, below `iocmatch_matches_count`), written to `*match_out`; its strings
/// are borrowed from the list (valid until it is freed).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_ARGUMENT` (`i` out of range).
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matches_get(
    list: *const iocmatch_matches,
    i: usize,
    match_out: *mut iocmatch_match,
) -> iocmatch_result {
    guard(|| {
        let list = unsafe { handle(list, "list") }?;
        check_out(match_out, "match_out")?;
        let m = list.get(i).ok_or_else(|| {
            FfiError::argument(format!("match {i} is out of range: the list holds {}", list.rows.len()))
        })?;
        unsafe { write_out(match_out, m) };
        Ok(())
    })
}

/// The indicator id of match `i`, NUL-terminated, borrowed from the list (valid until it is
/// freed); NULL when `list` is NULL or `i` out of range.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matches_indicator_id(list: *const iocmatch_matches, i: usize) -> *const c_char {
    guard_value(std::ptr::null(), || unsafe { list.as_ref() }.map_or(std::ptr::null(), |l| l.string(i, 0)))
}

/// The collection id of match `i`; as `iocmatch_matches_indicator_id`.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matches_collection_id(list: *const iocmatch_matches, i: usize) -> *const c_char {
    guard_value(std::ptr::null(), || unsafe { list.as_ref() }.map_or(std::ptr::null(), |l| l.string(i, 1)))
}

/// The indicator's normalised observable of match `i`; as `iocmatch_matches_indicator_id`.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matches_observable(list: *const iocmatch_matches, i: usize) -> *const c_char {
    guard_value(std::ptr::null(), || unsafe { list.as_ref() }.map_or(std::ptr::null(), |l| l.string(i, 2)))
}

/// The event field of match `i`; as `iocmatch_matches_indicator_id`.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matches_field(list: *const iocmatch_matches, i: usize) -> *const c_char {
    guard_value(std::ptr::null(), || unsafe { list.as_ref() }.map_or(std::ptr::null(), |l| l.string(i, 3)))
}

/// The event's value of match `i`, as a C string; as `iocmatch_matches_indicator_id`. (A value
/// holding a NUL byte ends there as a C string: `iocmatch_matches_get` gives its length.)
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matches_value(list: *const iocmatch_matches, i: usize) -> *const c_char {
    guard_value(std::ptr::null(), || unsafe { list.as_ref() }.map_or(std::ptr::null(), |l| l.string(i, 4)))
}

/// The kind of match `i`; `IOCMATCH_KIND_NONE` when `list` is NULL or `i` out of range.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matches_kind(list: *const iocmatch_matches, i: usize) -> iocmatch_kind {
    guard_value(iocmatch_kind::None, || {
        unsafe { list.as_ref() }.and_then(|l| l.rows.get(i)).map_or(iocmatch_kind::None, |r| r.kind)
    })
}

/// The offset of match `i`'s value (as `iocmatch_match.offset`); 0 when `list` is NULL or `i`
/// out of range.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matches_offset(list: *const iocmatch_matches, i: usize) -> usize {
    guard_value(0, || unsafe { list.as_ref() }.and_then(|l| l.rows.get(i)).map_or(0, |r| r.offset))
}

/// The 0-based position in the batch of the event of match `i` (0 for a single event); 0 when
/// `list` is NULL or `i` out of range.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matches_event(list: *const iocmatch_matches, i: usize) -> u64 {
    guard_value(0, || unsafe { list.as_ref() }.and_then(|l| l.rows.get(i)).map_or(0, |r| r.event))
}

/// Number of events the list is about (1 for a single event, the batch size for a batch); 0
/// for NULL.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matches_event_count(list: *const iocmatch_matches) -> usize {
    guard_value(0, || unsafe { list.as_ref() }.map_or(0, |l| l.events.len()))
}

/// Whether event `e` of a batch could be matched: `IOCMATCH_RESULT_OK`, or why not (e.g.
/// `IOCMATCH_RESULT_VALIDATION` for an event that is not a JSON object). `INVALID_ARGUMENT` when
/// `e` is out of range, `NULL_PARAMETER` when `list` is NULL. Sets no last error.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matches_event_result(list: *const iocmatch_matches, e: usize) -> iocmatch_result {
    guard_value(iocmatch_result::Panic, || match unsafe { list.as_ref() } {
        None => iocmatch_result::NullParameter,
        Some(l) => l.events.get(e).map_or(iocmatch_result::InvalidArgument, |ev| ev.result),
    })
}

/// Why event `e` could not be matched, NUL-terminated, borrowed from the list (valid until it is
/// freed); NULL when it was matched, `list` is NULL or `e` out of range.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matches_event_error(list: *const iocmatch_matches, e: usize) -> *const c_char {
    guard_value(std::ptr::null(), || {
        unsafe { list.as_ref() }
            .and_then(|l| l.events.get(e))
            .and_then(|ev| ev.error.as_ref())
            .map_or(std::ptr::null(), |m| m.as_ptr())
    })
}

/// The time event `e` was matched at, in seconds since the Unix epoch; 0 when it could not be
/// matched, `list` is NULL or `e` out of range.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matches_event_time(list: *const iocmatch_matches, e: usize) -> i64 {
    guard_value(0, || unsafe { list.as_ref() }.and_then(|l| l.events.get(e)).map_or(0, |ev| ev.time))
}

/// Where event `e`'s time came from; `IOCMATCH_TIME_SOURCE_NONE` when it could not be matched,
/// `list` is NULL or `e` out of range.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matches_event_time_source(
    list: *const iocmatch_matches,
    e: usize,
) -> iocmatch_time_source {
    guard_value(iocmatch_time_source::None, || {
        unsafe { list.as_ref() }.and_then(|l| l.events.get(e)).map_or(iocmatch_time_source::None, |ev| ev.time_source)
    })
}

/// The matches as a JSON array: `[{"event", "indicator_id", "collection_id", "kind",
/// "observable", "field", "value", "offset", "time", "time_source"}]`.
///
/// On success `*json_out` is owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matches_to_json(
    list: *const iocmatch_matches,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let list = unsafe { handle(list, "list") }?;
        check_out(json_out, "json_out")?;
        unsafe { write_json(json_out, &list.json) }
    })
}

/// Free a match list. NULL is ignored. Strings borrowed from it are gone after the call.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matches_free(list: *mut iocmatch_matches) {
    guard_value((), || unsafe { free_handle(list) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use iocmatch_core::{Kind, TimeSource, Timestamp};

    fn sample() -> EventMatches {
        EventMatches {
            matches: vec![Match {
                indicator_id: "indicator--1".into(),
                collection_id: "ioc-collection--2".into(),
                kind: Kind::Domain,
                observable: "evil.com".into(),
                field: "dns.question.name".into(),
                value: "www.evil.com\0x".into(),
                offset: 17,
            }],
            time: Timestamp::from_secs(1_700_000_000),
            time_source: TimeSource::Event,
        }
    }

    #[test]
    fn list_accessors() {
        let mut l = iocmatch_matches::default();
        l.push_failed(&FfiError::new(iocmatch_result::Validation, "not a JSON object"));
        l.push_event(sample());
        let p = Box::into_raw(Box::new(l));
        unsafe {
            assert_eq!(iocmatch_matches_count(p), 1);
            assert_eq!(iocmatch_matches_event_count(p), 2);
            assert_eq!(iocmatch_matches_event_result(p, 0), iocmatch_result::Validation);
            assert_eq!(iocmatch_matches_event_result(p, 1), iocmatch_result::Ok);
            assert_eq!(iocmatch_matches_event_result(p, 2), iocmatch_result::InvalidArgument);
            assert!(iocmatch_matches_event_error(p, 1).is_null());
            assert_eq!(
                std::ffi::CStr::from_ptr(iocmatch_matches_event_error(p, 0)).to_str().unwrap(),
                "not a JSON object"
            );
            assert_eq!(iocmatch_matches_event(p, 0), 1);
            assert_eq!(iocmatch_matches_kind(p, 0), iocmatch_kind::Domain);
            assert_eq!(iocmatch_matches_kind(p, 1), iocmatch_kind::None);
            assert_eq!(iocmatch_matches_offset(p, 0), 17);
            assert_eq!(iocmatch_matches_event_time(p, 1), 1_700_000_000);
            assert_eq!(iocmatch_matches_event_time_source(p, 1), iocmatch_time_source::Event);
            let f = std::ffi::CStr::from_ptr(iocmatch_matches_field(p, 0));
            assert_eq!(f.to_str().unwrap(), "dns.question.name");
            assert!(iocmatch_matches_observable(p, 1).is_null());
            let mut m = std::mem::MaybeUninit::<iocmatch_match>::uninit();
            assert_eq!(iocmatch_matches_get(p, 0, m.as_mut_ptr()), iocmatch_result::Ok);
            let m = m.assume_init();
            assert_eq!(m.value.len, 14, "the length keeps what follows a NUL");
            assert_eq!(std::slice::from_raw_parts(m.value.data.cast::<u8>(), m.value.len), b"www.evil.com\0x");
            assert_eq!((m.event, m.time), (1, 1_700_000_000));
            assert_eq!(iocmatch_matches_get(p, 1, &mut m.clone()), iocmatch_result::InvalidArgument);
            let mut json = std::ptr::null_mut();
            assert_eq!(iocmatch_matches_to_json(p, &mut json), iocmatch_result::Ok);
            let v: serde_json::Value = serde_json::from_str(std::ffi::CStr::from_ptr(json).to_str().unwrap()).unwrap();
            assert_eq!(v[0]["event"], 1);
            assert_eq!(v[0]["kind"], "domain");
            assert_eq!(v[0]["time_source"], "event");
            crate::strings::iocmatch_string_free(json);
            iocmatch_matches_free(p);
        }
    }

    #[test]
    fn callbacks_see_each_match_and_may_stop() {
        unsafe extern "C" fn count(ud: *mut c_void, m: *const iocmatch_match) -> c_int {
            let n = unsafe { &mut *ud.cast::<u32>() };
            let m = unsafe { &*m };
            assert_eq!(m.kind, iocmatch_kind::Domain);
            assert_eq!(unsafe { std::ffi::CStr::from_ptr(m.observable.data) }.to_str().unwrap(), "evil.com");
            *n += 1;
            (*n >= 2) as c_int
        }
        let mut n = 0u32;
        let mut sink = CallbackSink::new(Some(count), (&mut n as *mut u32).cast()).unwrap();
        let mut two = sample();
        two.matches.push(two.matches[0].clone());
        assert_eq!(sink.deliver(&sample(), 0).map_err(|e| e.code), Ok(()));
        assert_eq!(sink.deliver(&two, 1).unwrap_err().code, iocmatch_result::Aborted);
        assert_eq!(n, 2);
        assert_eq!(CallbackSink::new(None, std::ptr::null_mut()).err().unwrap().code, iocmatch_result::NullParameter);
    }
}
