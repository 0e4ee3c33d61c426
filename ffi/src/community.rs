//! Communities: a tree of tenants; a `default` community always exists.
//!
//! A community in JSON: `{"id", "name", "parent_id", "created"}`.

use crate::error::guard;
use crate::handle;
use crate::result::iocmatch_result;
use crate::store::iocmatch_store;
use crate::strings::{check_out, opt_str_arg, str_arg, write_json};
use std::ffi::c_char;

/// Create a community named `name` (1 to 200 characters), under the community `parent` (an id
/// or name; NULL for a top-level one). Strings are `(pointer, length)` pairs read during the
/// call only.
///
/// On success, when `json_out` is not NULL, `*json_out` is the new community as a JSON object,
/// owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER` (`store` or `name`); `INVALID_UTF8`;
/// `VALIDATION` (bad name); `NOT_FOUND` (parent); `CONFLICT` (name taken); `STORAGE`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_community_create(
    store: *const iocmatch_store,
    name: *const c_char,
    name_len: usize,
    parent: *const c_char,
    parent_len: usize,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let name = unsafe { str_arg(name, name_len, "name") }?;
        let parent = unsafe { opt_str_arg(parent, parent_len, "parent") }?;
        let c = store.inner.create_community(name, parent)?;
        unsafe { write_json(json_out, &c) }
    })
}

/// Every community, as a JSON array of objects, in creation order.
///
/// On success `*json_out` is owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_community_list(
    store: *const iocmatch_store,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        check_out(json_out, "json_out")?;
        let all = store.inner.communities()?;
        unsafe { write_json(json_out, &all) }
    })
}

/// The community named by `id_or_name`, as a JSON object.
///
/// On success `*json_out` is owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `NOT_FOUND`; `STORAGE`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_community_get(
    store: *const iocmatch_store,
    id_or_name: *const c_char,
    id_or_name_len: usize,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let key = unsafe { str_arg(id_or_name, id_or_name_len, "id_or_name") }?;
        check_out(json_out, "json_out")?;
        let c = store.inner.community(key)?;
        unsafe { write_json(json_out, &c) }
    })
}
