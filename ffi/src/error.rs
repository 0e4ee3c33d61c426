//! Errors at the boundary: core errors and panics become result codes, and the last failure of
//! each thread is kept (message, offending value, input line) for the caller to read.

use crate::result::iocmatch_result;
use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A failure on its way to C: a result code and what to say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FfiError {
    pub code: iocmatch_result,
    pub message: String,
    pub value: Option<String>,
    pub line: Option<u64>,
}

impl FfiError {
    /// A failure with `code` and `message`.
    pub fn new(code: iocmatch_result, message: impl Into<String>) -> Self {
        FfiError { code, message: message.into(), value: None, line: None }
    }

    /// A NULL pointer where parameter `name` must not be NULL.
    pub fn null(name: &str) -> Self {
        FfiError::new(iocmatch_result::NullParameter, format!("parameter '{name}' is NULL"))
    }

    /// A parameter out of range.
    pub fn argument(message: impl Into<String>) -> Self {
        FfiError::new(iocmatch_result::InvalidArgument, message)
    }

    /// Malformed JSON (or JSON of the wrong shape) in parameter `name`.
    pub fn json(name: &str, e: serde_json::Error) -> Self {
        FfiError::new(iocmatch_result::Validation, format!("parameter '{name}' is not the expected JSON: {e}"))
    }
}

impl From<iocmatch_core::Error> for FfiError {
    fn from(e: iocmatch_core::Error) -> Self {
        FfiError {
            code: e.kind().into(),
            message: e.message().to_string(),
            value: e.value().map(str::to_string),
            line: e.line(),
        }
    }
}

/// The result of a body run behind the boundary.
pub(crate) type FfiResult<T> = Result<T, FfiError>;

struct LastError {
    code: iocmatch_result,
    message: CString,
    value: Option<CString>,
    line: u64,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

/// `s` as a C string; a NUL inside (from caller data quoted in a message) is written `\0`.
pub(crate) fn lossless_cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "\\0")).unwrap_or_default()
}

/// Keep `e` as this thread's last error.
pub(crate) fn set_last_error(e: &FfiError) {
    let last = LastError {
        code: e.code,
        message: lossless_cstring(&e.message),
        value: e.value.as_deref().map(lossless_cstring),
        line: e.line.unwrap_or(0),
    };
    // `try_with`: during thread teardown the slot may be gone; the code is returned anyway.
    let _ = LAST_ERROR.try_with(|l| *l.borrow_mut() = Some(last));
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    let what = p.downcast_ref::<&str>().copied().or_else(|| p.downcast_ref::<String>().map(String::as_str));
    format!("internal error (panic): {}", what.unwrap_or("unknown cause"))
}

/// Run `body` behind the panic boundary: `IOCMATCH_RESULT_OK`, or the failure's code (kept as
/// the thread's last error).
pub(crate) fn guard(body: impl FnOnce() -> FfiResult<()>) -> iocmatch_result {
    let e = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return iocmatch_result::Ok,
        Ok(Err(e)) => e,
        Err(p) => FfiError::new(iocmatch_result::Panic, panic_message(p.as_ref())),
    };
    set_last_error(&e);
    e.code
}

/// Run an infallible accessor behind the panic boundary: `fallback` if it panicked (the panic
/// is kept as the thread's last error).
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(p) => {
            set_last_error(&FfiError::new(iocmatch_result::Panic, panic_message(p.as_ref())));
            fallback
        }
    }
}

/// The message of the last failure on this thread (lower-case, naming the offending value and,
/// for imports, the line), or `""` when nothing failed yet.
///
/// Returns a NUL-terminated string owned by the library: do not free it. It stays valid until
/// the next call on this thread that fails (returns a result other than `IOCMATCH_RESULT_OK`)
/// or to `iocmatch_last_error_clear`; copy it to keep it. Each thread has its own last error:
/// thread-safe.
#[no_mangle]
pub extern "C" fn iocmatch_last_error_message() -> *const c_char {
    LAST_ERROR.try_with(|l| l.borrow().as_ref().map_or(c"".as_ptr(), |e| e.message.as_ptr())).unwrap_or(c"".as_ptr())
}

/// The result code of the last failure on this thread, `IOCMATCH_RESULT_OK` when nothing failed
/// yet (or since `iocmatch_last_error_clear`). Thread-safe (per thread).
#[no_mangle]
pub extern "C" fn iocmatch_last_error_code() -> iocmatch_result {
    LAST_ERROR.try_with(|l| l.borrow().as_ref().map_or(iocmatch_result::Ok, |e| e.code)).unwrap_or(iocmatch_result::Ok)
}

/// The offending value of the last failure on this thread (a collection name, an id, a date,
/// ...), or NULL when it named none.
///
/// The string is owned by the library and lives as long as `iocmatch_last_error_message`'s.
/// Thread-safe (per thread).
#[no_mangle]
pub extern "C" fn iocmatch_last_error_value() -> *const c_char {
    LAST_ERROR
        .try_with(|l| l.borrow().as_ref().and_then(|e| e.value.as_ref()).map_or(std::ptr::null(), |v| v.as_ptr()))
        .unwrap_or(std::ptr::null())
}

/// The 1-based input line of the last failure on this thread, when it came from a line of an
/// input (a file import, an NDJSON stream); 0 otherwise. Thread-safe (per thread).
#[no_mangle]
pub extern "C" fn iocmatch_last_error_line() -> u64 {
    LAST_ERROR.try_with(|l| l.borrow().as_ref().map_or(0, |e| e.line)).unwrap_or(0)
}

/// Forget the last failure of this thread (and free its message). Thread-safe (per thread).
#[no_mangle]
pub extern "C" fn iocmatch_last_error_clear() {
    let _ = LAST_ERROR.try_with(|l| l.borrow_mut().take());
}

#[cfg(test)]
mod tests {
    use super::*;
    use iocmatch_core::{Error, ErrorKind};
    use std::ffi::CStr;

    fn message() -> String {
        unsafe { CStr::from_ptr(iocmatch_last_error_message()) }.to_str().unwrap().to_string()
    }

    #[test]
    fn core_errors_keep_kind_value_and_line() {
        iocmatch_last_error_clear();
        assert_eq!(message(), "");
        assert_eq!(iocmatch_last_error_code(), iocmatch_result::Ok);
        assert!(iocmatch_last_error_value().is_null());

        let r = guard(|| Err(Error::invalid("bad\0value", "invalid date 'bad'").at_line(7).into()));
        assert_eq!(r, iocmatch_result::Validation);
        assert_eq!(iocmatch_last_error_code(), iocmatch_result::Validation);
        assert_eq!(message(), "invalid date 'bad'");
        assert_eq!(unsafe { CStr::from_ptr(iocmatch_last_error_value()) }.to_str().unwrap(), "bad\\0value");
        assert_eq!(iocmatch_last_error_line(), 7);

        // success leaves the last error as it was
        assert_eq!(guard(|| Ok(())), iocmatch_result::Ok);
        assert_eq!(iocmatch_last_error_line(), 7);

        let r = guard(|| Err(Error::new(ErrorKind::Corrupt, "index 'x': bad checksum").into()));
        assert_eq!(r, iocmatch_result::Corrupt);
        assert_eq!(iocmatch_last_error_line(), 0);
        assert!(iocmatch_last_error_value().is_null());
        iocmatch_last_error_clear();
        assert_eq!(iocmatch_last_error_code(), iocmatch_result::Ok);
    }

    #[test]
    fn panics_become_a_code_and_a_message() {
        let r = guard(|| panic!("boom {}", 42));
        assert_eq!(r, iocmatch_result::Panic);
        assert_eq!(message(), "internal error (panic): boom 42");
        assert_eq!(guard_value(7u32, || panic!("static")), 7);
        assert_eq!(message(), "internal error (panic): static");
    }

    #[test]
    fn last_error_is_per_thread() {
        guard(|| Err(FfiError::null("store")));
        std::thread::spawn(|| assert_eq!(iocmatch_last_error_code(), iocmatch_result::Ok)).join().unwrap();
        assert_eq!(iocmatch_last_error_code(), iocmatch_result::NullParameter);
        assert_eq!(message(), "parameter 'store' is NULL");
    }
}
