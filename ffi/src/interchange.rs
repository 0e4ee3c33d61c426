//! Interchange formats: STIX 2.1 and MISP imports (reported like the text import), STIX 2.1
//! bundle and text blocklist exports.

use crate::error::guard;
use crate::import::{iocmatch_import_report, iocmatch_progress_callback, report_progress};
use crate::store::iocmatch_store;
use crate::strings::{bytes_arg, check_out, opt_str_arg, str_arg, write_out};
use crate::{handle, new_handle};
use iocmatch_core::import::MispOptions;
use iocmatch_core::{Kind, Progress};
use std::ffi::{c_char, c_void};

/// Import STIX 2.1 indicators into a collection (id or name): a bundle, a JSON array of
/// objects, or one object per line. Indicators whose pattern is a disjunction of equality
/// comparisons on IP, CIDR (`ISSUBSET`), domain, URL, e-mail, file hash, user-account or
/// network-traffic end (`dst_ref.value`) properties are imported (an AND of hashes of one file as one multi-hash indicator), with
/// their validity, kill chain phases, description and `indicates` relationships to threats
/// (registered under their STIX id and name when new). Revoked indicators and other patterns
/// are skipped: each is a rejected entry of the report, its `line` the object's number (or line
/// in a one-object-per-line file), its `text` the object id, and its reason. One transaction.
///
/// `data` is `data_len` bytes of UTF-8 JSON. `progress` (may be NULL) is called with `userdata`
/// during the import, on this thread, as for `iocmatch_import_text`.
///
/// On success `*report_out` is a new report owned by the caller (free it with
/// `iocmatch_import_report_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8` (collection); `VALIDATION`
/// (not JSON, not STIX 2); `NOT_FOUND` (collection); `LIMIT_EXCEEDED` (nothing written);
/// `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_import_stix(
    store: *const iocmatch_store,
    collection: *const c_char,
    collection_len: usize,
    data: *const u8,
    data_len: usize,
    progress: iocmatch_progress_callback,
    userdata: *mut c_void,
    report_out: *mut *mut iocmatch_import_report,
) -> crate::result::iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let collection = unsafe { str_arg(collection, collection_len, "collection") }?;
        let data = unsafe { bytes_arg(data, data_len, "data") }?;
        check_out(report_out, "report_out")?;
        // SAFETY: the caller's callback, as the header says.
        let mut on_progress = |p: Progress| unsafe { report_progress(progress, userdata, p) };
        let report = store.inner.import_stix_with_progress(collection, data, &mut on_progress)?;
        unsafe { write_out(report_out, new_handle(iocmatch_import_report::new(report))) };
        Ok(())
    })
}

/// Import a MISP event (JSON: `{"Event": …}`, a bare event, or the REST `{"response": […]}`
/// wrapper; attributes and objects' attributes) or a MISP CSV export into a collection (id or
/// name). Only attributes flagged `to_ids` are imported unless `all_attributes` is true. Each
/// skipped attribute is a rejected entry of the report (its number, `type value`, and why).
/// One transaction.
///
/// `data` is `data_len` bytes of UTF-8. `progress` (may be NULL) is called with `userdata`
/// during the import, on this thread, as for `iocmatch_import_text`.
///
/// On success `*report_out` is a new report owned by the caller (free it with
/// `iocmatch_import_report_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8` (collection); `VALIDATION`
/// (neither MISP JSON nor a MISP CSV export); `NOT_FOUND` (collection); `LIMIT_EXCEEDED`
/// (nothing written); `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_import_misp(
    store: *const iocmatch_store,
    collection: *const c_char,
    collection_len: usize,
    data: *const u8,
    data_len: usize,
    all_attributes: bool,
    progress: iocmatch_progress_callback,
    userdata: *mut c_void,
    report_out: *mut *mut iocmatch_import_report,
) -> crate::result::iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let collection = unsafe { str_arg(collection, collection_len, "collection") }?;
        let data = unsafe { bytes_arg(data, data_len, "data") }?;
        check_out(report_out, "report_out")?;
        // SAFETY: the caller's callback, as the header says.
        let mut on_progress = |p: Progress| unsafe { report_progress(progress, userdata, p) };
        let options = MispOptions { all_attributes };
        let report = store.inner.import_misp_with_progress(collection, data, &options, &mut on_progress)?;
        unsafe { write_out(report_out, new_handle(iocmatch_import_report::new(report))) };
        Ok(())
    })
}

/// A collection (id or name) as a STIX 2.1 bundle, JSON text: an `identity` for the
/// collection, its indicators (revoked ones with `"revoked": true`), its threats and an
/// `indicates` relationship from each indicator to each of its threats.
///
/// On success `*json_out` is owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `NOT_FOUND` (collection);
/// `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_export_stix(
    store: *const iocmatch_store,
    collection: *const c_char,
    collection_len: usize,
    json_out: *mut *mut c_char,
) -> crate::result::iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let collection = unsafe { str_arg(collection, collection_len, "collection") }?;
        check_out(json_out, "json_out")?;
        let text = store.inner.export_stix_json(collection)?;
        unsafe { write_out(json_out, crate::error::lossless_cstring(&text).into_raw()) };
        Ok(())
    })
}

/// A collection (id or name) as a text blocklist: the observables of its active indicators,
/// one per line, grouped by kind. `kind` (a kind name such as `"domain"`, `kind_len` bytes)
/// keeps one kind only; NULL keeps all.
///
/// On success `*text_out` is owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `VALIDATION` (unknown kind);
/// `NOT_FOUND` (collection); `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_export_text(
    store: *const iocmatch_store,
    collection: *const c_char,
    collection_len: usize,
    kind: *const c_char,
    kind_len: usize,
    text_out: *mut *mut c_char,
) -> crate::result::iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let collection = unsafe { str_arg(collection, collection_len, "collection") }?;
        let kind: Option<Kind> = unsafe { opt_str_arg(kind, kind_len, "kind") }?.map(str::parse).transpose()?;
        check_out(text_out, "text_out")?;
        let text = store.inner.export_text(collection, kind)?;
        unsafe { write_out(text_out, crate::error::lossless_cstring(&text).into_raw()) };
        Ok(())
    })
}
