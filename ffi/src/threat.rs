//! Threats: the registry that lets imports name a threat (`APT-29`) instead of its STIX id.
//!
//! A threat in JSON: `{"id", "name", "aliases", "created"}`.

use crate::error::guard;
use crate::handle;
use crate::result::iocmatch_result;
use crate::store::iocmatch_store;
use crate::strings::{check_out, json_arg, write_json};
use iocmatch_core::NewThreat;
use serde::Deserialize;
use std::ffi::c_char;

/// The parameters of `iocmatch_threat_add`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddParams {
    name: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    threat_type: Option<String>,
}

/// Register a threat. `params_json` is a JSON object: `{"name": "APT29", "id":
/// "intrusion-set--<uuid>", "aliases": ["APT-29"], "threat_type": "intrusion-set"}`; only `name`
/// is required (an id `<threat_type>--<new uuid>` is made when `id` is absent).
///
/// On success, when `json_out` is not NULL, `*json_out` is the threat as a JSON object, owned by
/// the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `VALIDATION`; `CONFLICT`
/// (name, alias or id taken); `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_threat_add(
    store: *const iocmatch_store,
    params_json: *const c_char,
    params_len: usize,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        let p: AddParams = unsafe { json_arg(params_json, params_len, "params_json") }?;
        let t = store.inner.add_threat(&NewThreat {
            id: p.id,
            name: p.name,
            aliases: p.aliases,
            threat_type: p.threat_type,
        })?;
        unsafe { write_json(json_out, &t) }
    })
}

/// Every registered threat, as a JSON array of objects.
///
/// On success `*json_out` is owned by the caller (free it with `iocmatch_string_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `STORAGE`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_threat_list(
    store: *const iocmatch_store,
    json_out: *mut *mut c_char,
) -> iocmatch_result {
    guard(|| {
        let store = unsafe { handle(store, "store") }?;
        check_out(json_out, "json_out")?;
        let all = store.inner.threats()?;
        unsafe { write_json(json_out, &all) }
    })
}
