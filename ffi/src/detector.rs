//! Live detection: a detector follows a store (indicators and rules) and turns the matches of
//! each event into `cti` alerts, handed back as a JSON array.

use crate::error::{guard, guard_value};
use crate::matcher::{at_arg, resolve_names};
use crate::options::{iocmatch_match_options, options_or_default};
use crate::result::iocmatch_result;
use crate::store::iocmatch_store;
use crate::strings::{bytes_arg, check_out, write_json, write_out};
use crate::{free_handle, handle, new_handle};
use iocmatch_core::detect::LiveDetector;
use std::ffi::c_char;

/// Live detection over a store: the enabled detection rules turn the matches of each event into
/// alerts typed `cti`.
///
/// It follows its store like a live matcher: every detection sees the imports, edits,
/// revocations and rule changes (created, enabled, disabled, deleted) made through the store
/// handle it was made from; `iocmatch_detector_refresh` picks up changes made through other
/// handles or processes.
///
/// Thread-safe: `iocmatch_detector_detect` may be called on the same handle from any number of
/// threads at once, and at the same time as `iocmatch_detector_refresh`. Free it once no call on
/// it is running.
pub struct iocmatch_detector {
    inner: LiveDetector,
}

/// A new detector following `store`: it compiles the store and loads its enabled rules now.
/// `options` (NULL for the defaults: every collection, the default profile) may name the
/// community and collections by name or id; their default time is the time of events without a
/// readable `@timestamp`. The detector keeps the store alive: `store` and `options` may be freed
/// right after.
///
/// On success `*detector_out` is a new handle owned by the caller (free it with
/// `iocmatch_detector_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `VALIDATION`; `NOT_FOUND` (community or
/// collection); `CONFLICT` (an ambiguous collection name); `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_detector_new(
    store: *const iocmatch_store,
    options: *const iocmatch_match_options,
    detector_out: *mut *mut iocmatch_detector,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        check_out(detector_out, "detector_out")?;
        let options = resolve_names(&store.inner, unsafe { options_or_default(options) })?;
        let inner = LiveDetector::new(store.inner.clone(), options)?;
        unsafe { write_out(detector_out, new_handle(iocmatch_detector { inner })) };
        Ok(())
    })
}

/// The alerts of one ECS event: `event_len` bytes of JSON at `event` (an object), matched at
/// `*at` (seconds since the epoch) when `at` is not NULL, else at its `@timestamp`, else at the
/// options' default time (else now), against the indicators and enabled rules as they are now.
///
/// On success `*alerts_json_out` is a JSON array (empty when nothing alerts) of alert objects,
/// one per rule covering the collection of at least one match, in rule order: `rule_id`,
/// `rule_name`, `detection_type` (`"cti"`), `source` (null), `line` (null), `time`,
/// `time_source` (`"caller"`, `"event"` or `"default"`), `matches` (that rule's matches, each
/// `{indicator_id, collection_id, kind, observable, field, value, offset}`). It is owned by the
/// caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `VALIDATION` (not a JSON object; the
/// message says why); `STORAGE` (catching up with the store). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_detector_detect(
    detector: *const iocmatch_detector,
    event: *const u8,
    event_len: usize,
    at: *const i64,
    alerts_json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let detector = unsafe { handle(detector, "detector") }?;
        let event = unsafe { bytes_arg(event, event_len, "event") }?;
        check_out(alerts_json_out, "alerts_json_out")?;
        let alerts = detector.inner.detect(event, unsafe { at_arg(at) })?;
        unsafe { write_json(alerts_json_out, &alerts) }
    })
}

/// Bring a detector up to date with every change in its store (indicators and rules), from any
/// handle or process. Threads detecting meanwhile finish on what they started with.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_detector_refresh(detector: *const iocmatch_detector) -> iocmatch_result {
    guard(|| {
        let detector = unsafe { handle(detector, "detector") }?;
        Ok(detector.inner.refresh()?)
    })
}

/// Free a detector. NULL is ignored. No other call may be using it, and it must not be used
/// again.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_detector_free(detector: *mut iocmatch_detector) {
    guard_value((), || unsafe { free_handle(detector) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::iocmatch_store;
    use iocmatch_core::{ImportDefaults, NewCollection, NewRule, Store, Timestamp};
    use std::ffi::CStr;
    use std::sync::Arc;

    #[test]
    fn detectors_alert_per_enabled_rule() {
        let store = Arc::new(Store::open_in_memory().unwrap());
        store.create_collection(&NewCollection::named("feed")).unwrap();
        let d = ImportDefaults { valid_from: Some(Timestamp::from_secs(0)), ..Default::default() };
        store.import_text("feed", b"evil.example\n", &d).unwrap();
        store
            .create_rule(&NewRule {
                name: "watch".into(),
                description: None,
                collections: vec!["feed".into()],
                community: None,
                enabled: true,
            })
            .unwrap();
        let s = new_handle(iocmatch_store { inner: store.clone() });
        let mut det: *mut iocmatch_detector = std::ptr::null_mut();
        let ev = br#"{"url":{"domain":"evil.example"}}"#;
        unsafe {
            assert_eq!(iocmatch_detector_new(s, std::ptr::null(), &mut det), iocmatch_result::Ok);
            let mut out: *mut c_char = std::ptr::null_mut();
            assert_eq!(
                iocmatch_detector_detect(det, ev.as_ptr(), ev.len(), std::ptr::null(), &mut out),
                iocmatch_result::Ok
            );
            let json = CStr::from_ptr(out).to_str().unwrap().to_owned();
            crate::strings::iocmatch_string_free(out);
            assert!(json.starts_with('['), "{json}");
            assert!(json.contains(r#""rule_name":"watch""#), "{json}");
            assert!(json.contains(r#""detection_type":"cti""#), "{json}");
            let mut out: *mut c_char = std::ptr::null_mut();
            assert_eq!(
                iocmatch_detector_detect(det, b"[1]".as_ptr(), 3, std::ptr::null(), &mut out),
                iocmatch_result::Validation
            );
            assert!(out.is_null());
            assert_eq!(iocmatch_detector_refresh(det), iocmatch_result::Ok);
            assert_eq!(iocmatch_detector_refresh(std::ptr::null()), iocmatch_result::NullParameter);
            iocmatch_detector_free(det);
            iocmatch_detector_free(std::ptr::null_mut());
            crate::store::iocmatch_store_free(s);
        }
    }
}
