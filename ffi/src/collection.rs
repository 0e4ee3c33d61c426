//! Collections: named sets of indicators in a community.
//!
//! A collection in JSON: `{"id", "name", "description", "community_id",
//! "available_for_sub_communities", "match_subdomains", "indicator_count", "revoked_count",
//! "created", "modified"}`.

use crate::error::{guard, FfiResult};
use crate::handle;
use crate::result::iocmatch_result;
use crate::store::iocmatch_store;
use crate::strings::{check_out, json_arg, opt_str_arg, str_arg, write_json, write_out};
use iocmatch_core::store::Pagination;
use iocmatch_core::{CollectionUpdate, NewCollection};
use serde::{Deserialize, Deserializer};
use std::ffi::c_char;

/// The parameters of `iocmatch_collection_create`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateParams {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    community: Option<String>,
    #[serde(default)]
    available_for_sub_communities: bool,
    #[serde(default)]
    match_subdomains: bool,
    #[serde(default)]
    create_rule: bool,
}

/// `null` is `Some(None)`, a value `Some(Some(v))`; a missing key is `None` (with `default`).
pub(crate) fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The parameters of `iocmatch_collection_update`: a missing key leaves a property unchanged.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateParams {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    description: Option<Option<String>>,
    #[serde(default)]
    available_for_sub_communities: Option<bool>,
    #[serde(default)]
    match_subdomains: Option<bool>,
}

/// A page from C: `limit` 0 means the default (100).
pub(crate) fn page(offset: u64, limit: u64) -> Pagination {
    let d = Pagination::default();
    Pagination { offset, limit: if limit == 0 { d.limit } else { limit } }
}

/// Create a collection. `params_json` (`params_len` bytes, read during the call) is a JSON
/// object: `{"name": "...", "description": "...", "community": "<id or name>",
/// "available_for_sub_communities": false, "match_subdomains": false, "create_rule": false}`;
/// only `name` is required (description at most 500 characters; community `default` when
/// absent; `create_rule` also creates a detection rule `IOC collection: <name>` covering it).
///
/// On success, when `json_out` is not NULL, `*json_out` is the new collection as a JSON object
/// (with its `id`), owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `VALIDATION` (JSON, name,
/// description); `NOT_FOUND` (community); `CONFLICT` (name taken in the community); `STORAGE`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_collection_create(
    store: *const iocmatch_store,
    params_json: *const c_char,
    params_len: usize,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let p: CreateParams = unsafe { json_arg(params_json, params_len, "params_json") }?;
        let c = store.inner.create_collection(&NewCollection {
            name: p.name,
            description: p.description,
            community: p.community,
            available_for_sub_communities: p.available_for_sub_communities,
            match_subdomains: p.match_subdomains,
            create_rule: p.create_rule,
        })?;
        unsafe { write_json(json_out, &c) }
    })
}

/// The collection named by `id_or_name` (an id `ioc-collection--<uuid>`, a bare uuid, or a
/// name unique across communities), as a JSON object.
///
/// On success `*json_out` is owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `NOT_FOUND`; `CONFLICT`
/// (a name used in several communities); `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_collection_get(
    store: *const iocmatch_store,
    id_or_name: *const c_char,
    id_or_name_len: usize,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let key = unsafe { str_arg(id_or_name, id_or_name_len, "id_or_name") }?;
        check_out(json_out, "json_out")?;
        let c = store.inner.collection(key)?;
        unsafe { write_json(json_out, &c) }
    })
}

/// One page of collections, oldest first: of the community `community` (id or name), or of
/// every community when `community` is NULL. `limit` 0 means 100.
///
/// On success `*json_out` is `{"items": [collection, ...], "total": n}` (`total` counts every
/// page), owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER` (`store`, `json_out`); `INVALID_UTF8`;
/// `NOT_FOUND` (community); `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_collection_list(
    store: *const iocmatch_store,
    community: *const c_char,
    community_len: usize,
    offset: u64,
    limit: u64,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let community = unsafe { opt_str_arg(community, community_len, "community") }?;
        check_out(json_out, "json_out")?;
        let all = store.inner.collections(community, page(offset, limit))?;
        unsafe { write_json(json_out, &all) }
    })
}

/// Change a collection. `update_json` is a JSON object with any of `"name"`, `"description"`
/// (`null` clears it), `"available_for_sub_communities"`, `"match_subdomains"`; a missing key
/// leaves the property as it is.
///
/// On success, when `json_out` is not NULL, `*json_out` is the collection after the change,
/// owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `VALIDATION`; `NOT_FOUND`;
/// `CONFLICT` (new name taken); `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_collection_update(
    store: *const iocmatch_store,
    id_or_name: *const c_char,
    id_or_name_len: usize,
    update_json: *const c_char,
    update_len: usize,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let key = unsafe { str_arg(id_or_name, id_or_name_len, "id_or_name") }?;
        let u: UpdateParams = unsafe { json_arg(update_json, update_len, "update_json") }?;
        let c = store.inner.update_collection(
            key,
            &CollectionUpdate {
                name: u.name,
                description: u.description,
                available_for_sub_communities: u.available_for_sub_communities,
                match_subdomains: u.match_subdomains,
            },
        )?;
        unsafe { write_json(json_out, &c) }
    })
}

/// Delete a collection and every indicator in it (revoked ones too). When `deleted_out` is not
/// NULL, `*deleted_out` is the number of indicators deleted.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `NOT_FOUND`; `CONFLICT`;
/// `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_collection_delete(
    store: *const iocmatch_store,
    id_or_name: *const c_char,
    id_or_name_len: usize,
    deleted_out: *mut u64,
) -> iocmatch_result {
    guard(|| -> FfiResult<()> {
        let store = unsafe { handle(store, "store") }?;
        let key = unsafe { str_arg(id_or_name, id_or_name_len, "id_or_name") }?;
        let n = store.inner.delete_collection(key)?;
        unsafe { write_out(deleted_out, n) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_distinguishes_missing_null_and_value() {
        let u: UpdateParams = serde_json::from_str(r#"{"name": "x"}"#).unwrap();
        assert_eq!(u.description, None);
        let u: UpdateParams = serde_json::from_str(r#"{"description": null}"#).unwrap();
        assert_eq!(u.description, Some(None));
        let u: UpdateParams = serde_json::from_str(r#"{"description": "d"}"#).unwrap();
        assert_eq!(u.description, Some(Some("d".into())));
        assert!(serde_json::from_str::<UpdateParams>(r#"{"nmae": "x"}"#).is_err());
        assert!(serde_json::from_str::<CreateParams>(r#"{"description": "no name"}"#).is_err());
        assert_eq!(page(5, 0).limit, 100);
        assert_eq!(page(5, 7).limit, 7);
    }
}
