//! Indicators: the spec's batch payload in, the STIX 2.1 view out; get, list, search, edit and
//! revoke.
//!
//! An indicator in JSON is the spec's STIX 2.1 object: `{"id", "type", "created", "modified",
//! "revoked", "name", "description", "pattern", "valid_from", "valid_until",
//! "kill_chain_phases", "x_ic_observable_types", "x_ic_collection_ref",
//! "x_ic_related_threat_refs", ...}`.

use crate::collection::{double_option, page};
use crate::error::{guard, FfiResult};
use crate::handle;
use crate::result::iocmatch_result;
use crate::store::iocmatch_store;
use crate::strings::{check_out, json_arg, opt_str_arg, str_arg, write_json};
use iocmatch_core::import::PhaseRef;
use iocmatch_core::{IndicatorEdit, IndicatorQuery, Kind, PhaseSet, Timestamp};
use serde::Deserialize;
use std::ffi::c_char;

/// The parameters of `iocmatch_indicator_edit`: a missing key leaves a property unchanged.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EditParams {
    #[serde(default)]
    value: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    description: Option<Option<String>>,
    #[serde(default)]
    valid_from: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    valid_until: Option<Option<String>>,
    #[serde(default)]
    kill_chain_phases: Option<Vec<PhaseRef>>,
    #[serde(default)]
    x_ic_related_threat_refs: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    match_subdomains: Option<Option<bool>>,
}

/// The parameters of `iocmatch_indicator_list`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    #[serde(default)]
    search: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    revoked: Option<bool>,
    #[serde(default)]
    offset: u64,
    #[serde(default)]
    limit: u64,
}

/// Kill chain phases as the batch payload gives them: STIX objects or names.
pub(crate) fn phases(refs: &[PhaseRef]) -> FfiResult<PhaseSet> {
    let mut set = PhaseSet::EMPTY;
    for r in refs {
        set = set.union(match r {
            PhaseRef::Phase(p) => PhaseSet::from_phases(std::slice::from_ref(p))?,
            PhaseRef::Name(n) => PhaseSet::parse_list(n)?,
        });
    }
    Ok(set)
}

impl EditParams {
    fn to_edit(&self) -> FfiResult<IndicatorEdit> {
        Ok(IndicatorEdit {
            value: self.value.clone(),
            description: self.description.clone(),
            valid_from: self.valid_from.as_deref().map(Timestamp::parse).transpose()?,
            valid_until: match &self.valid_until {
                None => None,
                Some(None) => Some(None),
                Some(Some(t)) => Some(Some(Timestamp::parse(t)?)),
            },
            kill_chain_phases: self.kill_chain_phases.as_deref().map(phases).transpose()?,
            threats: self.x_ic_related_threat_refs.clone(),
            match_subdomains: self.match_subdomains,
        })
    }
}

impl ListParams {
    fn to_query(&self) -> FfiResult<IndicatorQuery> {
        Ok(IndicatorQuery {
            search: self.search.clone(),
            kind: self.kind.as_deref().map(str::parse::<Kind>).transpose()?,
            revoked: self.revoked,
            page: page(self.offset, self.limit),
        })
    }
}

/// Add indicators to a collection (id or name) from the spec's batch payload, `payload_json`:
/// `{"default_fields": {"valid_from", "valid_until", "kill_chain_phases", "description",
/// "x_ic_related_threat_refs", "match_subdomains"}, "indicators": [{"value": "...", ...}]}`.
/// Each item's own fields override the defaults; `valid_from` defaults to now. Invalid items are
/// reported in the response's `errors` and the valid ones land, all in one transaction.
///
/// On success, when `json_out` is not NULL, `*json_out` is the response `{"items": [indicator,
/// ...], "total": n, "duplicates": n, "errors": [{"index", "value", "reason"}]}` (`errors` only
/// when some item was rejected), owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `VALIDATION` (JSON that does
/// not parse, an empty `indicators`, bad `default_fields`); `NOT_FOUND` (collection);
/// `LIMIT_EXCEEDED` (nothing written); `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_indicator_add_batch(
    store: *const iocmatch_store,
    collection: *const c_char,
    collection_len: usize,
    payload_json: *const c_char,
    payload_len: usize,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let collection = unsafe { str_arg(collection, collection_len, "collection") }?;
        let payload = unsafe { str_arg(payload_json, payload_len, "payload_json") }?;
        let response = store.inner.add_indicators_json(collection, payload)?;
        unsafe { write_json(json_out, &response) }
    })
}

/// The indicator `id` (`indicator--<uuid>`), as a STIX JSON object.
///
/// On success `*json_out` is owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `VALIDATION` (malformed id);
/// `NOT_FOUND`; `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_indicator_get(
    store: *const iocmatch_store,
    id: *const c_char,
    id_len: usize,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let id = unsafe { str_arg(id, id_len, "id") }?;
        check_out(json_out, "json_out")?;
        let i = store.inner.indicator(id)?;
        unsafe { write_json(json_out, &i) }
    })
}

/// One page of a collection's indicators, oldest first. `query_json` (NULL for every indicator,
/// first page) is a JSON object with any of `"search"` (text the value contains, refanged,
/// case-insensitive), `"kind"` (`"ipv4"`, `"domain"`, ...), `"revoked"` (true: only revoked
/// ones, false: only active ones), `"offset"`, `"limit"` (0 or absent: 100).
///
/// On success `*json_out` is `{"items": [indicator, ...], "total": n}`, owned by the caller
/// (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `VALIDATION` (query);
/// `NOT_FOUND` (collection); `CONFLICT`; `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_indicator_list(
    store: *const iocmatch_store,
    collection: *const c_char,
    collection_len: usize,
    query_json: *const c_char,
    query_len: usize,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let collection = unsafe { str_arg(collection, collection_len, "collection") }?;
        let params: ListParams = match query_json.is_null() {
            true => ListParams::default(),
            false => unsafe { json_arg(query_json, query_len, "query_json") }?,
        };
        check_out(json_out, "json_out")?;
        let found = store.inner.indicators(collection, &params.to_query()?)?;
        unsafe { write_json(json_out, &found) }
    })
}

/// Search a collection: one page of the indicators whose value contains `term` (refanged,
/// case-insensitive; NULL or empty for every indicator). `limit` 0 means 100.
///
/// On success `*json_out` is `{"items": [indicator, ...], "total": n}`, owned by the caller
/// (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `NOT_FOUND`; `CONFLICT`;
/// `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_indicator_search(
    store: *const iocmatch_store,
    collection: *const c_char,
    collection_len: usize,
    term: *const c_char,
    term_len: usize,
    offset: u64,
    limit: u64,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let collection = unsafe { str_arg(collection, collection_len, "collection") }?;
        let term = unsafe { opt_str_arg(term, term_len, "term") }?;
        check_out(json_out, "json_out")?;
        let q = IndicatorQuery { search: term.map(str::to_string), page: page(offset, limit), ..Default::default() };
        let found = store.inner.indicators(collection, &q)?;
        unsafe { write_json(json_out, &found) }
    })
}

/// Edit the indicator `id`. `edit_json` is a JSON object with any of `"description"` (`null`
/// clears it), `"valid_from"`, `"valid_until"` (`null`: never expires), `"kill_chain_phases"`
/// (as in the batch payload; replaces them), `"x_ic_related_threat_refs"` (ids, names or aliases;
/// replaces them), `"match_subdomains"` (`null`: as the collection says), and `"value"`, which
/// must be the indicator's own observable (it cannot change). Dates are RFC 3339, `YYYY-MM-DD`
/// or epoch seconds. A missing key leaves the property as it is.
///
/// On success, when `json_out` is not NULL, `*json_out` is the indicator after the edit, owned
/// by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `VALIDATION` (JSON, dates,
/// window, phases, threats); `NOT_FOUND`; `IMMUTABLE_FIELD` (another `value`); `INVALID_STATE`
/// (revoked); `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_indicator_edit(
    store: *const iocmatch_store,
    id: *const c_char,
    id_len: usize,
    edit_json: *const c_char,
    edit_len: usize,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let id = unsafe { str_arg(id, id_len, "id") }?;
        let p: EditParams = unsafe { json_arg(edit_json, edit_len, "edit_json") }?;
        let i = store.inner.edit_indicator(id, &p.to_edit()?)?;
        unsafe { write_json(json_out, &i) }
    })
}

/// Revoke the indicator `id`: it never matches again. Irreversible; the indicator stays for
/// audit, and a later import of the same value makes a new indicator.
///
/// On success, when `json_out` is not NULL, `*json_out` is the revoked indicator, owned by the
/// caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `VALIDATION` (malformed id);
/// `NOT_FOUND`; `INVALID_STATE` (already revoked); `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_indicator_revoke(
    store: *const iocmatch_store,
    id: *const c_char,
    id_len: usize,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let id = unsafe { str_arg(id, id_len, "id") }?;
        let i = store.inner.revoke_indicator(id)?;
        unsafe { write_json(json_out, &i) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_params_translate() {
        let p: EditParams = serde_json::from_str(
            r#"{"valid_until": null, "description": "d", "kill_chain_phases": ["c2",
                {"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "reconnaissance"}],
                "match_subdomains": null}"#,
        )
        .unwrap();
        let e = p.to_edit().unwrap();
        assert_eq!(e.valid_until, Some(None));
        assert_eq!(e.description, Some(Some("d".into())));
        assert_eq!(e.match_subdomains, Some(None));
        assert_eq!(e.kill_chain_phases.unwrap().phases().len(), 2);
        assert_eq!(e.valid_from, None);

        let p: EditParams = serde_json::from_str(r#"{"valid_from": "not a date"}"#).unwrap();
        assert_eq!(p.to_edit().unwrap_err().code, iocmatch_result::Validation);
        let p: EditParams = serde_json::from_str(r#"{"kill_chain_phases": ["nope"]}"#).unwrap();
        assert_eq!(p.to_edit().unwrap_err().code, iocmatch_result::Validation);
        assert!(serde_json::from_str::<EditParams>(r#"{"colour": 1}"#).is_err());
    }

    #[test]
    fn list_params_translate() {
        let p: ListParams = serde_json::from_str(r#"{"kind": "domain", "revoked": false, "limit": 5}"#).unwrap();
        let q = p.to_query().unwrap();
        assert_eq!(q.kind, Some(Kind::Domain));
        assert_eq!(q.page.limit, 5);
        let p: ListParams = serde_json::from_str(r#"{"kind": "colour"}"#).unwrap();
        assert_eq!(p.to_query().unwrap_err().code, iocmatch_result::Validation);
    }
}
