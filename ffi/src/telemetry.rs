//! Telemetry reports (which indicators of a collection were seen in events, and how often) and
//! the sightings matchers record, as JSON documents.

use crate::detect::{iocmatch_bytes_progress_callback, UserData};
use crate::error::{guard, FfiResult};
use crate::handle;
use crate::matcher::iocmatch_matcher;
use crate::result::iocmatch_result;
use crate::store::iocmatch_store;
use crate::strings::{byte_items, check_out, iocmatch_bytes, json_arg, path_items, str_arg, write_json, write_out};
use iocmatch_core::detect::telemetry::parse_window;
use iocmatch_core::detect::{EventSource, SourceSummary, TelemetryOptions, TelemetryReport};
use iocmatch_core::{Profile, Timestamp};
use std::ffi::{c_char, c_void};
use std::sync::Mutex;

/// The options JSON: `{"window": "365d", "until": "2025-01-01", "communities": [...],
/// "profile": "default"}`, every key optional.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    window: Option<String>,
    until: Option<String>,
    #[serde(default)]
    communities: Vec<String>,
    profile: Option<String>,
}

/// A report over archives, with what reading them found.
#[derive(serde::Serialize)]
struct RunJson<'a> {
    #[serde(flatten)]
    report: &'a TelemetryReport,
    archive: &'a SourceSummary,
}

unsafe fn options_arg(ptr: *const c_char, len: usize) -> FfiResult<TelemetryOptions> {
    let o: Options = if ptr.is_null() { Options::default() } else { unsafe { json_arg(ptr, len, "options_json") }? };
    let mut out = TelemetryOptions { communities: o.communities, ..Default::default() };
    if let Some(w) = &o.window {
        out.window = parse_window(w)?;
    }
    out.until = o.until.as_deref().map(Timestamp::parse).transpose()?;
    out.profile = o.profile.as_deref().map(Profile::load).transpose()?;
    Ok(out)
}

/// Make and save the telemetry report of a collection (id or name) over archived NDJSON
/// events: `paths` are `n_paths` file or directory paths (directories are walked, gzip files
/// read by their magic bytes), read in parallel. Only IP, domain and hash indicators count;
/// validity windows are ignored, revoked indicators left out; a sighting is one event in which
/// the indicator matched, with its `@timestamp` in the window.
///
/// `options_json` (NULL for the defaults) is `{"window": "365d", "until": "<date>",
/// "communities": ["<id or name>", ...], "profile": "default" | "strict" | "<file>"}`, every
/// key optional (window one year, until now, the collection's community, the default profile).
///
/// `progress` (may be NULL) gets `userdata`, the bytes read from disk so far and the bytes to
/// read, from worker threads of the library, one call at a time; it must not unwind.
///
/// On success `*report_json_out` is the report as JSON (`{"id", "collection_id", "created",
/// "window_start", "window_end", "communities", "source", "events", "indicators_seen", "rows":
/// [{"indicator_id", "observable", "kind", "sightings", "first_seen", "last_seen", "days":
/// [{"date", "count"}]}], "archive": {"files", "totals", "disk_bytes", "errors"}}`), owned by
/// the caller (free it with `iocmatch_string_free`). Bad lines and unreadable files do not fail
/// the call: they are counted in `"archive"`.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `VALIDATION` (options, a
/// community that does not see the collection); `NOT_FOUND` (collection, community); `IO` (a
/// path that does not exist); `STORAGE`. Thread-safe; blocks until done.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_telemetry_run(
    store: *const iocmatch_store,
    collection: *const c_char,
    collection_len: usize,
    paths: *const iocmatch_bytes,
    n_paths: usize,
    options_json: *const c_char,
    options_len: usize,
    progress: iocmatch_bytes_progress_callback,
    userdata: *mut c_void,
    report_json_out: *mut *mut c_char,
) -> iocmatch_result {
    let user = Mutex::new(UserData(userdata));
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let collection = unsafe { str_arg(collection, collection_len, "collection") }?;
        let paths = unsafe { path_items(paths, n_paths, "paths") }?;
        let options = unsafe { options_arg(options_json, options_len) }?;
        check_out(report_json_out, "report_json_out")?;
        let source = EventSource::from_paths(&paths)?;
        let on_progress = |done: u64, total: u64| {
            if let Some(cb) = progress {
                let u = user.lock().unwrap_or_else(|p| p.into_inner());
                // SAFETY: the caller's callback, called as the header says (one call at a time).
                unsafe { cb(u.0, done, total) };
            }
        };
        let run = store.inner.telemetry(collection, &source, &options, Some(&on_progress))?;
        unsafe { write_json(report_json_out, &RunJson { report: &run.report, archive: &run.source }) }
    })
}

/// As `iocmatch_telemetry_run`, over `n_events` events given as JSON objects (one ECS event
/// each) instead of archives. Events that are not JSON objects are skipped.
///
/// On success `*report_json_out` is the report as JSON (without `"archive"`), owned by the
/// caller (free it with `iocmatch_string_free`).
///
/// Returns as `iocmatch_telemetry_run` (no `IO`). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_telemetry_from_events(
    store: *const iocmatch_store,
    collection: *const c_char,
    collection_len: usize,
    events: *const iocmatch_bytes,
    n_events: usize,
    options_json: *const c_char,
    options_len: usize,
    report_json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let collection = unsafe { str_arg(collection, collection_len, "collection") }?;
        let events = unsafe { byte_items(events, n_events, "events") }?;
        let options = unsafe { options_arg(options_json, options_len) }?;
        check_out(report_json_out, "report_json_out")?;
        let report = store.inner.telemetry_from_events(collection, events, &options)?;
        unsafe { write_json(report_json_out, &report) }
    })
}

/// Make and save the telemetry report of a collection (id or name) from the sightings that
/// matchers recorded (`iocmatch_match_options_set_record_sightings`) and flushed to the store
/// (`iocmatch_matcher_flush_sightings`), without reading events again; day precision.
/// `options_json` as for `iocmatch_telemetry_run` (NULL for the defaults).
///
/// On success `*report_json_out` is the report as JSON (`"source": "sightings"`), owned by the
/// caller (free it with `iocmatch_string_free`).
///
/// Returns as `iocmatch_telemetry_run` (no `IO`). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_telemetry_from_sightings(
    store: *const iocmatch_store,
    collection: *const c_char,
    collection_len: usize,
    options_json: *const c_char,
    options_len: usize,
    report_json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let collection = unsafe { str_arg(collection, collection_len, "collection") }?;
        let options = unsafe { options_arg(options_json, options_len) }?;
        check_out(report_json_out, "report_json_out")?;
        let report = store.inner.telemetry_from_sightings(collection, &options)?;
        unsafe { write_json(report_json_out, &report) }
    })
}

/// A saved telemetry report (`telemetry-report--<uuid>` or the bare uuid) as JSON, rows ordered
/// by sightings.
///
/// On success `*report_json_out` is owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `NOT_FOUND`; `STORAGE`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_telemetry_report_get(
    store: *const iocmatch_store,
    id: *const c_char,
    id_len: usize,
    report_json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let id = unsafe { str_arg(id, id_len, "id") }?;
        check_out(report_json_out, "report_json_out")?;
        let report = store.inner.telemetry_report(id)?;
        unsafe { write_json(report_json_out, &report) }
    })
}

/// The saved telemetry reports of a collection (id or name), newest first, without their rows:
/// a JSON array of `{"id", "collection_id", "created", "window_start", "window_end",
/// "communities", "source", "events", "indicators_seen"}`.
///
/// On success `*list_json_out` is owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `NOT_FOUND`; `STORAGE`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_telemetry_report_list(
    store: *const iocmatch_store,
    collection: *const c_char,
    collection_len: usize,
    list_json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let collection = unsafe { str_arg(collection, collection_len, "collection") }?;
        check_out(list_json_out, "list_json_out")?;
        let list = store.inner.telemetry_reports(collection)?;
        unsafe { write_json(list_json_out, &list) }
    })
}

/// Delete a saved telemetry report.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `NOT_FOUND`; `STORAGE`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_telemetry_report_delete(
    store: *const iocmatch_store,
    id: *const c_char,
    id_len: usize,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let id = unsafe { str_arg(id, id_len, "id") }?;
        Ok(store.inner.delete_telemetry_report(id)?)
    })
}

/// Add the sightings `matcher` counted so far (its options asked for them with
/// `iocmatch_match_options_set_record_sightings`) to a store, and start counting again from
/// zero; counts add to those stored, so flushing twice never counts twice, and sightings of
/// indicators deleted meanwhile are skipped. A live matcher flushes to its own store (`store`
/// may be NULL; it also flushes on `iocmatch_matcher_refresh`); a matcher made from an index
/// needs `store`. `*written_out` (may be NULL) is the number of sightings written.
///
/// Returns `IOCMATCH_RESULT_OK` (also when the matcher records nothing: 0 written);
/// `NULL_PARAMETER` (`matcher`; `store` for a matcher made from an index); `STORAGE` (the
/// counts are kept for the next flush). Thread-safe: matching may go on meanwhile.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_matcher_flush_sightings(
    matcher: *const iocmatch_matcher,
    store: *const iocmatch_store,
    written_out: *mut u64,
) -> iocmatch_result {
    guard(|| {
        let matcher = unsafe { handle(matcher, "matcher") }?;
        let n = match matcher.live() {
            Some(live) => live.flush_sightings()?,
            None => {
                let m = matcher.current()?;
                match m.sightings() {
                    Some(rec) => unsafe { handle(store, "store") }?.inner.flush_sightings(rec)?,
                    None => 0,
                }
            }
        };
        unsafe { write_out(written_out, n) };
        Ok(())
    })
}
