"""The exception hierarchy of iocmatch, rooted at :class:`IocMatchError`.

Every error raised by the native module is one of these. Each carries ``kind`` (the core error
kind, e.g. ``"validation"``), ``line`` (the 1-based input line, for imports and NDJSON streams,
else ``None``) and ``value`` (the offending value, when there is one). Standard exceptions are
mixed in where Python code would ``except`` them: a validation error is a ``ValueError``, a
missing collection a ``KeyError``, a storage or file error an ``OSError``.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "IocMatchError",
    "ValidationError",
    "NotFoundError",
    "ConflictError",
    "ImmutableFieldError",
    "LimitExceededError",
    "InvalidStateError",
    "CorruptIndexError",
    "StoreError",
]


class IocMatchError(Exception):
    """Base class of every iocmatch error."""

    kind: str = "error"
    """The core error kind (``"validation"``, ``"not_found"``, ...)."""
    message: str
    """The message, lower-case, naming the offending value (without the line prefix)."""
    line: Optional[int]
    """The 1-based input line the error is about, or ``None``."""
    value: Optional[str]
    """The offending value, or ``None``."""

    def __init__(self, message: str = "", *, line: Optional[int] = None, value: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.value = value

    def __str__(self) -> str:
        if self.line is not None:
            return f"line {self.line}: {self.message}"
        return self.message


class ValidationError(IocMatchError, ValueError):
    """A value given by the caller is invalid (an observable, a date, a payload, an event)."""

    kind = "validation"


class NotFoundError(IocMatchError, KeyError):
    """The collection, indicator, community or threat named does not exist."""

    kind = "not_found"


class ConflictError(IocMatchError):
    """A name is already taken where it must be unique."""

    kind = "conflict"


class ImmutableFieldError(IocMatchError, ValueError):
    """An edit tried to change a property that cannot change (an indicator's observable)."""

    kind = "immutable_field"


class LimitExceededError(IocMatchError):
    """An import would go past the per-community indicator limit; nothing was written."""

    kind = "limit_exceeded"


class InvalidStateError(IocMatchError):
    """The operation is not allowed in the current state (e.g. editing a revoked indicator)."""

    kind = "invalid_state"


class CorruptIndexError(IocMatchError, ValueError):
    """An index file is corrupt, truncated or of a foreign format."""

    kind = "corrupt"


class StoreError(IocMatchError, OSError):
    """The database or a file could not be read or written."""

    kind = "storage"
