"""The signed internal identity every call between Cloudivize services carries.

Services are not reachable from browsers; the gateway (or another service) signs who is
calling, for which tenant and with which role, and the receiving service verifies the
signature before it serves anything. A request that bypasses the gateway has no valid
signature and is refused with 401.

Format: `v1.<base64url JSON claims>.<base64url HMAC-SHA256 of the first two parts>`.
Tokens are short-lived, so a captured header is of little use for long.
"""

import base64
import hashlib
import hmac
import time
import uuid
from http import HTTPStatus
from typing import Annotated, Literal

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, ValidationError

from shared.errors import AppError

HEADER = "X-Cloudivize-Identity"
TOKEN_LIFETIME = 60
CLOCK_SKEW = 30

Role = Literal["admin", "author", "viewer"]


class Unauthenticated(AppError):
    status_code = HTTPStatus.UNAUTHORIZED
    error = "unauthenticated"


class Identity(BaseModel):
    """Who is behind a call: the signing service, and the user it acts for, if any."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    caller: str
    tenant_id: uuid.UUID | None = None
    user_id: str | None = None
    role: Role | None = None
    is_root: bool = False
    expires_at: int = 0

    @property
    def actor(self) -> str:
        """How audit records name this caller."""
        return self.user_id or f"service:{self.caller}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, message: str) -> str:
    return _b64(hmac.new(key, message.encode(), hashlib.sha256).digest())


def sign(identity: Identity, key: str, *, now: float | None = None) -> str:
    expires = int((now or time.time()) + TOKEN_LIFETIME)
    claims = identity.model_copy(update={"expires_at": expires}).model_dump_json()
    unsigned = f"v1.{_b64(claims.encode())}"
    return f"{unsigned}.{_mac(key.encode(), unsigned)}"


def verify(
    token: str, key: str, *, previous_key: str | None = None, now: float | None = None
) -> Identity:
    """The claims of a token signed with `key`, or with `previous_key` during a rotation."""
    version, _, rest = token.partition(".")
    claims_part, _, signature = rest.partition(".")
    if version != "v1" or not claims_part or not signature:
        raise Unauthenticated("malformed internal identity")
    keys = [key, previous_key] if previous_key else [key]
    # compare_digest keeps the check's duration independent of where a forgery differs
    if not any(
        hmac.compare_digest(signature, _mac(each.encode(), f"v1.{claims_part}")) for each in keys
    ):
        raise Unauthenticated("internal identity signature does not verify")
    try:
        identity = Identity.model_validate_json(_unb64(claims_part))
    except (ValidationError, ValueError):
        raise Unauthenticated("malformed internal identity") from None
    if identity.expires_at + CLOCK_SKEW < (now or time.time()):
        raise Unauthenticated("internal identity expired")
    return identity


def headers_for(identity: Identity, key: str) -> dict[str, str]:
    return {HEADER: sign(identity, key)}


def require_identity(request: Request) -> Identity:
    """Dependency on every internal route: the caller's verified identity."""
    token = request.headers.get(HEADER)
    if not token:
        raise Unauthenticated("this service only answers signed calls from Cloudivize services")
    settings = request.app.state.runtime.settings
    previous = settings.internal_signing_key_previous
    identity = verify(
        token,
        settings.internal_signing_key.get_secret_value(),
        previous_key=previous.get_secret_value() if previous else None,
    )
    request.state.identity = identity
    return identity


IdentityDep = Annotated[Identity, Depends(require_identity)]
