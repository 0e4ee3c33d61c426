//! Text import (one IOC per line, as feeds publish them) and its report.

use crate::error::{guard, guard_value, FfiError};
use crate::result::iocmatch_result;
use crate::store::iocmatch_store;
use crate::strings::{bytes_arg, check_out, str_arg, write_json, write_out, Arena, Span};
use crate::{free_handle, handle, new_handle};
use iocmatch_core::import::BatchFields;
use iocmatch_core::{ImportDefaults, ImportReport, Kind, Progress, Stage};
use std::ffi::{c_char, c_void};

/// What a text import did: counts, and the lines it rejected with their numbers and reasons.
///
/// Owned by the caller; free it with `iocmatch_import_report_free`. Immutable: any thread may
/// read it, at once.
pub struct iocmatch_import_report {
    report: ImportReport,
    arena: Arena,
    /// Per rejected line: its text and reason in `arena`.
    rejected: Vec<(Span, Span)>,
}

/// Which part of an import a progress report is about.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum iocmatch_import_stage {
    /// Reading and normalising lines (units: lines).
    Parse = 1,
    /// Writing indicators to the store (units: indicators).
    Write = 2,
}

/// Called during a long import with the stage, the units done and the units in all. Called on
/// the importing thread; it must not call back into the library with the same store (the store
/// is busy) and must not unwind (no C++ exception, no longjmp).
pub type iocmatch_progress_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, stage: iocmatch_import_stage, done: u64, total: u64)>;

/// Tell the caller's `progress` callback (if any) where an import is.
///
/// # Safety
/// `progress` must be callable as the header says, with `userdata`.
pub(crate) unsafe fn report_progress(progress: iocmatch_progress_callback, userdata: *mut c_void, p: Progress) {
    if let Some(cb) = progress {
        let stage = match p.stage {
            Stage::Parse => iocmatch_import_stage::Parse,
            Stage::Write => iocmatch_import_stage::Write,
        };
        // SAFETY: the caller's callback, called as the header says.
        unsafe { cb(userdata, stage, p.done, p.total) };
    }
}

/// Defaults of a text import: the batch payload's `default_fields`, plus `kind`.
fn defaults(json: &str) -> Result<ImportDefaults, FfiError> {
    let mut v: serde_json::Value = serde_json::from_str(json).map_err(|e| FfiError::json("defaults_json", e))?;
    let Some(object) = v.as_object_mut() else {
        return Err(FfiError::new(iocmatch_result::Validation, "parameter 'defaults_json' must be a JSON object"));
    };
    let kind = match object.remove("kind") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(k)) => Some(k.parse::<Kind>()?),
        Some(other) => {
            return Err(FfiError::new(
                iocmatch_result::Validation,
                format!("parameter 'defaults_json': \"kind\" must be a string, not {other}"),
            ))
        }
    };
    let fields: BatchFields = serde_json::from_value(v).map_err(|e| FfiError::json("defaults_json", e))?;
    Ok(ImportDefaults { kind, ..fields.to_defaults()? })
}

impl iocmatch_import_report {
    pub(crate) fn new(report: ImportReport) -> Self {
        let mut arena = Arena::default();
        let rejected = report.rejected.iter().map(|r| (arena.push(&r.text), arena.push(&r.reason))).collect();
        iocmatch_import_report { report, arena, rejected }
    }
}

/// Import a text feed into a collection (id or name): one IOC per line. Blank lines, `#`
/// comment lines and trailing comments are skipped; defanged values, CRLF, a UTF-8 BOM,
/// `IP:port` and several hashes of one file on one line are handled. A line that cannot be read
/// is rejected and reported with its number and reason; the others land, in one transaction.
///
/// `data` is `data_len` bytes (any bytes; `data_len` may be 0). `defaults_json` (NULL for none)
/// gives every indicator's properties, as the batch payload's `default_fields`: `{"valid_from",
/// "valid_until", "kill_chain_phases", "description", "x_ic_related_threat_refs",
/// "match_subdomains"}`, plus `"kind"` to force the kind of every value (e.g. `"username"`).
/// `progress` (may be NULL) is called with `userdata` during the import, on this thread.
///
/// On success `*report_out` is a new report owned by the caller (free it with
/// `iocmatch_import_report_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8` (collection, defaults);
/// `VALIDATION` (defaults: JSON, dates, window, threats, description); `NOT_FOUND` (collection);
/// `LIMIT_EXCEEDED` (nothing written); `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_import_text(
    store: *const iocmatch_store,
    collection: *const c_char,
    collection_len: usize,
    data: *const u8,
    data_len: usize,
    defaults_json: *const c_char,
    defaults_len: usize,
    progress: iocmatch_progress_callback,
    userdata: *mut c_void,
    report_out: *mut *mut iocmatch_import_report,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let collection = unsafe { str_arg(collection, collection_len, "collection") }?;
        let data = unsafe { bytes_arg(data, data_len, "data") }?;
        let defaults = match defaults_json.is_null() {
            true => ImportDefaults::default(),
            false => defaults(unsafe { str_arg(defaults_json, defaults_len, "defaults_json") }?)?,
        };
        check_out(report_out, "report_out")?;
        // SAFETY: the caller's callback, as the header says.
        let mut on_progress = |p: Progress| unsafe { report_progress(progress, userdata, p) };
        let report = store.inner.import_text_with_progress(collection, data, &defaults, &mut on_progress)?;
        unsafe { write_out(report_out, new_handle(iocmatch_import_report::new(report))) };
        Ok(())
    })
}

/// Lines considered (neither blank nor comments); 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_import_report_lines(report: *const iocmatch_import_report) -> u64 {
    guard_value(0, || unsafe { report.as_ref() }.map_or(0, |r| r.report.lines))
}

/// New indicators created; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_import_report_imported(report: *const iocmatch_import_report) -> u64 {
    guard_value(0, || unsafe { report.as_ref() }.map_or(0, |r| r.report.imported))
}

/// Values already active in the collection or repeated in the input (merged, not added); 0 for
/// NULL.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_import_report_duplicates(report: *const iocmatch_import_report) -> u64 {
    guard_value(0, || unsafe { report.as_ref() }.map_or(0, |r| r.report.duplicates))
}

/// Number of rejected lines; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_import_report_rejected_count(report: *const iocmatch_import_report) -> usize {
    guard_value(0, || unsafe { report.as_ref() }.map_or(0, |r| r.rejected.len()))
}

/// The 1-based line number of rejected line `i` (0-based, below
/// `iocmatch_import_report_rejected_count`); 0 when `report` is NULL or `i` out of range.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_import_report_rejected_line(report: *const iocmatch_import_report, i: usize) -> u64 {
    guard_value(0, || unsafe { report.as_ref() }.and_then(|r| r.report.rejected.get(i)).map_or(0, |x| x.line))
}

/// The text of rejected line `i` (cut to 200 characters), NUL-terminated; NULL when `report` is
/// NULL or `i` out of range. Borrowed from the report: valid until it is freed.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_import_report_rejected_text(
    report: *const iocmatch_import_report,
    i: usize,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        unsafe { report.as_ref() }
            .and_then(|r| r.rejected.get(i).map(|(text, _)| r.arena.view(*text).data))
            .unwrap_or(std::ptr::null())
    })
}

/// Why line `i` was rejected, NUL-terminated; NULL when `report` is NULL or `i` out of range.
/// Borrowed from the report: valid until it is freed.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_import_report_rejected_reason(
    report: *const iocmatch_import_report,
    i: usize,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        unsafe { report.as_ref() }
            .and_then(|r| r.rejected.get(i).map(|(_, reason)| r.arena.view(*reason).data))
            .unwrap_or(std::ptr::null())
    })
}

/// The report as JSON: `{"lines", "imported", "duplicates", "rejected": [{"line", "text",
/// "reason"}]}`.
///
/// On success `*json_out` is owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_import_report_to_json(
    report: *const iocmatch_import_report,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let report = unsafe { handle(report, "report") }?;
        check_out(json_out, "json_out")?;
        unsafe { write_json(json_out, &report.report) }
    })
}

/// Free a report. NULL is ignored. Strings borrowed from it are gone after the call.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_import_report_free(report: *mut iocmatch_import_report) {
    guard_value((), || unsafe { free_handle(report) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_take_the_batch_fields_and_kind() {
        let d = defaults(r#"{"kind": "username", "valid_from": "2024-01-01", "kill_chain_phases": ["c2"]}"#).unwrap();
        assert_eq!(d.kind, Some(Kind::Username));
        assert!(d.valid_from.is_some());
        assert!(!d.kill_chain_phases.is_empty());
        assert_eq!(defaults(r#"{"kind": 3}"#).unwrap_err().code, iocmatch_result::Validation);
        assert_eq!(defaults(r#"{"kind": "colour"}"#).unwrap_err().code, iocmatch_result::Validation);
        assert_eq!(defaults(r#"{"valid_form": "2024-01-01"}"#).unwrap_err().code, iocmatch_result::Validation);
        assert_eq!(defaults("[]").unwrap_err().code, iocmatch_result::Validation);
        assert_eq!(defaults(r#"{"valid_from": "yesterday-ish"}"#).unwrap_err().code, iocmatch_result::Validation);
    }

    #[test]
    fn report_accessors() {
        let r = iocmatch_import_report::new(ImportReport {
            lines: 3,
            imported: 1,
            duplicates: 1,
            rejected: vec![iocmatch_core::Rejected { line: 2, text: "nope".into(), reason: "not an ioc".into() }],
        });
        let p = new_handle(r);
        unsafe {
            assert_eq!(iocmatch_import_report_lines(p), 3);
            assert_eq!(iocmatch_import_report_rejected_count(p), 1);
            assert_eq!(iocmatch_import_report_rejected_line(p, 0), 2);
            assert_eq!(iocmatch_import_report_rejected_line(p, 1), 0);
            let t = std::ffi::CStr::from_ptr(iocmatch_import_report_rejected_text(p, 0));
            assert_eq!(t.to_str().unwrap(), "nope");
            assert!(iocmatch_import_report_rejected_reason(p, 1).is_null());
            assert_eq!(iocmatch_import_report_lines(std::ptr::null()), 0);
            iocmatch_import_report_free(p);
        }
    }
}
