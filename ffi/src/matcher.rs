//! Matchers: made from an index (and swapped to a fresh one at will) or following a store (live);
//! match one ECS event, a batch, pre-extracted field/value pairs, or one line of raw text.

use crate::error::{guard, guard_value, FfiError, FfiResult};
use crate::index::iocmatch_index;
use crate::matches::{iocmatch_match_callback, iocmatch_matches, CallbackSink};
use crate::options::{iocmatch_match_options, options_or_default};
use crate::result::iocmatch_result;
use crate::store::iocmatch_store;
use crate::strings::{bytes_arg, check_out, iocmatch_bytes, str_arg, write_out};
use crate::{free_handle, handle, new_handle};
use arc_swap::ArcSwap;
use iocmatch_core::{EventMatches, LiveMatcher, MatchOptions, Matcher, Store, Timestamp};
use std::ffi::{c_char, c_void};
use std::sync::Arc;

/// Matches events against an index snapshot.
///
/// Thread-safe: every matching function may be called on the same handle from any number of
/// threads at once, and at the same time as `iocmatch_matcher_swap` or
/// `iocmatch_matcher_refresh` (a match that started on the old snapshot finishes on it). Free it
/// once no call on it is running.
pub struct iocmatch_matcher {
    source: Source,
}

enum Source {
    /// Made from an index; `iocmatch_matcher_swap` replaces it.
    Fixed { current: ArcSwap<Matcher>, options: MatchOptions },
    /// Follows a store.
    Live(LiveMatcher),
}

impl iocmatch_matcher {
    /// The snapshot to match against now.
    pub(crate) fn current(&self) -> FfiResult<Arc<Matcher>> {
        match &self.source {
            Source::Fixed { current, .. } => Ok(current.load_full()),
            Source::Live(live) => Ok(live.matcher()?),
        }
    }

    /// The live matcher, if it is one.
    pub(crate) fn live(&self) -> Option<&LiveMatcher> {
        match &self.source {
            Source::Live(live) => Some(live),
            Source::Fixed { .. } => None,
        }
    }
}

/// A pre-extracted `(field, value)` pair of an event: `field_len` bytes of UTF-8 at `field` (a
/// dotted ECS path such as `"destination.ip"`) and `value_len` bytes of UTF-8 at `value`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct iocmatch_field_value {
    /// The field's dotted path.
    pub field: *const c_char,
    /// Its length in bytes.
    pub field_len: usize,
    /// The value.
    pub value: *const c_char,
    /// Its length in bytes.
    pub value_len: usize,
}

/// The time parameter of the matching functions: NULL, or seconds since the epoch.
pub(crate) unsafe fn at_arg(at: *const i64) -> Option<Timestamp> {
    // SAFETY: NULL or readable, by the caller's promise.
    unsafe { at.as_ref() }.map(|s| Timestamp::from_secs(*s))
}

/// Community and collection names resolved to the ids a matcher needs.
pub(crate) fn resolve_names(store: &Store, mut o: MatchOptions) -> FfiResult<MatchOptions> {
    if let Some(c) = &o.community {
        o.community = Some(store.community(c)?.id);
    }
    if let Some(list) = &o.collections {
        let ids = list.iter().map(|c| store.collection(c).map(|c| c.id)).collect::<Result<Vec<_>, _>>()?;
        o.collections = Some(ids);
    }
    Ok(o)
}

/// A new matcher over `index` with `options` (NULL: every collection, the default profile). The
/// matcher shares the index: `index` and `options` may be freed right after.
///
/// On success `*matcher_out` is a new handle owned by the caller (free it with
/// `iocmatch_matcher_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER` (`index`, `matcher_out`); `VALIDATION`
/// (malformed community or collection id); `NOT_FOUND` (community or collection not in the
/// index). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matcher_new(
    index: *const iocmatch_index,
    options: *const iocmatch_match_options,
    matcher_out: *mut *mut iocmatch_matcher,
) -> iocmatch_result {
    guard(|| {
        let index = unsafe { handle(index, "index") }?;
        check_out(matcher_out, "matcher_out")?;
        let options = unsafe { options_or_default(options) };
        let m = Matcher::new(index.inner.clone(), &options)?;
        let source = Source::Fixed { current: ArcSwap::from_pointee(m), options };
        unsafe { write_out(matcher_out, new_handle(iocmatch_matcher { source })) };
        Ok(())
    })
}

/// A new live matcher following `store`: it compiles the store now, and every later match sees
/// the imports, edits and revocations made through this store handle since (a cheap check;
/// the snapshot is patched, or recompiled when the changes grow large). Changes made through
/// other handles or processes are picked up by `iocmatch_matcher_refresh`. `options` (NULL for
/// the defaults) may name the community and collections by name or id. The matcher keeps the
/// store alive: `store` and `options` may be freed right after.
///
/// On success `*matcher_out` is a new handle owned by the caller (free it with
/// `iocmatch_matcher_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `VALIDATION`; `NOT_FOUND` (community or
/// collection); `CONFLICT` (an ambiguous collection name); `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matcher_new_live(
    store: *const iocmatch_store,
    options: *const iocmatch_match_options,
    matcher_out: *mut *mut iocmatch_matcher,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        check_out(matcher_out, "matcher_out")?;
        let options = resolve_names(&store.inner, unsafe { options_or_default(options) })?;
        let live = LiveMatcher::new(store.inner.clone(), options)?;
        unsafe { write_out(matcher_out, new_handle(iocmatch_matcher { source: Source::Live(live) })) };
        Ok(())
    })
}

/// Bring a live matcher up to date with every change in its store, from any handle or process.
/// Threads matching meanwhile finish on the snapshot they started with.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_ARGUMENT` (not a live matcher);
/// `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matcher_refresh(matcher: *const iocmatch_matcher) -> iocmatch_result {
    guard(|| {
        let matcher = unsafe { handle(matcher, "matcher") }?;
        match &matcher.source {
            Source::Live(live) => Ok(live.refresh()?),
            Source::Fixed { .. } => {
                Err(FfiError::argument("not a live matcher: refresh applies to iocmatch_matcher_new_live matchers"))
            }
        }
    })
}

/// Swap in a fresh index (e.g. one just compiled or loaded) with the matcher's options, atomically:
/// matches that start after the call see `index`; threads matching meanwhile finish on the old
/// one, which is released when the last of them is done. The matcher shares `index`, which may
/// be freed right after.
///
/// Returns `IOCMATCH_RESULT_OK` (the old index is kept on failure); `NULL_PARAMETER`;
/// `INVALID_ARGUMENT` (a live matcher: use `iocmatch_matcher_refresh`); `NOT_FOUND` (the
/// options' community or a collection is not in `index`). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matcher_swap(
    matcher: *const iocmatch_matcher,
    index: *const iocmatch_index,
) -> iocmatch_result {
    guard(|| {
        let matcher = unsafe { handle(matcher, "matcher") }?;
        let index = unsafe { handle(index, "index") }?;
        match &matcher.source {
            Source::Fixed { current, options } => {
                current.store(Arc::new(Matcher::new(index.inner.clone(), options)?));
                Ok(())
            }
            Source::Live(_) => {
                Err(FfiError::argument("a live matcher follows its store: use iocmatch_matcher_refresh, not swap"))
            }
        }
    })
}

/// Free a matcher. NULL is ignored. No other call may be using it, and it must not be used
/// again.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matcher_free(matcher: *mut iocmatch_matcher) {
    guard_value((), || unsafe { free_handle(matcher) })
}

/// Set the number of threads that batch, NDJSON and raw-text stream matching use (0: one per
/// CPU). Only before the first matching call of the process, once.
///
/// Returns `IOCMATCH_RESULT_OK`; `INVALID_STATE` (already set, or matching already started
/// the default pool).
#[no_mangle]
pub extern "C" fn iocmatch_threads_init(threads: usize) -> iocmatch_result {
    guard(|| {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().map_err(|e| {
            FfiError::new(iocmatch_result::InvalidState, format!("cannot set the number of threads to {threads}: {e}"))
        })
    })
}

/// Where the results of one matching call go.
enum Out {
    List(*mut *mut iocmatch_matches),
    Callback(CallbackSink),
}

impl Out {
    fn new(list_out: *mut *mut iocmatch_matches) -> FfiResult<Out> {
        check_out(list_out, "list_out")?;
        Ok(Out::List(list_out))
    }

    fn callback(callback: iocmatch_match_callback, userdata: *mut c_void) -> FfiResult<Out> {
        Ok(Out::Callback(CallbackSink::new(callback, userdata)?))
    }

    /// Deliver the results of the events of one call, in order; failed events are skipped by
    /// callbacks (and counted in `failed_out` when it is not NULL) and recorded in lists.
    unsafe fn deliver(self, results: Vec<FfiResult<EventMatches>>, failed_out: *mut u64) -> FfiResult<()> {
        match self {
            Out::List(out) => {
                let mut list = iocmatch_matches::default();
                for r in results {
                    match r {
                        Ok(found) => list.push_event(found),
                        Err(e) => list.push_failed(&e),
                    }
                }
                unsafe { write_out(out, new_handle(list)) };
            }
            Out::Callback(mut sink) => {
                let mut failed = 0u64;
                for (i, r) in results.into_iter().enumerate() {
                    match r {
                        Ok(found) => sink.deliver(&found, i as u64)?,
                        Err(_) => failed += 1,
                    }
                }
                unsafe { write_out(failed_out, failed) };
            }
        }
        Ok(())
    }
}

unsafe fn match_event(
    matcher: *const iocmatch_matcher,
    event: *const u8,
    event_len: usize,
    at: *const i64,
    out: impl FnOnce() -> FfiResult<Out>,
) -> iocmatch_result {
    guard(|| {
        let matcher = unsafe { handle(matcher, "matcher") }?;
        let event = unsafe { bytes_arg(event, event_len, "event") }?;
        let out = out()?;
        let found = matcher.current()?.match_event(event, unsafe { at_arg(at) })?;
        unsafe { out.deliver(vec![Ok(found)], std::ptr::null_mut()) }
    })
}

/// Match one ECS event: `event_len` bytes of JSON at `event` (an object; nested objects,
/// dotted keys and arrays are all read). The event is matched at `*at` (seconds since the
/// epoch) when `at` is not NULL, else at its `@timestamp`, else at the matcher's default time.
///
/// On success `*list_out` is a new list owned by the caller (free it with
/// `iocmatch_matches_free`), possibly without matches.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `VALIDATION` (not a JSON object); `STORAGE`
/// (a live matcher that had to catch up). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matcher_match_event(
    matcher: *const iocmatch_matcher,
    event: *const u8,
    event_len: usize,
    at: *const i64,
    list_out: *mut *mut iocmatch_matches,
) -> iocmatch_result {
    unsafe { match_event(matcher, event, event_len, at, || Out::new(list_out)) }
}

/// As `iocmatch_matcher_match_event`, each match handed to `callback` (not NULL) with
/// `userdata`, on this thread, before the function returns.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `VALIDATION`; `ABORTED` (the callback
/// returned non-zero); `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matcher_match_event_cb(
    matcher: *const iocmatch_matcher,
    event: *const u8,
    event_len: usize,
    at: *const i64,
    callback: iocmatch_match_callback,
    userdata: *mut c_void,
) -> iocmatch_result {
    unsafe { match_event(matcher, event, event_len, at, || Out::callback(callback, userdata)) }
}

unsafe fn match_batch(
    matcher: *const iocmatch_matcher,
    events: *const iocmatch_bytes,
    count: usize,
    at: *const i64,
    out: impl FnOnce() -> FfiResult<Out>,
    failed_out: *mut u64,
) -> iocmatch_result {
    guard(|| {
        let matcher = unsafe { handle(matcher, "matcher") }?;
        if events.is_null() {
            return Err(FfiError::null("events"));
        }
        if count > isize::MAX as usize / std::mem::size_of::<iocmatch_bytes>() {
            return Err(FfiError::argument(format!("parameter 'count': {count} events is too many")));
        }
        // SAFETY: non-NULL (checked above), `count` readable items by the caller's promise.
        let items = unsafe { std::slice::from_raw_parts(events, count) };
        let bodies = items
            .iter()
            .enumerate()
            .map(|(i, b)| unsafe { bytes_arg(b.data, b.len, &format!("events[{i}].data")) })
            .collect::<FfiResult<Vec<&[u8]>>>()?;
        let out = out()?;
        let results = matcher.current()?.match_batch(&bodies, unsafe { at_arg(at) });
        unsafe { out.deliver(results.into_iter().map(|r| r.map_err(FfiError::from)).collect(), failed_out) }
    })
}

/// Match a batch of `count` ECS events (`events[i]` is `len` bytes of JSON at `data`), in
/// parallel; the results keep the input order. `at` as in `iocmatch_matcher_match_event`.
///
/// On success `*list_out` is a new list owned by the caller (free it with
/// `iocmatch_matches_free`): its matches carry the 0-based position of their event, and
/// `iocmatch_matches_event_result` tells which events were not JSON objects (they are skipped,
/// the others matched).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER` (`events`, an event's `data`, ...);
/// `INVALID_ARGUMENT` (absurd `count`); `STORAGE` (a live matcher that had to catch up).
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matcher_match_batch(
    matcher: *const iocmatch_matcher,
    events: *const iocmatch_bytes,
    count: usize,
    at: *const i64,
    list_out: *mut *mut iocmatch_matches,
) -> iocmatch_result {
    unsafe { match_batch(matcher, events, count, at, || Out::new(list_out), std::ptr::null_mut()) }
}

/// As `iocmatch_matcher_match_batch`, each match handed to `callback` (not NULL) with
/// `userdata`, in input order, on this thread, before the function returns (`event` in the
/// match is the event's position). Events that are not JSON objects are skipped; when
/// `failed_out` is not NULL, `*failed_out` is their number.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_ARGUMENT`; `ABORTED`; `STORAGE`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matcher_match_batch_cb(
    matcher: *const iocmatch_matcher,
    events: *const iocmatch_bytes,
    count: usize,
    at: *const i64,
    callback: iocmatch_match_callback,
    userdata: *mut c_void,
    failed_out: *mut u64,
) -> iocmatch_result {
    unsafe { match_batch(matcher, events, count, at, || Out::callback(callback, userdata), failed_out) }
}

unsafe fn match_fields(
    matcher: *const iocmatch_matcher,
    fields: *const iocmatch_field_value,
    count: usize,
    at: *const i64,
    out: impl FnOnce() -> FfiResult<Out>,
) -> iocmatch_result {
    guard(|| {
        let matcher = unsafe { handle(matcher, "matcher") }?;
        if fields.is_null() {
            return Err(FfiError::null("fields"));
        }
        if count > isize::MAX as usize / std::mem::size_of::<iocmatch_field_value>() {
            return Err(FfiError::argument(format!("parameter 'count': {count} pairs is too many")));
        }
        // SAFETY: non-NULL, `count` readable items by the caller's promise.
        let items = unsafe { std::slice::from_raw_parts(fields, count) };
        let pairs = items
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let f = unsafe { str_arg(p.field, p.field_len, &format!("fields[{i}].field")) }?;
                let v = unsafe { str_arg(p.value, p.value_len, &format!("fields[{i}].value")) }?;
                Ok((f, v))
            })
            .collect::<FfiResult<Vec<(&str, &str)>>>()?;
        let out = out()?;
        let found = matcher.current()?.match_fields(&pairs, unsafe { at_arg(at) });
        unsafe { out.deliver(vec![Ok(found)], std::ptr::null_mut()) }
    })
}

/// Match pre-extracted `(field, value)` pairs of one event (fields outside the matcher's profile
/// are ignored; a match's offset is its pair's position), at `*at` when `at` is not NULL, else at
/// the matcher's default time.
///
/// On success `*list_out` is a new list owned by the caller (free it with
/// `iocmatch_matches_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER` (`fields`, a pair's pointer, ...);
/// `INVALID_UTF8` (naming the pair); `INVALID_ARGUMENT`; `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matcher_match_fields(
    matcher: *const iocmatch_matcher,
    fields: *const iocmatch_field_value,
    count: usize,
    at: *const i64,
    list_out: *mut *mut iocmatch_matches,
) -> iocmatch_result {
    unsafe { match_fields(matcher, fields, count, at, || Out::new(list_out)) }
}

/// As `iocmatch_matcher_match_fields`, each match handed to `callback` (not NULL) with
/// `userdata`, on this thread, before the function returns.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `INVALID_ARGUMENT`;
/// `ABORTED`; `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matcher_match_fields_cb(
    matcher: *const iocmatch_matcher,
    fields: *const iocmatch_field_value,
    count: usize,
    at: *const i64,
    callback: iocmatch_match_callback,
    userdata: *mut c_void,
) -> iocmatch_result {
    unsafe { match_fields(matcher, fields, count, at, || Out::callback(callback, userdata)) }
}

unsafe fn scan_text(
    matcher: *const iocmatch_matcher,
    line: *const u8,
    line_len: usize,
    at: *const i64,
    out: impl FnOnce() -> FfiResult<Out>,
) -> iocmatch_result {
    guard(|| {
        let matcher = unsafe { handle(matcher, "matcher") }?;
        let line = unsafe { bytes_arg(line, line_len, "line") }?;
        let out = out()?;
        let found = matcher.current()?.scan_text_bytes(line, unsafe { at_arg(at) });
        unsafe { out.deliver(vec![Ok(found)], std::ptr::null_mut()) }
    })
}

/// Scan one line of raw, unparsed text (`line_len` bytes, need not be UTF-8) for indicators of
/// every kind but user names, on token boundaries (`evil.com` never fires inside
/// `notevil.com`). Matches carry the field `"raw"` and the token's byte offset. The time is `*at`
/// when `at` is not NULL, else the matcher's default time; Command and Control IP indicators
/// never match raw text.
///
/// On success `*list_out` is a new list owned by the caller (free it with
/// `iocmatch_matches_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matcher_scan_text(
    matcher: *const iocmatch_matcher,
    line: *const u8,
    line_len: usize,
    at: *const i64,
    list_out: *mut *mut iocmatch_matches,
) -> iocmatch_result {
    unsafe { scan_text(matcher, line, line_len, at, || Out::new(list_out)) }
}

/// As `iocmatch_matcher_scan_text`, each match handed to `callback` (not NULL) with
/// `userdata`, on this thread, before the function returns.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `ABORTED`; `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matcher_scan_text_cb(
    matcher: *const iocmatch_matcher,
    line: *const u8,
    line_len: usize,
    at: *const i64,
    callback: iocmatch_match_callback,
    userdata: *mut c_void,
) -> iocmatch_result {
    unsafe { scan_text(matcher, line, line_len, at, || Out::callback(callback, userdata)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matches::iocmatch_match;
    use std::ffi::c_int;

    unsafe extern "C" fn count(ud: *mut c_void, _: *const iocmatch_match) -> c_int {
        unsafe { *ud.cast::<u32>() += 1 };
        0
    }

    fn matches(m: *const iocmatch_matcher, event: &[u8]) -> u32 {
        let mut n = 0u32;
        let r = unsafe {
            iocmatch_matcher_match_event_cb(
                m,
                event.as_ptr(),
                event.len(),
                std::ptr::null(),
                Some(count),
                (&mut n as *mut u32).cast(),
            )
        };
        assert_eq!(r, iocmatch_result::Ok);
        n
    }

    #[test]
    fn live_options_take_names_and_swap_takes_fresh_indexes() {
        let store = Arc::new(Store::open_in_memory().unwrap());
        store.create_collection(&iocmatch_core::NewCollection::named("feed")).unwrap();
        let d = iocmatch_core::ImportDefaults { valid_from: Some(Timestamp::from_secs(0)), ..Default::default() };
        store.import_text("feed", b"203.0.113.5\n", &d).unwrap();
        let resolved = resolve_names(
            &store,
            MatchOptions {
                community: Some("default".into()),
                collections: Some(vec!["feed".into()]),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(resolved.community, Some(store.default_community().unwrap().id));
        assert_eq!(resolved.collections, Some(vec![store.collection("feed").unwrap().id]));
        let e = resolve_names(&store, MatchOptions { collections: Some(vec!["nope".into()]), ..Default::default() });
        assert_eq!(e.unwrap_err().code, iocmatch_result::NotFound);

        let event = br#"{"destination":{"ip":"203.0.113.5"},"source":{"ip":"198.51.100.1"}}"#;
        let old = new_handle(crate::index::iocmatch_index { inner: Arc::new(store.compile().unwrap()) });
        let mut m: *mut iocmatch_matcher = std::ptr::null_mut();
        unsafe {
            assert_eq!(iocmatch_matcher_new(old, std::ptr::null(), &mut m), iocmatch_result::Ok);
            assert_eq!(matches(m, event), 1);
            store.import_text("feed", b"198.51.100.1\n", &d).unwrap();
            assert_eq!(matches(m, event), 1, "a fixed matcher keeps its index");
            let fresh = new_handle(crate::index::iocmatch_index { inner: Arc::new(store.compile().unwrap()) });
            assert_eq!(iocmatch_matcher_swap(m, fresh), iocmatch_result::Ok);
            assert_eq!(matches(m, event), 2);
            assert_eq!(iocmatch_matcher_refresh(m), iocmatch_result::InvalidArgument);
            crate::index::iocmatch_index_free(fresh);
            crate::index::iocmatch_index_free(old);
            iocmatch_matcher_free(m);
        }
    }
}
