//! Strings and buffers across the boundary: `(pointer, length)` in, owned or borrowed C strings
//! out.

use crate::error::{FfiError, FfiResult};
use std::ffi::{c_char, CString};
use std::path::PathBuf;

/// A borrowed string returned by the library: `len` bytes of UTF-8 at `data`, followed by a NUL
/// (so `data` can be used as a C string when the text has no NUL of its own). Who owns it and
/// how long it lives is said by the function that returns it. `data` is NULL (and `len` 0) when
/// there is nothing to return.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct iocmatch_str {
    /// The first byte, or NULL.
    pub data: *const c_char,
    /// The number of bytes, not counting the NUL that follows them.
    pub len: usize,
}

impl iocmatch_str {
    /// A view of `text`, which must be followed by a NUL byte in memory (as in an [`Arena`]).
    pub(crate) fn of(text: &[u8]) -> iocmatch_str {
        iocmatch_str { data: text.as_ptr().cast(), len: text.len() }
    }
}

/// A byte buffer given by the caller: `len` bytes at `data`. `data` may not be NULL, even when
/// `len` is 0.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct iocmatch_bytes {
    /// The first byte.
    pub data: *const u8,
    /// The number of bytes.
    pub len: usize,
}

/// Strings laid end to end, each followed by a NUL: borrowed views into it stay valid as long
/// as the arena is neither changed nor dropped.
#[derive(Debug, Default, Clone)]
pub(crate) struct Arena {
    bytes: Vec<u8>,
}

/// Where a string lives in an [`Arena`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Span {
    start: usize,
    len: usize,
}

impl Arena {
    /// Append `s` (and a NUL); where it is.
    pub fn push(&mut self, s: &str) -> Span {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(s.as_bytes());
        self.bytes.push(0);
        Span { start, len: s.len() }
    }

    /// The string at `span`, as a borrowed C view.
    pub fn view(&self, span: Span) -> iocmatch_str {
        iocmatch_str::of(&self.bytes[span.start..span.start + span.len])
    }

    /// Empty it, keeping its memory.
    pub fn clear(&mut self) {
        self.bytes.clear();
    }
}

/// The `len` bytes at `ptr`, a parameter named `name`.
///
/// # Safety
/// `ptr` is NULL or points to `len` readable bytes that stay unchanged for `'a`.
pub(crate) unsafe fn bytes_arg<'a>(ptr: *const u8, len: usize, name: &str) -> FfiResult<&'a [u8]> {
    if ptr.is_null() {
        return Err(FfiError::null(name));
    }
    if len > isize::MAX as usize {
        return Err(FfiError::argument(format!("parameter '{name}': length {len} is too large")));
    }
    // SAFETY: non-NULL, length in range; the caller promises `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// The UTF-8 text of `len` bytes at `ptr`, a parameter named `name`.
///
/// # Safety
/// As [`bytes_arg`].
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, len: usize, name: &str) -> FfiResult<&'a str> {
    let b = unsafe { bytes_arg(ptr.cast(), len, name) }?;
    std::str::from_utf8(b).map_err(|e| {
        let mut err = FfiError::new(
            crate::result::iocmatch_result::InvalidUtf8,
            format!("parameter '{name}' is not valid UTF-8 (invalid byte at offset {})", e.valid_up_to()),
        );
        err.value = Some(String::from_utf8_lossy(&b[..b.len().min(200)]).into_owned());
        err
    })
}

/// As [`str_arg`], with NULL meaning "not given".
///
/// # Safety
/// As [`bytes_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(ptr: *const c_char, len: usize, name: &str) -> FfiResult<Option<&'a str>> {
    if ptr.is_null() {
        return Ok(None);
    }
    unsafe { str_arg(ptr, len, name) }.map(Some)
}

/// The `n` structs at `items` (`items` may be NULL when `n` is 0).
///
/// # Safety
/// `items` points to `n` readable `iocmatch_bytes`.
unsafe fn items_arg<'a>(items: *const iocmatch_bytes, n: usize, name: &str) -> FfiResult<&'a [iocmatch_bytes]> {
    if n == 0 {
        return Ok(&[]);
    }
    if items.is_null() {
        return Err(FfiError::null(name));
    }
    if n > isize::MAX as usize / std::mem::size_of::<iocmatch_bytes>() {
        return Err(FfiError::argument(format!("parameter '{name}': {n} items is too many")));
    }
    // SAFETY: non-NULL (checked above), `n` readable structs at `items` by the caller's promise.
    Ok(unsafe { std::slice::from_raw_parts(items, n) })
}

/// The `n` buffers at `items` (`items` may be NULL when `n` is 0), each checked as
/// [`bytes_arg`] and named `name[i]` in errors.
///
/// # Safety
/// `items` points to `n` readable `iocmatch_bytes`, each as [`bytes_arg`] requires.
pub(crate) unsafe fn byte_items<'a>(items: *const iocmatch_bytes, n: usize, name: &str) -> FfiResult<Vec<&'a [u8]>> {
    let items = unsafe { items_arg(items, n, name) }?;
    items.iter().enumerate().map(|(i, b)| unsafe { bytes_arg(b.data, b.len, &format!("{name}[{i}]")) }).collect()
}

/// The `n` file paths at `items`, each as [`path_arg`].
///
/// # Safety
/// As [`byte_items`].
pub(crate) unsafe fn path_items(items: *const iocmatch_bytes, n: usize, name: &str) -> FfiResult<Vec<PathBuf>> {
    let items = unsafe { items_arg(items, n, name) }?;
    items.iter().enumerate().map(|(i, b)| unsafe { path_arg(b.data.cast(), b.len, &format!("{name}[{i}]")) }).collect()
}

/// A file path given as `len` bytes at `ptr` (any bytes on Unix; UTF-8 elsewhere).
///
/// # Safety
/// As [`bytes_arg`].
pub(crate) unsafe fn path_arg(ptr: *const c_char, len: usize, name: &str) -> FfiResult<PathBuf> {
    let b = unsafe { bytes_arg(ptr.cast(), len, name) }?;
    if b.is_empty() {
        return Err(FfiError::new(crate::result::iocmatch_result::Validation, format!("parameter '{name}' is empty")));
    }
    if b.contains(&0) {
        return Err(FfiError::new(
            crate::result::iocmatch_result::Validation,
            format!("parameter '{name}' holds a NUL byte: not a file path"),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(b)))
    }
    #[cfg(not(unix))]
    {
        Ok(PathBuf::from(unsafe { str_arg(ptr, len, name) }?))
    }
}

/// A JSON object parameter: parsed into `T` (whose fields say which keys are allowed).
///
/// # Safety
/// As [`bytes_arg`].
pub(crate) unsafe fn json_arg<T: serde::de::DeserializeOwned>(
    ptr: *const c_char,
    len: usize,
    name: &str,
) -> FfiResult<T> {
    let text = unsafe { str_arg(ptr, len, name) }?;
    let quoted = |mut err: FfiError| {
        err.value = Some(text.chars().take(200).collect());
        err
    };
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| quoted(FfiError::json(name, e)))?;
    if !v.is_object() {
        let msg = format!("parameter '{name}' must be a JSON object");
        return Err(quoted(FfiError::new(crate::result::iocmatch_result::Validation, msg)));
    }
    serde_json::from_value(v).map_err(|e| quoted(FfiError::json(name, e)))
}

/// Fail unless the out-parameter `p`, named `name`, can be written.
pub(crate) fn check_out<T>(p: *mut T, name: &str) -> FfiResult<()> {
    if p.is_null() {
        Err(FfiError::null(name))
    } else {
        Ok(())
    }
}

/// Write `v` to the out-parameter `p` (checked first with [`check_out`]), or drop it if `p` is
/// NULL (an optional output).
///
/// # Safety
/// `p` is NULL or writable.
pub(crate) unsafe fn write_out<T>(p: *mut T, v: T) {
    if !p.is_null() {
        // SAFETY: non-NULL and writable by the caller's promise; nothing to drop there.
        unsafe { p.write(v) };
    }
}

/// `value` as JSON in a new C string, to be freed with `iocmatch_string_free`.
pub(crate) fn json_out<T: serde::Serialize + ?Sized>(value: &T) -> FfiResult<*mut c_char> {
    let s = serde_json::to_string(value)
        .map_err(|e| FfiError::new(crate::result::iocmatch_result::Validation, format!("cannot write JSON: {e}")))?;
    // serde_json escapes every control character, so the text holds no NUL.
    Ok(crate::error::lossless_cstring(&s).into_raw())
}

/// Write `value` as a new JSON C string to the optional out-parameter `out`.
///
/// # Safety
/// `out` is NULL or writable.
pub(crate) unsafe fn write_json<T: serde::Serialize + ?Sized>(out: *mut *mut c_char, value: &T) -> FfiResult<()> {
    if !out.is_null() {
        let s = json_out(value)?;
        unsafe { write_out(out, s) };
    }
    Ok(())
}

/// Free a string returned by the library through a `char **` out-parameter (JSON documents).
/// NULL is ignored.
///
/// `s` must come from this library and not have been freed; after the call it is gone. Any
/// thread may free a string, once.
#[no_mangle]
pub unsafe extern "C" fn iocmatch_string_free(s: *mut c_char) {
    crate::error::guard_value((), || {
        if !s.is_null() {
            // SAFETY: made by `CString::into_raw` in `json_out`, by the caller's promise.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::iocmatch_result;

    #[test]
    fn arguments_are_checked() {
        unsafe {
            assert_eq!(bytes_arg(std::ptr::null(), 0, "json").unwrap_err().code, iocmatch_result::NullParameter);
            let e = bytes_arg(b"x".as_ptr(), usize::MAX, "json").unwrap_err();
            assert_eq!(e.code, iocmatch_result::InvalidArgument);
            assert_eq!(bytes_arg(b"".as_ptr(), 0, "json").unwrap(), b"");
            let bad = b"ab\xffcd";
            let e = str_arg(bad.as_ptr().cast(), bad.len(), "name").unwrap_err();
            assert_eq!(e.code, iocmatch_result::InvalidUtf8);
            assert_eq!(e.message, "parameter 'name' is not valid UTF-8 (invalid byte at offset 2)");
            assert_eq!(opt_str_arg(std::ptr::null(), 5, "parent").unwrap(), None);
            let e = path_arg(b"a\0b".as_ptr().cast(), 3, "path").unwrap_err();
            assert_eq!(e.code, iocmatch_result::Validation);
            let e = json_arg::<serde_json::Value>(b"{nope".as_ptr().cast(), 5, "params").unwrap_err();
            assert_eq!(e.code, iocmatch_result::Validation);
            assert!(e.message.starts_with("parameter 'params' is not the expected JSON"), "{}", e.message);
            let e = json_arg::<serde_json::Value>(b"[1]".as_ptr().cast(), 3, "params").unwrap_err();
            assert_eq!(e.message, "parameter 'params' must be a JSON object");
            assert_eq!(check_out::<u8>(std::ptr::null_mut(), "out").unwrap_err().message, "parameter 'out' is NULL");
        }
    }

    #[test]
    fn arena_views_are_nul_terminated() {
        let mut a = Arena::default();
        let x = a.push("abc");
        let y = a.push("");
        let (vx, vy) = (a.view(x), a.view(y));
        assert_eq!(vx.len, 3);
        assert_eq!(unsafe { std::ffi::CStr::from_ptr(vx.data) }.to_str().unwrap(), "abc");
        assert_eq!(vy.len, 0);
        assert_eq!(unsafe { *vy.data }, 0);
    }

    #[test]
    fn json_strings_round_trip_and_free() {
        let p = json_out(&serde_json::json!({"a": "x\u{0}y"})).unwrap();
        assert_eq!(unsafe { std::ffi::CStr::from_ptr(p) }.to_str().unwrap(), r#"{"a":"x\u0000y"}"#);
        unsafe { iocmatch_string_free(p) };
        unsafe { iocmatch_string_free(std::ptr::null_mut()) };
    }
}
