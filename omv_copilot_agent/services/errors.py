"""Why an operation refused or failed, in words a caller can act on, without any transport.

The REST layer turns :attr:`ServiceError.kind` into an HTTP status and the RPC
bridge passes the same error on, so one handler serves both with one message.
"""

from __future__ import annotations


#: What went wrong, by who can fix it; api/errors.py maps each kind to an HTTP status.
KINDS = ("invalid", "not_found", "conflict", "unavailable", "upstream_failed", "not_implemented")


class ServiceError(Exception):
    """An operation's refusal: ``kind`` (one of :data:`KINDS`), a machine ``code`` and a message."""

    def __init__(self, kind: str, code: str, message: str, details: list | None = None):
        if kind not in KINDS:
            raise ValueError(f"unknown error kind {kind!r}")
        super().__init__(message)
        self.kind, self.code, self.message = kind, code, message
        self.details = details  # machine-readable specifics (e.g. every {field, reason} of a rejected pattern)


def invalid(message: str, code: str = "bad_request", details: list | None = None) -> ServiceError:
    return ServiceError("invalid", code, message, details)


def not_found(message: str) -> ServiceError:
    return ServiceError("not_found", "not_found", message)


def unavailable(code: str, message: str) -> ServiceError:
    return ServiceError("unavailable", code, message)
