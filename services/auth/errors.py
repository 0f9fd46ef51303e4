"""The auth service's expected failures, each a status code and a stable error code."""

from http import HTTPStatus

from shared.errors import AppError, Conflict, Forbidden, NotFound


class InvalidCredentials(AppError):
    status_code = HTTPStatus.UNAUTHORIZED
    error = "invalid_credentials"


class TooManyAttempts(AppError):
    status_code = HTTPStatus.TOO_MANY_REQUESTS
    error = "too_many_attempts"

    def __init__(self, detail: str, *, retry_after: int, error: str | None = None) -> None:
        super().__init__(detail, error=error)
        self.retry_after = retry_after


class InvalidSession(AppError):
    status_code = HTTPStatus.UNAUTHORIZED
    error = "invalid_session"


class UnknownTenant(NotFound):
    error = "unknown_tenant"


class TenantRefused(Forbidden):
    """The tenant may not be used for this sign-in (deactivated, or not in SSO mode)."""


class AuthorizationPending(Conflict):
    error = "authorization_pending"


class AttemptExpired(AppError):
    status_code = HTTPStatus.GONE
    error = "expired"


class AccessDenied(Forbidden):
    error = "denied"


class DependencyUnavailable(AppError):
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    error = "dependency_unavailable"


class AwsRefused(AppError):
    """AWS answered a call with an error that is no fault of the caller of this service."""

    status_code = HTTPStatus.BAD_GATEWAY
    error = "aws_error"
