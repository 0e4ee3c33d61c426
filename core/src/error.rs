//! The one error type of iocmatch, with a [`ErrorKind`] for callers that branch on it.

use std::fmt;

/// What went wrong, for callers (and the C and Python bindings) that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A value given by the caller is invalid (an observable, a date, a name, a payload field).
    Validation,
    /// The thing named (collection, indicator, community, threat) does not exist.
    NotFound,
    /// A name is already taken where it must be unique.
    Conflict,
    /// The caller tried to change a property that cannot change (the observable of an indicator).
    ImmutableField,
    /// An import would go past the per-community indicator limit.
    LimitExceeded,
    /// The operation is not allowed in the current state (e.g. editing a revoked indicator).
    InvalidState,
    /// The underlying database failed.
    Storage,
    /// Reading or writing a file failed.
    Io,
    /// A file is corrupt, truncated or of a foreign format.
    Corrupt,
}

impl ErrorKind {
    /// A short stable name (`"validation"`, `"not_found"`, ...), used by the bindings.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Validation => "validation",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::ImmutableField => "immutable_field",
            ErrorKind::LimitExceeded => "limit_exceeded",
            ErrorKind::InvalidState => "invalid_state",
            ErrorKind::Storage => "storage",
            ErrorKind::Io => "io",
            ErrorKind::Corrupt => "corrupt",
        }
    }
}

/// An iocmatch error: a kind, a lower-case message naming the offending value, and for file
/// imports the 1-based line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    value: Option<String>,
    line: Option<u64>,
}

impl Error {
    /// A new error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), value: None, line: None }
    }

    /// A validation error about `value`; the message should say what is wrong with it.
    pub fn invalid(value: impl Into<String>, message: impl Into<String>) -> Self {
        Error { kind: ErrorKind::Validation, message: message.into(), value: Some(value.into()), line: None }
    }

    /// A not-found error: `what` (`"collection"`, ...) named `id` does not exist.
    pub fn not_found(what: &str, id: impl Into<String>) -> Self {
        let id = id.into();
        Error { kind: ErrorKind::NotFound, message: format!("{what} not found: '{id}'"), value: Some(id), line: None }
    }

    /// The same error, attached to a 1-based line of an input file.
    pub fn at_line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without the line prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The offending value, when there is one.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// The 1-based input line, for errors raised while importing a file.
    pub fn line(&self) -> Option<u64> {
        self.line
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::new(ErrorKind::Storage, format!("database error: {e}"))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(ErrorKind::Io, format!("i/o error: {e}"))
    }
}

/// The result type of iocmatch.
pub type Result<T, E = Error> = std::result::Result<T, E>;
