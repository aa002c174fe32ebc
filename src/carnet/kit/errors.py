"""One error base class; each adapter renders it (OperationOutcome, a page, a CLI line)."""

from __future__ import annotations


class CarnetError(Exception):
    """A failure with a meaning a user can be told: an HTTP-style status, a stable code, a message."""

    status: int = 400
    code: str = "invalid"
    # The element at fault, as a FHIRPath (e.g. `Observation.valueQuantity.value`), when there is one.
    expression: str | None = None

    def __init__(self, message: str, *, code: str | None = None, expression: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if expression is not None:
            self.expression = expression

    def __str__(self) -> str:
        return self.message


class Invalid(CarnetError, ValueError):
    """Bad input. Also a ValueError, so pydantic validators that raise it report it per field."""

    status = 422
    code = "invalid"


class BadRequest(CarnetError):
    """A request that cannot be understood: malformed syntax, an unknown element or parameter."""

    status = 400
    code = "bad-request"


class NotFound(CarnetError):
    status = 404
    code = "not-found"


class Forbidden(CarnetError):
    status = 403
    code = "forbidden"


class Conflict(CarnetError):
    status = 409
    code = "conflict"


class Gone(CarnetError):
    status = 410
    code = "gone"


class PreconditionFailed(CarnetError):
    """The caller's condition (the version it last read) no longer holds."""

    status = 412
    code = "precondition-failed"


class TooLarge(CarnetError):
    status = 413
    code = "too-large"


class UnsupportedMedia(CarnetError):
    status = 415
    code = "unsupported-media-type"


class ConfigurationError(CarnetError):
    """The deployment is misconfigured (missing or wrong key, bad URL): Carnet refuses to start."""

    status = 500
    code = "configuration"


class Unauthenticated(CarnetError):
    """Who is asking is not proven: no credentials, or credentials that do not hold."""

    status = 401
    code = "unauthenticated"


class TooManyAttempts(CarnetError):
    """Too many failures in a row: wait before trying again."""

    status = 429
    code = "too-many-attempts"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(CarnetError):
    """Something Carnet depends on does not answer; trying again later may work."""

    status = 503
    code = "unavailable"
