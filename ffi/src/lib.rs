//! The C ABI of iocmatch: `libiocmatch.so`, `libiocmatch.a` and `include/iocmatch.h` (generated
//! from this crate by cbindgen).
//!
//! Conventions (after rustls-ffi): functions are named `iocmatch_<object>_<verb>`; objects are
//! opaque handles; every fallible function returns an [`iocmatch_result`] with fixed numbers and
//! writes its outputs through out-parameters, only on success; every pointer is checked for NULL;
//! `_free(NULL)` does nothing; no panic crosses the boundary (it becomes
//! `IOCMATCH_RESULT_PANIC`); the message of the last failure on a thread is kept for
//! [`error::iocmatch_last_error_message`].
//!
//! The layer is thin: it translates C types to core types and core errors to result codes, and
//! nothing more.
//!
//! # Safety
//!
//! Every exported function is `unsafe`: the caller promises that each non-NULL pointer it passes
//! points to what the header says (a handle made by this library and not yet freed, or `len`
//! readable bytes, or a writable out-parameter) for the duration of the call. The header states
//! this per function; it is not repeated in a `# Safety` section of each.
#![allow(non_camel_case_types, clippy::missing_safety_doc)]
#![deny(missing_docs)]

pub mod collection;
pub mod community;
pub mod detect;
pub mod detector;
pub mod error;
pub mod files;
pub mod import;
pub mod index;
pub mod indicator;
pub mod interchange;
pub mod matcher;
pub mod matches;
pub mod options;
pub mod result;
pub mod scan;
pub mod store;
pub mod strings;
pub mod telemetry;
pub mod threat;

use error::{FfiError, FfiResult};
use std::ffi::c_char;

/// The object behind a handle parameter named `name`.
///
/// # Safety
/// `p` is NULL or a live handle of type `T` made by this library, left unchanged for `'a`.
pub(crate) unsafe fn handle<'a, T>(p: *const T, name: &str) -> FfiResult<&'a T> {
    // SAFETY: the caller's promise.
    unsafe { p.as_ref() }.ok_or_else(|| FfiError::null(name))
}

/// A new handle owning `v`, to be freed with [`free_handle`].
pub(crate) fn new_handle<T>(v: T) -> *mut T {
    Box::into_raw(Box::new(v))
}

/// Free a handle made by [`new_handle`]; NULL does nothing.
///
/// # Safety
/// `p` is NULL or a live handle of type `T`, not used again.
pub(crate) unsafe fn free_handle<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: made by `Box::into_raw` in `new_handle`, by the caller's promise.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// Major version of the library (the `version` of its `Cargo.toml`).
pub const IOCMATCH_VERSION_MAJOR: u32 = 0;
/// Minor version of the library.
pub const IOCMATCH_VERSION_MINOR: u32 = 1;
/// Patch version of the library.
pub const IOCMATCH_VERSION_PATCH: u32 = 0;
/// Version of the ABI described by this header. It changes only when a function's signature or
/// meaning, a struct's layout or an enum's numbers change incompatibly; additions keep it.
pub const IOCMATCH_ABI_VERSION: u32 = 1;

const fn parse_u32(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut n = 0u32;
    let mut i = 0;
    while i < b.len() {
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    n
}

// The header's version macros must follow Cargo.toml: the build fails when they do not.
const _: () = assert!(IOCMATCH_VERSION_MAJOR == parse_u32(env!("CARGO_PKG_VERSION_MAJOR")), "bump the version macros");
const _: () = assert!(IOCMATCH_VERSION_MINOR == parse_u32(env!("CARGO_PKG_VERSION_MINOR")), "bump the version macros");
const _: () = assert!(IOCMATCH_VERSION_PATCH == parse_u32(env!("CARGO_PKG_VERSION_PATCH")), "bump the version macros");

/// The version of the library that is linked, e.g. `"0.1.0"` (compare with
/// `IOCMATCH_VERSION_STRING`, the version of the header compiled against).
///
/// Returns a static NUL-terminated string: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn iocmatch_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version of the library that is linked (compare with `IOCMATCH_ABI_VERSION`, the
/// version of the header compiled against: a program should refuse to run when they differ).
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn iocmatch_abi_version() -> u32 {
    IOCMATCH_ABI_VERSION
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn versions_follow_cargo_toml() {
        let v = unsafe { CStr::from_ptr(iocmatch_version()) }.to_str().unwrap();
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        assert_eq!(v, format!("{IOCMATCH_VERSION_MAJOR}.{IOCMATCH_VERSION_MINOR}.{IOCMATCH_VERSION_PATCH}"));
        assert_eq!(iocmatch_abi_version(), IOCMATCH_ABI_VERSION);
    }

    #[test]
    fn handles_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<store::iocmatch_store>();
        check::<index::iocmatch_index>();
        check::<matcher::iocmatch_matcher>();
        check::<detector::iocmatch_detector>();
        check::<matches::iocmatch_matches>();
        check::<import::iocmatch_import_report>();
    }
}
