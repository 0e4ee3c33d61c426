//! The store handle: open a durable store (a SQLite file) or a throwaway one in memory.

use crate::error::guard;
use crate::result::iocmatch_result;
use crate::strings::{check_out, path_arg, write_out};
use crate::{free_handle, handle, new_handle};
use iocmatch_core::Store;
use std::ffi::c_char;
use std::sync::Arc;

/// A store of communities, collections, threats and indicators (the source of truth).
///
/// Thread-safe: every function taking a store may be called on the same handle from several
/// threads at once; calls are serialised inside (one database connection behind a lock). Free it
/// with `iocmatch_store_free` once no call on it is running; matchers made from it keep what they
/// need alive.
pub struct iocmatch_store {
    pub(crate) inner: Arc<Store>,
}

/// Open (creating it if needed) the store in the file at `path` (`path_len` bytes, not
/// NUL-terminated, no NUL inside), upgrading its schema.
///
/// On success `*store_out` is a new handle owned by the caller (free it with
/// `iocmatch_store_free`). `path` is only read during the call.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER` (`path` or `store_out` NULL); `VALIDATION`
/// (empty path or a NUL in it); `STORAGE` (the file cannot be opened, is not an iocmatch store or
/// was written by a newer version).
#[no_mangle]
pub unsafe extern "C" fn iocmatch_store_open(
    path: *const c_char,
    path_len: usize,
    store_out: *mut *mut iocmatch_store,
) -> iocmatch_result {
    guard(|| {
        check_out(store_out, "store_out")?;
        let path = unsafe { path_arg(path, path_len, "path") }?;
        let store = Store::open(path)?;
        unsafe { write_out(store_out, new_handle(iocmatch_store { inner: Arc::new(store) })) };
        Ok(())
    })
}

/// Open a new, empty store held in memory; it disappears when freed.
///
/// On success `*store_out` is a new handle owned by the caller (free it with
/// `iocmatch_store_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER` (`store_out` NULL); `STORAGE`.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_store_open_in_memory(store_out: *mut *mut iocmatch_store) -> iocmatch_result {
    guard(|| {
        check_out(store_out, "store_out")?;
        let store = Store::open_in_memory()?;
        unsafe { write_out(store_out, new_handle(iocmatch_store { inner: Arc::new(store) })) };
        Ok(())
    })
}

/// Close a store handle. NULL is ignored. Every acknowledged write is already durable; live
/// matchers made from the store keep the database open until they are freed.
///
/// No other call may be using the handle, and it must not be used again.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_store_free(store: *mut iocmatch_store) {
    crate::error::guard_value((), || unsafe { free_handle(store) })
}

/// The maximum number of active indicators in one community (500,000 unless changed), written
/// to `*max_out`.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_store_get_limit(store: *const iocmatch_store, max_out: *mut u64) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        check_out(max_out, "max_out")?;
        let max = store.inner.max_indicators_per_community()?;
        unsafe { write_out(max_out, max) };
        Ok(())
    })
}

/// Change the maximum number of active indicators in one community, for this store (kept in
/// the database). Imports that would go past it fail with `IOCMATCH_RESULT_LIMIT_EXCEEDED`.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_store_set_limit(store: *const iocmatch_store, max: u64) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        store.inner.set_max_indicators_per_community(max)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_file_and_memory_and_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let p = path.to_str().unwrap();
        let mut s: *mut iocmatch_store = std::ptr::null_mut();
        unsafe {
            assert_eq!(iocmatch_store_open(p.as_ptr().cast(), p.len(), &mut s), iocmatch_result::Ok);
            assert_eq!(iocmatch_store_set_limit(s, 7), iocmatch_result::Ok);
            iocmatch_store_free(s);
            s = std::ptr::null_mut();
            assert_eq!(iocmatch_store_open(p.as_ptr().cast(), p.len(), &mut s), iocmatch_result::Ok);
            let mut max = 0u64;
            assert_eq!(iocmatch_store_get_limit(s, &mut max), iocmatch_result::Ok);
            assert_eq!(max, 7);
            iocmatch_store_free(s);

            let junk = dir.path().join("junk.db");
            std::fs::write(&junk, vec![0x5au8; 8192]).unwrap();
            let j = junk.to_str().unwrap();
            let mut out: *mut iocmatch_store = std::ptr::null_mut();
            assert_eq!(iocmatch_store_open(j.as_ptr().cast(), j.len(), &mut out), iocmatch_result::Storage);
            assert!(out.is_null(), "out-parameters are written only on success");
            assert_eq!(iocmatch_store_open(p.as_ptr().cast(), 0, &mut out), iocmatch_result::Validation);
            assert_eq!(iocmatch_store_open_in_memory(std::ptr::null_mut()), iocmatch_result::NullParameter);
            assert_eq!(iocmatch_store_open_in_memory(&mut out), iocmatch_result::Ok);
            assert_eq!(iocmatch_store_get_limit(out, std::ptr::null_mut()), iocmatch_result::NullParameter);
            iocmatch_store_free(out);
            iocmatch_store_free(std::ptr::null_mut());
        }
    }
}
