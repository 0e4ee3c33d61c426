//! Match options: which collections a matcher sees, the field-scope profile, the default time.

use crate::error::{guard, guard_value, FfiError};
use crate::result::iocmatch_result;
use crate::strings::{check_out, str_arg, write_out};
use crate::{free_handle, new_handle};
use iocmatch_core::{MatchOptions, Profile, SightingsRecorder, Timestamp};
use std::ffi::c_char;
use std::sync::Arc;

/// Options for a new matcher, built with the `iocmatch_match_options_*` setters. A matcher copies
/// them when it is made, so they may be freed (or changed for the next matcher) right after.
///
/// Not synchronised: do not change one from two threads at once, nor while a matcher is being
/// made from it.
pub struct iocmatch_match_options {
    pub(crate) inner: MatchOptions,
}

unsafe fn options_mut<'a>(p: *mut iocmatch_match_options) -> Result<&'a mut iocmatch_match_options, FfiError> {
    // SAFETY: the caller's promise: NULL or a live, unshared options handle.
    unsafe { p.as_mut() }.ok_or_else(|| FfiError::null("options"))
}

/// New options: every collection, the `default` field profile, events without a readable
/// `@timestamp` matched at the time of matching.
///
/// On success `*options_out` is owned by the caller (free it with `iocmatch_match_options_free`).
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_match_options_new(options_out: *mut *mut iocmatch_match_options) -> iocmatch_result {
    guard(|| {
        check_out(options_out, "options_out")?;
        unsafe { write_out(options_out, new_handle(iocmatch_match_options { inner: MatchOptions::default() })) };
        Ok(())
    })
}

/// Match events of the community `community`: the matcher sees that community's collections and
/// those of its ancestors made available to sub-communities. A matcher made from an index needs
/// the community's id (uuid); a live matcher also accepts its name.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_match_options_set_community(
    options: *mut iocmatch_match_options,
    community: *const c_char,
    community_len: usize,
) -> iocmatch_result {
    guard(|| {
        let o = unsafe { options_mut(options) }?;
        let c = unsafe { str_arg(community, community_len, "community") }?;
        o.inner.community = Some(c.to_string());
        Ok(())
    })
}

/// Only report indicators of this collection (and of the others added the same way). A matcher
/// made from an index needs the collection's id (`ioc-collection--<uuid>` or the bare uuid); a
/// live matcher also accepts its name.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_match_options_add_collection(
    options: *mut iocmatch_match_options,
    collection: *const c_char,
    collection_len: usize,
) -> iocmatch_result {
    guard(|| {
        let o = unsafe { options_mut(options) }?;
        let c = unsafe { str_arg(collection, collection_len, "collection") }?;
        o.inner.collections.get_or_insert_with(Vec::new).push(c.to_string());
        Ok(())
    })
}

/// Use the field-scope profile `profile`: `"default"`, `"strict"` (the spec's table of ECS
/// fields only), or the path of a profile file (one `FIELD KIND[,KIND]` rule per line, may start
/// with `include default`). A file is read now.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `VALIDATION` (a bad rule);
/// `IO` (the file cannot be read).
#[no_mangle]
pub unsafe extern "C" fn iocmatch_match_options_set_profile(
    options: *mut iocmatch_match_options,
    profile: *const c_char,
    profile_len: usize,
) -> iocmatch_result {
    guard(|| {
        let o = unsafe { options_mut(options) }?;
        let p = unsafe { str_arg(profile, profile_len, "profile") }?;
        o.inner.profile = Some(Profile::load(p)?);
        Ok(())
    })
}

/// Use a field-scope profile given as text (`text_len` bytes): one `FIELD KIND[,KIND]` rule per
/// line, kinds `ip`, `domain`, `url`, `hash`, `email`, `username` or any kind name; it may
/// start with `include default`.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`; `INVALID_UTF8`; `VALIDATION` (a bad rule,
/// with its line).
#[no_mangle]
pub unsafe extern "C" fn iocmatch_match_options_set_profile_text(
    options: *mut iocmatch_match_options,
    text: *const c_char,
    text_len: usize,
) -> iocmatch_result {
    guard(|| {
        let o = unsafe { options_mut(options) }?;
        let t = unsafe { str_arg(text, text_len, "text") }?;
        o.inner.profile = Some(Profile::parse("custom", t)?);
        Ok(())
    })
}

/// Match events without a readable `@timestamp` (and raw text and field pairs given no `at`)
/// at `unix_seconds` instead of the time of matching.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_match_options_set_default_time(
    options: *mut iocmatch_match_options,
    unix_seconds: i64,
) -> iocmatch_result {
    guard(|| {
        let o = unsafe { options_mut(options) }?;
        o.inner.default_time = Some(Timestamp::from_secs(unix_seconds));
        Ok(())
    })
}

/// Count sightings (`record` true) or not (false, the default): a matcher made with these
/// options counts, per indicator and UTC day, every event in which it found the indicator,
/// whatever its validity window (for telemetry reports made with
/// `iocmatch_telemetry_from_sightings`). Counts stay in memory until
/// `iocmatch_matcher_flush_sightings`. Each matcher made from the options gets its own counter.
///
/// Returns `IOCMATCH_RESULT_OK`; `NULL_PARAMETER`.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_match_options_set_record_sightings(
    options: *mut iocmatch_match_options,
    record: bool,
) -> iocmatch_result {
    guard(|| {
        let o = unsafe { options_mut(options) }?;
        o.inner.sightings = record.then(|| Arc::new(SightingsRecorder::new()));
        Ok(())
    })
}

/// Free options. NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_match_options_free(options: *mut iocmatch_match_options) {
    guard_value((), || unsafe { free_handle(options) })
}

/// The options behind a nullable handle (the defaults for NULL), copied.
///
/// # Safety
/// `p` is NULL or a live options handle.
pub(crate) unsafe fn options_or_default(p: *const iocmatch_match_options) -> MatchOptions {
    let mut o = unsafe { p.as_ref() }.map(|o| o.inner.clone()).unwrap_or_default();
    if o.sightings.is_some() {
        // each matcher counts on its own
        o.sightings = Some(Arc::new(SightingsRecorder::new()));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setters_fill_the_options() {
        let mut o: *mut iocmatch_match_options = std::ptr::null_mut();
        unsafe {
            assert_eq!(iocmatch_match_options_new(&mut o), iocmatch_result::Ok);
            let c = "ioc-collection--0193a0b4-0000-7000-8000-000000000001";
            assert_eq!(iocmatch_match_options_add_collection(o, c.as_ptr().cast(), c.len()), iocmatch_result::Ok);
            assert_eq!(iocmatch_match_options_set_profile(o, c"strict".as_ptr(), 6), iocmatch_result::Ok);
            let bad = "source.ip colour\n";
            let r = iocmatch_match_options_set_profile_text(o, bad.as_ptr().cast(), bad.len());
            assert_eq!(r, iocmatch_result::Validation);
            assert_eq!(iocmatch_match_options_set_default_time(o, 86400), iocmatch_result::Ok);
            let opts = options_or_default(o);
            assert_eq!(opts.collections.as_deref(), Some(&[c.to_string()][..]));
            assert_eq!(opts.profile.as_ref().map(|p| p.name()), Some("strict"));
            assert_eq!(opts.default_time, Some(Timestamp::from_secs(86400)));
            assert_eq!(
                iocmatch_match_options_set_default_time(std::ptr::null_mut(), 0),
                iocmatch_result::NullParameter
            );
            iocmatch_match_options_free(o);
            iocmatch_match_options_free(std::ptr::null_mut());
        }
    }
}
