"""Per-request dependencies: the gateway's parts, the session and the client address."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from services.gateway.ratelimit import RateLimiter
from services.gateway.revocations import Revocations
from services.gateway.security import SESSION_COOKIE
from services.gateway.sessions import NotSignedIn, Session, SessionChecker
from services.gateway.settings import GatewaySettings
from services.gateway.upstream import Upstreams


@dataclass
class Gateway:
    """Everything a request handler needs, built once by the composition root."""

    settings: GatewaySettings
    upstreams: Upstreams
    revocations: Revocations
    sessions: SessionChecker
    limiter: RateLimiter
    # Reads an AWS account with given credentials; tests of the gateway alone swap it out.
    read_aws: Callable[[str, dict[str, Any], str], Awaitable[dict[str, Any]]]


def _gateway(request: Request) -> Gateway:
    return request.app.state.gateway


GatewayDep = Annotated[Gateway, Depends(_gateway)]


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


async def optional_session(request: Request, gateway: GatewayDep) -> Session | None:
    session = await gateway.sessions.current(session_token(request))
    request.state.session = session
    return session


async def required_session(
    session: Annotated[Session | None, Depends(optional_session)],
) -> Session:
    if session is None:
        raise NotSignedIn("sign in first; your session is missing, expired or was ended")
    return session


def client_address(request: Request) -> str:
    # The direct peer: a proxy in front must be trusted explicitly before X-Forwarded-For is.
    return request.client.host if request.client else "unknown"


MaybeSessionDep = Annotated[Session | None, Depends(optional_session)]
SessionDep = Annotated[Session, Depends(required_session)]
