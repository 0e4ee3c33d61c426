//! Result codes and the small enums of the ABI, with fixed numbers.

use iocmatch_core::{ErrorKind, Kind, TimeSource};
use std::ffi::{c_char, c_int, CStr};

/// What a fallible function did. The numbers are fixed: new codes may be added, existing ones
/// never change.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum iocmatch_result {
    /// Success: the out-parameters were written.
    Ok = 0,
    /// A pointer parameter that must not be NULL was NULL.
    NullParameter = 1,
    /// A string parameter was not valid UTF-8.
    InvalidUtf8 = 2,
    /// A parameter was out of range (an index past the end, a length over `PTRDIFF_MAX`, ...),
    /// or the operation does not apply to this handle.
    InvalidArgument = 3,
    /// A callback returned non-zero: the operation stopped there.
    Aborted = 4,
    /// A bug inside the library was caught at the boundary (a Rust panic). The handle used may
    /// be in an unexpected state; please report it.
    Panic = 5,
    /// A value given by the caller is invalid: an observable, a date, a name, a payload field,
    /// JSON that does not parse or has the wrong shape, an event that is not a JSON object.
    Validation = 10,
    /// The thing named (collection, indicator, community, threat) does not exist.
    NotFound = 11,
    /// A name is already taken where it must be unique, or names several things.
    Conflict = 12,
    /// The caller tried to change a property that cannot change (the observable of an
    /// indicator).
    ImmutableField = 13,
    /// An import would go past the per-community indicator limit; nothing was written.
    LimitExceeded = 14,
    /// Not allowed in the current state (editing or revoking a revoked indicator).
    InvalidState = 15,
    /// The database failed.
    Storage = 16,
    /// Reading or writing a file (or a read callback) failed.
    Io = 17,
    /// An index file is corrupt, truncated, or of a foreign format or version.
    Corrupt = 18,
}

impl iocmatch_result {
    /// A stable lower-case name.
    pub fn name(self) -> &'static CStr {
        match self {
            iocmatch_result::Ok => c"ok",
            iocmatch_result::NullParameter => c"null_parameter",
            iocmatch_result::InvalidUtf8 => c"invalid_utf8",
            iocmatch_result::InvalidArgument => c"invalid_argument",
            iocmatch_result::Aborted => c"aborted",
            iocmatch_result::Panic => c"panic",
            iocmatch_result::Validation => c"validation",
            iocmatch_result::NotFound => c"not_found",
            iocmatch_result::Conflict => c"conflict",
            iocmatch_result::ImmutableField => c"immutable_field",
            iocmatch_result::LimitExceeded => c"limit_exceeded",
            iocmatch_result::InvalidState => c"invalid_state",
            iocmatch_result::Storage => c"storage",
            iocmatch_result::Io => c"io",
            iocmatch_result::Corrupt => c"corrupt",
        }
    }

    const ALL: [iocmatch_result; 15] = [
        iocmatch_result::Ok,
        iocmatch_result::NullParameter,
        iocmatch_result::InvalidUtf8,
        iocmatch_result::InvalidArgument,
        iocmatch_result::Aborted,
        iocmatch_result::Panic,
        iocmatch_result::Validation,
        iocmatch_result::NotFound,
        iocmatch_result::Conflict,
        iocmatch_result::ImmutableField,
        iocmatch_result::LimitExceeded,
        iocmatch_result::InvalidState,
        iocmatch_result::Storage,
        iocmatch_result::Io,
        iocmatch_result::Corrupt,
    ];
}

impl From<ErrorKind> for iocmatch_result {
    fn from(k: ErrorKind) -> Self {
        match k {
            ErrorKind::Validation => iocmatch_result::Validation,
            ErrorKind::NotFound => iocmatch_result::NotFound,
            ErrorKind::Conflict => iocmatch_result::Conflict,
            ErrorKind::ImmutableField => iocmatch_result::ImmutableField,
            ErrorKind::LimitExceeded => iocmatch_result::LimitExceeded,
            ErrorKind::InvalidState => iocmatch_result::InvalidState,
            ErrorKind::Storage => iocmatch_result::Storage,
            ErrorKind::Io => iocmatch_result::Io,
            ErrorKind::Corrupt => iocmatch_result::Corrupt,
        }
    }
}

/// The kind of an indicator's observable. Fixed numbers; 0 means "none" (an index out of range).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum iocmatch_kind {
    /// No kind: returned for an index out of range.
    None = 0,
    /// An IPv4 address.
    Ipv4 = 1,
    /// An IPv6 address.
    Ipv6 = 2,
    /// A CIDR range (v4 or v6).
    Cidr = 3,
    /// A domain name.
    Domain = 4,
    /// A URL.
    Url = 5,
    /// An MD5 hash.
    Md5 = 6,
    /// A SHA-1 hash.
    Sha1 = 7,
    /// A SHA-256 hash.
    Sha256 = 8,
    /// A SHA-512 hash.
    Sha512 = 9,
    /// An ssdeep fuzzy hash.
    Ssdeep = 10,
    /// An e-mail address.
    Email = 11,
    /// A user name.
    Username = 12,
}

impl iocmatch_kind {
    /// The stable lower-case name of the kind (core's `Kind::as_str`), `"none"` for none.
    pub fn name(self) -> &'static CStr {
        match self {
            iocmatch_kind::None => c"none",
            iocmatch_kind::Ipv4 => c"ipv4",
            iocmatch_kind::Ipv6 => c"ipv6",
            iocmatch_kind::Cidr => c"cidr",
            iocmatch_kind::Domain => c"domain",
            iocmatch_kind::Url => c"url",
            iocmatch_kind::Md5 => c"md5",
            iocmatch_kind::Sha1 => c"sha1",
            iocmatch_kind::Sha256 => c"sha256",
            iocmatch_kind::Sha512 => c"sha512",
            iocmatch_kind::Ssdeep => c"ssdeep",
            iocmatch_kind::Email => c"email",
            iocmatch_kind::Username => c"username",
        }
    }
}

impl From<Kind> for iocmatch_kind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Ipv4 => iocmatch_kind::Ipv4,
            Kind::Ipv6 => iocmatch_kind::Ipv6,
            Kind::Cidr => iocmatch_kind::Cidr,
            Kind::Domain => iocmatch_kind::Domain,
            Kind::Url => iocmatch_kind::Url,
            Kind::Md5 => iocmatch_kind::Md5,
            Kind::Sha1 => iocmatch_kind::Sha1,
            Kind::Sha256 => iocmatch_kind::Sha256,
            Kind::Sha512 => iocmatch_kind::Sha512,
            Kind::Ssdeep => iocmatch_kind::Ssdeep,
            Kind::Email => iocmatch_kind::Email,
            Kind::Username => iocmatch_kind::Username,
        }
    }
}

/// Where the time an event was matched at came from. Fixed numbers; 0 means "none".
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum iocmatch_time_source {
    /// No time: returned for an index out of range, or an event that could not be read.
    None = 0,
    /// The caller gave it (the `at` parameter).
    Caller = 1,
    /// The event's `@timestamp`.
    Event = 2,
    /// The event had no readable `@timestamp`: the matcher's default time was used.
    Default = 3,
}

impl From<TimeSource> for iocmatch_time_source {
    fn from(s: TimeSource) -> Self {
        match s {
            TimeSource::Caller => iocmatch_time_source::Caller,
            TimeSource::Event => iocmatch_time_source::Event,
            TimeSource::Default => iocmatch_time_source::Default,
        }
    }
}

/// A stable lower-case name for a result code (`"ok"`, `"not_found"`, ...), or `"unknown"` for
/// a number that is not one.
///
/// Returns a static NUL-terminated string: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn iocmatch_result_name(result: c_int) -> *const c_char {
    iocmatch_result::ALL.iter().find(|r| **r as c_int == result).map_or(c"unknown", |r| r.name()).as_ptr()
}

/// The stable lower-case name of a kind (`"ipv4"`, `"domain"`, `"sha256"`, ...), or `"none"`
/// for a number that is not a kind.
///
/// Returns a static NUL-terminated string: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn iocmatch_kind_name(kind: c_int) -> *const c_char {
    Kind::ALL
        .iter()
        .map(|k| iocmatch_kind::from(*k))
        .find(|k| *k as c_int == kind)
        .map_or(c"none", iocmatch_kind::name)
        .as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn s(p: *const c_char) -> &'static str {
        unsafe { CStr::from_ptr(p) }.to_str().unwrap()
    }

    #[test]
    fn names_of_codes_and_kinds() {
        assert_eq!(s(iocmatch_result_name(0)), "ok");
        assert_eq!(s(iocmatch_result_name(11)), "not_found");
        assert_eq!(s(iocmatch_result_name(-1)), "unknown");
        assert_eq!(s(iocmatch_result_name(999)), "unknown");
        assert_eq!(s(iocmatch_kind_name(iocmatch_kind::Sha256 as c_int)), "sha256");
        assert_eq!(s(iocmatch_kind_name(0)), "none");
        for k in Kind::ALL {
            assert_eq!(s(iocmatch_kind_name(iocmatch_kind::from(k) as c_int)), k.as_str());
        }
    }

    #[test]
    fn every_core_error_kind_has_its_own_code() {
        use ErrorKind::*;
        let kinds = [Validation, NotFound, Conflict, ImmutableField, LimitExceeded, InvalidState, Storage, Io, Corrupt];
        let mut codes: Vec<i32> = kinds.iter().map(|k| iocmatch_result::from(*k) as i32).collect();
        for (k, c) in kinds.iter().zip(&codes) {
            assert_eq!(k.as_str(), iocmatch_result::from(*k).name().to_str().unwrap(), "code {c}");
        }
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), kinds.len());
    }
}
