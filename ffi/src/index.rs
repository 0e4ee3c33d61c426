//! Compiled indexes: immutable snapshots of a store's active indicators, saved to and loaded
//! from files (by memory map, without copying).

use crate::error::{guard, guard_value};
use crate::result::iocmatch_result;
use crate::store::iocmatch_store;
use crate::strings::{check_out, path_arg, write_out};
use crate::{free_handle, handle, new_handle};
use iocmatch_core::Index;
use std::ffi::c_char;
use std::sync::Arc;

/// A compiled, immutable index. Thread-safe: any number of threads may use it at once. Matchers
/// made from it share it, so it may be freed as soon as they are made.
pub struct iocmatch_index {
    pub(crate) inner: Arc<Index>,
}

/// Compile every active indicator of the store into a new index (a consistent snapshot, even
/// while others write).
///
/// On success `*index_out` is a new handle owned by the caller (free it with
/// `iocmatch_index_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `STORAGE`; `CORRUPT` (the store holds values
/// it cannot have written). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_index_compile(
    store: *const iocmatch_store,
    index_out: *mut *mut iocmatch_index,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        check_out(index_out, "index_out")?;
        let index = store.inner.compile()?;
        unsafe { write_out(index_out, new_handle(iocmatch_index { inner: Arc::new(index) })) };
        Ok(())
    })
}

/// Load the index file at `path` (`path_len` bytes, no NUL) by memory-mapping it. The whole
/// file is checksummed and validated first; the file must not be changed in place while the
/// index (or a matcher made from it) lives — replace it with a new file, as
/// `iocmatch_index_save` does.
///
/// On success `*index_out` is a new handle owned by the caller (free it with
/// `iocmatch_index_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `VALIDATION` (empty path, NUL inside); `IO`
/// (cannot open or map the file); `CORRUPT` (truncated, damaged, another format version, not an
/// index at all).
#[no_mangle]
pub unsafe extern "C" fn iocmatch_index_load(
    path: *const c_char,
    path_len: usize,
    index_out: *mut *mut iocmatch_index,
) -> iocmatch_result {
    guard(|| {
        check_out(index_out, "index_out")?;
        let path = unsafe { path_arg(path, path_len, "path") }?;
        let index = Index::load(path)?;
        unsafe { write_out(index_out, new_handle(iocmatch_index { inner: Arc::new(index) })) };
        Ok(())
    })
}

/// Write the index to the file at `path` atomically (a temporary file, synced, renamed over it).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `VALIDATION` (empty path, NUL inside); `IO`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_index_save(
    index: *const iocmatch_index,
    path: *const c_char,
    path_len: usize,
) -> iocmatch_result {
    guard(|| {
        let index = unsafe { handle(index, "index") }?;
        let path = unsafe { path_arg(path, path_len, "path") }?;
        index.inner.save(path)?;
        Ok(())
    })
}

/// Number of indicators in the index; 0 for NULL. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_index_len(index: *const iocmatch_index) -> usize {
    guard_value(0, || unsafe { index.as_ref() }.map_or(0, |i| i.inner.len()))
}

/// Size of the index in bytes (its file size); 0 for NULL. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_index_size_bytes(index: *const iocmatch_index) -> usize {
    guard_value(0, || unsafe { index.as_ref() }.map_or(0, |i| i.inner.size_bytes()))
}

/// Free an index handle. NULL is ignored. Matchers made from it keep the index alive.
///
/// No other call may be using the handle, and it must not be used again.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_index_free(index: *mut iocmatch_index) {
    guard_value((), || unsafe { free_handle(index) })
}
