//! Detection rules and retrohunt: rules as JSON objects, alerts handed to a callback as JSON.

use crate::error::{guard, FfiError};
use crate::handle;
use crate::matches::aborted;
use crate::result::iocmatch_result;
use crate::store::iocmatch_store;
use crate::strings::{check_out, iocmatch_bytes, json_arg, path_items, str_arg, write_json};
use iocmatch_core::detect::{Alert, EventSource, Retrohunt};
use iocmatch_core::{NewRule, Profile, Timestamp};
use serde::Deserialize;
use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// The parameters of `iocmatch_rule_create`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleParams {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    collections: Vec<String>,
    #[serde(default)]
    community: Option<String>,
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

/// Create a detection rule. `params_json` (`params_len` bytes, read during the call) is a JSON
/// object: `{"name": "...", "collections": ["<id or name>", ...]}` or `{"name": "...",
/// "community": "<id or name>"}` (every collection of the community, present and future), with
/// optional `"description"` (at most 500 characters) and `"enabled"` (default `true`).
///
/// On success, when `json_out` is not NULL, `*json_out` is the new rule as a JSON object
/// (`id` `rule--<uuid>`, `name`, `description`, `enabled`, `community_id`, `collections`,
/// `created`, `modified`), owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `VALIDATION` (JSON, name,
/// description, no scope or both scopes); `NOT_FOUND` (a collection, the community); `CONFLICT`
/// (name taken); `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_rule_create(
    store: *const iocmatch_store,
    params_json: *const c_char,
    params_len: usize,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let p: RuleParams = unsafe { json_arg(params_json, params_len, "params_json") }?;
        let r = store.inner.create_rule(&NewRule {
            name: p.name,
            description: p.description,
            collections: p.collections,
            community: p.community,
            enabled: p.enabled,
        })?;
        unsafe { write_json(json_out, &r) }
    })
}

/// Every rule, oldest first, as a JSON array of rule objects (see `iocmatch_rule_create`).
///
/// On success `*json_out` is owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_rule_list(
    store: *const iocmatch_store,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        check_out(json_out, "json_out")?;
        unsafe { write_json(json_out, &store.inner.rules()?) }
    })
}

/// # Safety
/// As the exported functions that call it.
unsafe fn set_enabled(
    store: *const iocmatch_store,
    rule: *const c_char,
    rule_len: usize,
    enabled: bool,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let rule = unsafe { str_arg(rule, rule_len, "rule") }?;
        let r = store.inner.set_rule_enabled(rule, enabled)?;
        unsafe { write_json(json_out, &r) }
    })
}

/// Enable the rule `rule` (`rule_len` bytes: an id `rule--<uuid>`, a bare uuid or a name).
///
/// On success, when `json_out` is not NULL, `*json_out` is the rule as it is now, a JSON object
/// owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `NOT_FOUND`; `STORAGE`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_rule_enable(
    store: *const iocmatch_store,
    rule: *const c_char,
    rule_len: usize,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    unsafe { set_enabled(store, rule, rule_len, true, json_out) }
}

/// Disable the rule `rule` (id or name, `rule_len` bytes): it alerts nothing until enabled
/// again. `json_out` and the results as for `iocmatch_rule_enable`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_rule_disable(
    store: *const iocmatch_store,
    rule: *const c_char,
    rule_len: usize,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    unsafe { set_enabled(store, rule, rule_len, false, json_out) }
}

/// Delete the rule `rule` (id or name, `rule_len` bytes); its collections stay.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `NOT_FOUND`; `STORAGE`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_rule_delete(
    store: *const iocmatch_store,
    rule: *const c_char,
    rule_len: usize,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let rule = unsafe { str_arg(rule, rule_len, "rule") }?;
        store.inner.delete_rule(rule)?;
        Ok(())
    })
}

/// Called once per alert with the alert as one JSON object (`rule_id`, `rule_name`,
/// `detection_type` `"cti_retrohunt"`, `source` (file), `line`, `time`, `time_source`,
/// `matches`): `json_len` bytes at `json`, NUL-terminated, valid during the call only. Calls
/// come from worker threads of the library, one at a time (never concurrently). Return 0 to go
/// on, anything else to stop the hunt (which then returns `IOCMATCH_RESULT_ABORTED`). It must
/// not unwind, and must not call the library with the store being hunted.
pub type iocmatch_alert_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, json: *const c_char, json_len: usize) -> c_int>;

/// Called during a retrohunt with the bytes read from disk so far and the bytes to read, from
/// worker threads, one call at a time. It must not unwind.
pub type iocmatch_bytes_progress_callback = Option<unsafe extern "C" fn(userdata: *mut c_void, done: u64, total: u64)>;

/// The options of `iocmatch_retrohunt_run`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HuntParams {
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    margin: Option<String>,
    #[serde(default)]
    community: Option<String>,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    incremental: bool,
}

/// The caller's `userdata`, shared by the worker threads (calls are serialised by a lock).
pub(crate) struct UserData(pub(crate) *mut c_void);
// SAFETY: the header makes the caller promise that `userdata` may be used from the library's
// worker threads, one call at a time (every call is made under a lock).
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

/// Retrohunt: match the archived NDJSON events of `paths` (`count` paths; files, gzip-compressed
/// or not, and directories, walked) against the active indicators of the collections of the
/// enabled rules, each in force over its validity window widened by a margin, at each event's
/// `@timestamp`. Each alert goes to `callback` (not NULL) as JSON; `progress` (may be NULL)
/// gets the bytes read and the bytes to read; both get `userdata`.
///
/// `options_json` (NULL for the defaults; `options_len` bytes) is a JSON object: `{"since":
/// "<time>"` (only indicators created or modified at or after it; all by default), `"margin":
/// "5d"` (the default), `"community": "<id or name>"`, `"profile": "default" | "strict" |
/// "<file>"`, `"incremental": false}`. Incremental runs remember per file (size, modification
/// time, last line, fingerprint, store change sequence) what was hunted: an unchanged file is
/// hunted again only with the indicators changed since, lines appended to a plain file with all,
/// a new or otherwise changed file whole with all.
///
/// On success, when `summary_out` is not NULL, `*summary_out` is the summary as a JSON object
/// (`rules`, `indicators`, `files`, `files_skipped`, `events`, `bytes`, `disk_bytes`, `alerts`,
/// `bad_lines`, `bad_line_details` [{`source`, `line`, `message`}], `errors` [{`path`,
/// `message`}] for files that could not be read to their end, `seq`), owned by the caller (free
/// it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK` (also when some files or lines could not be read: see the
/// summary); `NULL_PARAMETER`; `VALIDATION` (options, an empty path); `NOT_FOUND` (community);
/// `IO` (a path that does not exist); `ABORTED` (the callback asked to stop); `STORAGE`.
/// Thread-safe; the hunt runs on the library's worker threads.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_retrohunt_run(
    store: *const iocmatch_store,
    paths: *const iocmatch_bytes,
    count: usize,
    options_json: *const c_char,
    options_len: usize,
    callback: iocmatch_alert_callback,
    progress: iocmatch_bytes_progress_callback,
    userdata: *mut c_void,
    summary_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        if paths.is_null() {
            return Err(FfiError::null("paths"));
        }
        let paths = unsafe { path_items(paths, count, "paths") }?;
        let p: HuntParams = match options_json.is_null() {
            true => HuntParams::default(),
            false => unsafe { json_arg(options_json, options_len, "options_json") }?,
        };
        let callback = callback.ok_or_else(|| FfiError::null("callback"))?;
        let hunt = Retrohunt {
            since: p.since.as_deref().map(Timestamp::parse).transpose()?,
            margin: match &p.margin {
                Some(m) => iocmatch_core::time::parse_duration(m)?,
                None => iocmatch_core::detect::DEFAULT_MARGIN,
            },
            profile: p.profile.as_deref().map(Profile::load).transpose()?,
            community: p.community,
            incremental: p.incremental,
        };
        let source = EventSource::from_paths(&paths)?;
        let user = Mutex::new(UserData(userdata));
        let stopped = AtomicBool::new(false);
        let sink = |a: &Alert| -> iocmatch_core::Result<()> {
            let json = crate::error::lossless_cstring(&a.to_json());
            let u = user.lock().unwrap_or_else(|p| p.into_inner());
            // SAFETY: the caller's callback, called as the header says (one call at a time).
            if unsafe { callback(u.0, json.as_ptr(), json.as_bytes().len()) } != 0 {
                stopped.store(true, Ordering::Relaxed);
                return Err(iocmatch_core::Error::new(
                    iocmatch_core::ErrorKind::InvalidState,
                    "stopped by the callback",
                ));
            }
            Ok(())
        };
        let on_progress = |done: u64, total: u64| {
            if let Some(cb) = progress {
                let u = user.lock().unwrap_or_else(|p| p.into_inner());
                // SAFETY: the caller's callback, called as the header says (one call at a time).
                unsafe { cb(u.0, done, total) };
            }
        };
        let summary = hunt.run(&store.inner, &source, &sink, Some(&on_progress));
        if stopped.load(Ordering::Relaxed) {
            return Err(aborted());
        }
        unsafe { write_json(summary_out, &summary?) }
    })
}
