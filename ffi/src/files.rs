//! File import (CSV/TSV, XLS, XLSX, ODS: preview, then process with a mapping) and CSV export.

use crate::error::{guard, FfiError};
use crate::import::{iocmatch_import_report, iocmatch_progress_callback, report_progress};
use crate::result::iocmatch_result;
use crate::store::iocmatch_store;
use crate::strings::{bytes_arg, check_out, opt_str_arg, str_arg, write_json, write_out};
use crate::{handle, new_handle};
use iocmatch_core::{FileImport, FileProcess, Progress};
use std::ffi::{c_char, c_void};

/// Preview a tabular file for an import into a collection (id or name): its first 10 rows, the
/// suggested mapping of its columns and whether its first line is a header, as the spec's
/// `files/preview` answer: `{"file_handle", "preview": [[cell, ...], ...], "mapping":
/// ["observable" | "valid_from" | "valid_until" | "kill_chain_phases" |
/// "x_ic_related_threat_refs" | "description" | null, ...], "ignore_first_line", "format":
/// "csv" | "xls" | "xlsx" | "ods", "delimiter", "sheets", "sheet"}` (`sheets`: a workbook's
/// worksheets; `sheet`: the one shown, the first with cells — see
/// `iocmatch_file_preview_sheet` for another).
///
/// `data` is the file's `data_len` bytes (delimited text with `,` `;` tab or `|`, or a
/// workbook, told apart by its first bytes). `filename` (NULL for none) is only used to name the
/// file (`file_handle`) and to refuse a `.xlsx`/`.xls`/`.ods` name on bytes that are no workbook.
///
/// On success `*json_out` is owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8` (collection, filename);
/// `NOT_FOUND` (collection); `CORRUPT` (a workbook that cannot be read); `STORAGE`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_file_preview(
    store: *const iocmatch_store,
    collection: *const c_char,
    collection_len: usize,
    data: *const u8,
    data_len: usize,
    filename: *const c_char,
    filename_len: usize,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    // SAFETY: the caller's arguments, passed on as they came; no sheet (NULL).
    unsafe {
        iocmatch_file_preview_sheet(
            store,
            collection,
            collection_len,
            data,
            data_len,
            filename,
            filename_len,
            std::ptr::null(),
            0,
            json_out,
        )
    }
}

/// `iocmatch_file_preview` of one worksheet of a workbook: `sheet` (`sheet_len` bytes of
/// UTF-8; NULL for the first worksheet with cells) is its name (case-insensitively) or its
/// 1-based number. Delimited text has no worksheets: `sheet` is ignored for it.
///
/// On success `*json_out` is owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8` (collection, filename,
/// sheet); `NOT_FOUND` (collection); `VALIDATION` (no such worksheet: the message lists them);
/// `CORRUPT` (a workbook that cannot be read); `STORAGE`. Thread-safe.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn iocmatch_file_preview_sheet(
    store: *const iocmatch_store,
    collection: *const c_char,
    collection_len: usize,
    data: *const u8,
    data_len: usize,
    filename: *const c_char,
    filename_len: usize,
    sheet: *const c_char,
    sheet_len: usize,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let collection = unsafe { str_arg(collection, collection_len, "collection") }?;
        let data = unsafe { bytes_arg(data, data_len, "data") }?;
        let filename = unsafe { opt_str_arg(filename, filename_len, "filename") }?;
        let sheet = unsafe { opt_str_arg(sheet, sheet_len, "sheet") }?;
        check_out(json_out, "json_out")?;
        let preview = store.inner.preview_file_sheet(collection, data, filename, sheet)?;
        unsafe { write_json(json_out, &preview) }
    })
}

/// Import a tabular file into a collection (id or name) with the spec's `files/process`
/// payload `process_json` (NULL: the suggested mapping and header detection, no defaults):
/// `{"mapping": [...], "ignore_first_line": bool, "valid_from", "valid_until",
/// "kill_chain_phases", "x_ic_related_threat_refs", "description", "match_subdomains",
/// "sheet"}` (`valid_from` to `match_subdomains` are defaults for properties no column gives;
/// `sheet` picks a workbook's worksheet by name or 1-based number, the first with cells when
/// absent; `file_handle` is accepted and unused).
///
/// Each row gives one indicator per non-empty `observable` cell (several hashes of one file in
/// one cell are one indicator); kill chain phases and threats may be comma-separated in a cell;
/// dates may be RFC 3339, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`, epoch seconds or Excel serial
/// numbers. A row that cannot be read is reported with its 1-based row number and reason; the
/// others land, in one transaction. `progress` (may be NULL) is called with `userdata` during
/// the import, on this thread.
///
/// On success `*report_out` is a new report owned by the caller (free it with
/// `iocmatch_import_report_free`); its line numbers are row numbers.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `VALIDATION` (payload,
/// mapping without `observable`, defaults); `NOT_FOUND` (collection); `CORRUPT` (workbook);
/// `LIMIT_EXCEEDED` (nothing written); `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_file_import(
    store: *const iocmatch_store,
    collection: *const c_char,
    collection_len: usize,
    data: *const u8,
    data_len: usize,
    filename: *const c_char,
    filename_len: usize,
    process_json: *const c_char,
    process_len: usize,
    progress: iocmatch_progress_callback,
    userdata: *mut c_void,
    report_out: *mut *mut iocmatch_import_report,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let collection = unsafe { str_arg(collection, collection_len, "collection") }?;
        let data = unsafe { bytes_arg(data, data_len, "data") }?;
        let filename = unsafe { opt_str_arg(filename, filename_len, "filename") }?;
        let options = match unsafe { opt_str_arg(process_json, process_len, "process_json") }? {
            None => FileImport::default(),
            Some(json) => FileProcess::from_json(json)
                .map_err(|e| FfiError::new(iocmatch_result::Validation, format!("parameter 'process_json': {e}")))?
                .to_import()?,
        };
        check_out(report_out, "report_out")?;
        // SAFETY: the caller's callback, as the header says.
        let mut on_progress = |p: Progress| unsafe { report_progress(progress, userdata, p) };
        let report = store.inner.import_file_with_progress(collection, data, filename, &options, &mut on_progress)?;
        unsafe { write_out(report_out, new_handle(iocmatch_import_report::new(report))) };
        Ok(())
    })
}

/// Every indicator of a collection (id or name; revoked ones included, oldest first) as CSV:
/// a header row `observable,kind,valid_from,valid_until,kill_chain_phases,threats,description,
/// created,modified,revoked,id`, then one row per indicator; a cell starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return is prefixed with `'` so that no spreadsheet runs it.
///
/// On success `*csv_out` is owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `NOT_FOUND` (collection);
/// `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_export_csv(
    store: *const iocmatch_store,
    collection: *const c_char,
    collection_len: usize,
    csv_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let collection = unsafe { str_arg(collection, collection_len, "collection") }?;
        check_out(csv_out, "csv_out")?;
        let csv = store.inner.export_csv_string(collection)?;
        // indicator text holds no NUL; were one there, it would be written `\0`
        let c = crate::error::lossless_cstring(&csv).into_raw();
        unsafe { write_out(csv_out, c) };
        Ok(())
    })
}
