"""Who is behind a browser request: the session auth vouches for, as the gateway applies it.

Every request with a session cookie is checked with auth, at most `recheck_seconds` after
the last check of that session; an event about its tenant (deactivation, SSO disconnect,
a role limit) drops the cached check, and the in-memory revocations apply at once, before
auth itself has necessarily heard of the event.
"""

import hashlib
import time
import uuid
from collections import OrderedDict
from http import HTTPStatus
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict

from services.gateway.revocations import Revocations
from services.gateway.upstream import UpstreamFailed, Upstreams, UpstreamUnavailable
from shared.errors import AppError
from shared.identity import Identity
from shared.logging import get_logger

log = get_logger(__name__)

CACHE_SIZE = 10_000


class NotSignedIn(AppError):
    status_code = HTTPStatus.UNAUTHORIZED
    error = "unauthenticated"


class GrantedAccount(BaseModel):
    model_config = ConfigDict(extra="ignore")

    account_id: str
    account_name: str | None = None
    roles: list[str] = []


class Session(BaseModel):
    """A signed-in user as auth describes them; never holds the session token."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    session_id: str
    user_id: str
    name: str | None = None
    email: str | None = None
    tenant_id: uuid.UUID
    tenant_slug: str | None = None
    role: Literal["admin", "author", "viewer"]
    is_root: bool = False
    mode: str = "iam"
    source: str = "password"
    granted_accounts: list[GrantedAccount] = []

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_write(self) -> bool:
        return self.role in ("admin", "author")

    def identity(self) -> Identity:
        """The internal identity the gateway signs for this user's upstream calls."""
        return Identity(
            caller="gateway",
            tenant_id=self.tenant_id,
            user_id=self.user_id,
            role=self.role,
            is_root=self.is_root,
        )


class SessionChecker:
    def __init__(
        self, upstreams: Upstreams, revocations: Revocations, *, recheck_seconds: float
    ) -> None:
        self._upstreams = upstreams
        self._revocations = revocations
        self._recheck = recheck_seconds
        # keyed by a hash of the token, so the token itself is not kept in memory longer
        self._checked: OrderedDict[str, tuple[Session, float]] = OrderedDict()
        revocations.on_change = self.forget_tenant

    async def current(self, token: str | None) -> Session | None:
        """The session behind a cookie value, re-scoped by what the gateway has heard."""
        if not token:
            return None
        session = await self._checked_session(token)
        if session is None:
            return None
        refusal = self._revocations.refuses(
            session.tenant_id, source=session.source, is_root=session.is_root
        )
        if refusal is not None:
            log.info("session.revoked", tenant_id=str(session.tenant_id), reason=refusal)
            return None
        role = self._revocations.capped_role(
            session.tenant_id, session.role, user_id=session.user_id, email=session.email
        )
        return session if role == session.role else session.model_copy(update={"role": role})

    def forget(self, token: str) -> None:
        self._checked.pop(_digest(token), None)

    def forget_tenant(self, tenant_id: uuid.UUID) -> None:
        for key in [k for k, (s, _) in self._checked.items() if s.tenant_id == tenant_id]:
            del self._checked[key]

    async def _checked_session(self, token: str) -> Session | None:
        key = _digest(token)
        cached = self._checked.get(key)
        if cached is not None and time.monotonic() - cached[1] < self._recheck:
            return cached[0]
        session = await self._ask_auth(token)
        self._checked.pop(key, None)
        if session is not None:
            self._checked[key] = (session, time.monotonic())
            while len(self._checked) > CACHE_SIZE:
                self._checked.popitem(last=False)
        return session

    async def _ask_auth(self, token: str) -> Session | None:
        response = await self._check_with_auth(token)
        if response.status_code in (401, 403, 404, 410):
            return None
        if not response.is_success:
            log.warning("session.check_failed", status=response.status_code)
            raise UpstreamFailed("the session could not be checked; retry")
        return Session.model_validate(response.json())

    async def _check_with_auth(self, token: str) -> httpx.Response:
        # The check is safe to repeat; one retry rides out a session that auth was ending
        # at that very moment (the retry then sees it ended) or a dropped connection.
        try:
            response = await self._ask_once(token)
        except UpstreamUnavailable:
            return await self._ask_once(token)
        return response if response.status_code < 500 else await self._ask_once(token)

    async def _ask_once(self, token: str) -> httpx.Response:
        return await self._upstreams.send(
            "auth", "GET", "/internal/sessions/current", session_token=token
        )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
