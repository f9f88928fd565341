"""The one exception tree of deploytop's backend layer.

Every backend (in memory, over HTTP) raises only these, so the dashboard and the
headless commands handle failures in one place::

    DeploytopError
     └── BackendError                 (anything a backend call can raise)
          ├── Unauthorized            401  no token, or a token the backend does not know
          ├── Forbidden               403  the caller's role may not do this (a viewer cancelling)
          ├── NotFound                404  no such thing, or it belongs to another team
          ├── Conflict                409  the request clashes with the current state
          │    └── DeploymentFinished      cancelling a deployment that already ended
          ├── InvalidRequest          400  bad argument: unknown filter, limit out of range, ...
          ├── Unavailable             503  the backend cannot be reached or is failing
          └── ProtocolError           502  the backend answered something we cannot read

Each error carries a machine ``code`` (also used on the wire) and a human message.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "BackendError",
    "Conflict",
    "DeploymentFinished",
    "DeploytopError",
    "Forbidden",
    "InvalidRequest",
    "NotFound",
    "ProtocolError",
    "Unauthorized",
    "Unavailable",
    "error_for_code",
]


class DeploytopError(Exception):
    """Root of every error deploytop raises on purpose."""


class BackendError(DeploytopError):
    """A backend call failed. ``code`` names the failure; ``message`` explains it."""

    code: ClassVar[str] = "backend_error"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class Unauthorized(BackendError):
    """No credentials, or credentials the backend does not accept."""

    code = "unauthorized"
    http_status = 401


class Forbidden(BackendError):
    """The caller is known but their role does not allow this action."""

    code = "forbidden"
    http_status = 403


class NotFound(BackendError):
    """The thing does not exist, or is not visible to the caller's teams."""

    code = "not_found"
    http_status = 404


class Conflict(BackendError):
    """The request clashes with the current state of the thing."""

    code = "conflict"
    http_status = 409


class DeploymentFinished(Conflict):
    """The deployment already finished, so it can no longer be cancelled."""

    code = "deployment_finished"


class InvalidRequest(BackendError):
    """An argument is malformed or out of range."""

    code = "invalid_request"
    http_status = 400


class Unavailable(BackendError):
    """The backend cannot be reached, timed out, or failed on its side."""

    code = "unavailable"
    http_status = 503


class ProtocolError(BackendError):
    """The backend answered with something that does not follow the protocol."""

    code = "protocol_error"
    http_status = 502


_BY_CODE: dict[str, type[BackendError]] = {
    cls.code: cls
    for cls in (
        BackendError,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        DeploymentFinished,
        InvalidRequest,
        Unavailable,
        ProtocolError,
    )
}


def error_for_code(code: str, message: str) -> BackendError:
    """Build the error whose ``code`` is given (a plain BackendError if unknown)."""
    return _BY_CODE.get(code, BackendError)(message)
