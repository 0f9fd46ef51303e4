"""Sessions: opened at sign-in, renewed while used, re-scoped and ended.

A session's token is shown once, to the caller that signs in; the table keeps its hash.
Sessions slide (each use pushes the idle expiry out) up to an absolute limit. An SSO
session re-reads its grants from the portal API once they are older than the refresh
period, and ends when AWS no longer accepts its SSO token.
"""

import asyncio
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.auth import discovery, repository, roles
from services.auth.aws import ClientRegistration, SsoTokenInvalid
from services.auth.crypto import InvalidToken, digest, new_token
from services.auth.deps import AuthDeps
from services.auth.models import Session
from services.auth.tenants import Tenant
from shared.db import utcnow
from shared.events import UserLoggedIn
from shared.logging import get_logger
from shared.outbox import record_event

log = get_logger(__name__)

TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
# An SSO access token this close to expiry is refreshed before it is used.
TOKEN_REFRESH_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class SsoLink:
    client_row_id: uuid.UUID
    region: str
    tokens: dict[str, Any]


@dataclass(frozen=True)
class SignIn:
    """Everything a new session records about who signed in."""

    tenant: Tenant
    user_id: str
    name: str
    email: str | None
    role: str
    is_root: bool
    source: str
    profile_source: str
    granted_accounts: list[dict[str, Any]] = field(default_factory=list)
    sso: SsoLink | None = None


async def open_session(db: AsyncSession, deps: AuthDeps, sign_in: SignIn) -> tuple[str, Session]:
    """Create the session and announce the login; the caller holds the tenant lock."""
    settings = deps.settings
    now = utcnow()
    token = new_token()
    row = Session(
        id=uuid.uuid4(),
        token_hash=digest(token),
        tenant_id=sign_in.tenant.id,
        tenant_slug=sign_in.tenant.slug,
        user_id=sign_in.user_id,
        name=sign_in.name,
        email=sign_in.email,
        role=sign_in.role,
        is_root=sign_in.is_root,
        mode=sign_in.tenant.mode,
        tenant_status=sign_in.tenant.status,
        source=sign_in.source,
        profile_source=sign_in.profile_source,
        granted_accounts=sign_in.granted_accounts,
        grants_checked_at=now,
        created_at=now,
        absolute_expires_at=now + timedelta(seconds=settings.session_absolute_seconds),
    )
    row.expires_at = _idle_expiry(row, settings.session_idle_seconds, now)
    if sign_in.sso is not None:
        row.sso_client_id = sign_in.sso.client_row_id
        row.sso_region = sign_in.sso.region
        row.sso_tokens = deps.box.seal_json(sign_in.sso.tokens)
    db.add(row)
    await repository.forget_expired_sessions(db, now)

    record_event(db, _logged_in(sign_in), sign_in.tenant.id)
    log.info("session.opened", tenant_id=str(row.tenant_id), user_id=row.user_id, source=row.source)
    return token, row


def _logged_in(sign_in: SignIn) -> UserLoggedIn:
    return UserLoggedIn(
        user_id=sign_in.user_id,
        name=sign_in.name,
        email=sign_in.email,
        source=sign_in.source,  # type: ignore[arg-type]
        granted_account_ids=[account["account_id"] for account in sign_in.granted_accounts],
        profile_source=sign_in.profile_source,  # type: ignore[arg-type]
    )


def _idle_expiry(row: Session, idle_seconds: int, now: datetime) -> datetime:
    return min(now + timedelta(seconds=idle_seconds), row.absolute_expires_at)


@dataclass(frozen=True)
class Resolved:
    session: Session | None
    reason: str = ""


async def resolve(db: AsyncSession, deps: AuthDeps, token: str | None) -> Resolved:
    """The live session behind a token, renewed and with fresh grants, or why there is none.

    Ending a session is a change to commit, so the reason is returned, not raised.
    """
    if not token or not TOKEN_SHAPE.match(token):
        log.info("session.refused", reason="malformed_token")
        return Resolved(None, "no valid session token was given")
    row = await repository.session_by_hash(db, digest(token), for_update=True)
    if row is None:
        log.info("session.refused", reason="unknown_token")
        return Resolved(None, "this session does not exist or has ended")

    now = utcnow()
    if row.expires_at <= now:
        await end_sessions(db, deps, [row], reason="expired")
        return Resolved(None, "this session has expired; sign in again")
    if _grants_stale(row, deps, now):
        ended = await _refresh(db, deps, row, now)
        if ended:
            return Resolved(None, ended)

    row.expires_at = _idle_expiry(row, deps.settings.session_idle_seconds, now)
    return Resolved(row)


def _grants_stale(row: Session, deps: AuthDeps, now: datetime) -> bool:
    period = timedelta(seconds=deps.settings.grant_refresh_seconds)
    return now - row.grants_checked_at >= period


async def _refresh(db: AsyncSession, deps: AuthDeps, row: Session, now: datetime) -> str:
    """Re-read tenant state and grants; returns why the session ended, or "" if it lives."""
    tenant = await deps.tenants.get(row.tenant_id)
    if not tenant.active or (row.source == "sso" and not tenant.sso_ready):
        await end_sessions(db, deps, [row], reason="tenant_refused")
        return "this account can no longer be used; sign in again"
    if row.source == "sso":
        try:
            row.granted_accounts = await _sso_grants(db, deps, row)
        except (SsoTokenInvalid, InvalidToken):
            await end_sessions(db, deps, [row], reason="sso_token_invalid")
            return "your AWS sign-in has ended; sign in again"
    else:
        row.granted_accounts = await linked_accounts(deps, row.tenant_id)
    row.mode, row.tenant_status = tenant.mode, tenant.status
    row.grants_checked_at = now
    log.info("session.grants_refreshed", session_id=str(row.id), accounts=len(row.granted_accounts))
    return ""


async def _sso_grants(db: AsyncSession, deps: AuthDeps, row: Session) -> list[dict[str, Any]]:
    access_token = await sso_access_token(db, deps, row)
    assert row.sso_region is not None
    return await discovery.grants(deps.aws, row.sso_region, access_token)


async def sso_access_token(db: AsyncSession, deps: AuthDeps, row: Session) -> str:
    """The session's SSO access token, refreshed first when it is about to expire."""
    if row.sso_tokens is None or row.sso_region is None:
        raise SsoTokenInvalid()
    tokens = deps.box.open_json(row.sso_tokens)
    if datetime.fromisoformat(tokens["expires_at"]) - TOKEN_REFRESH_MARGIN > utcnow():
        return tokens["access_token"]
    client = await _client_of(db, deps, row)
    if client is None or not tokens.get("refresh_token"):
        raise SsoTokenInvalid()
    tokens = await deps.aws.refresh_tokens(row.sso_region, client, tokens["refresh_token"])
    row.sso_tokens = deps.box.seal_json(tokens)
    log.info("sso.token.refreshed", session_id=str(row.id))
    return tokens["access_token"]


async def _client_of(db: AsyncSession, deps: AuthDeps, row: Session) -> ClientRegistration | None:
    found = await repository.sso_client(db, row.sso_client_id) if row.sso_client_id else None
    if found is None:
        return None
    return ClientRegistration(found.client_id, deps.box.open(found.client_secret), found.expires_at)


async def linked_accounts(deps: AuthDeps, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    """A local user's grants: the AWS accounts linked to the tenant by IAM role."""
    linked = await deps.tenants.linked_accounts(tenant_id)
    return [
        {
            "account_id": account.account_id,
            "account_name": account.name,
            "roles": [account.role_arn.rsplit("/", 1)[-1]],
        }
        for account in linked
    ]


async def role_for(db: AsyncSession, tenant: Tenant, user_id: str, email: str | None) -> str:
    """An SSO user's role: the tenant's default, capped by any published limit."""
    subjects = [f"user:{user_id}"] + ([f"email:{email.lower()}"] if email else [])
    limits = await repository.role_limit(db, tenant.id, subjects)
    return roles.capped(tenant.sso_default_role, [limit.role for limit in limits])


async def end_sessions(
    db: AsyncSession, deps: AuthDeps, rows: list[Session], *, reason: str
) -> None:
    """Delete the sessions; SSO ones also log out of the portal (best effort)."""
    await repository.delete_sessions(db, [row.id for row in rows])
    await asyncio.gather(*(_portal_logout(deps, row) for row in rows if row.sso_tokens))
    for row in rows:
        log.info(
            "session.ended", session_id=str(row.id), tenant_id=str(row.tenant_id), reason=reason
        )


async def _portal_logout(deps: AuthDeps, row: Session) -> None:
    # The tokens are deleted with the row whatever AWS answers; a failed Logout only
    # leaves a token that nobody holds any more to expire on its own.
    try:
        tokens = deps.box.open_json(row.sso_tokens or b"")
        await deps.aws.logout(row.sso_region or "", tokens["access_token"])
    except Exception as error:
        log.info("sso.logout.skipped", session_id=str(row.id), error=type(error).__name__)


async def end_by_token(db: AsyncSession, deps: AuthDeps, token: str | None) -> bool:
    if not token or not TOKEN_SHAPE.match(token):
        return False
    row = await repository.session_by_hash(db, digest(token), for_update=True)
    if row is None:
        return False
    await end_sessions(db, deps, [row], reason="logout")
    return True


async def end_tenant_sessions(
    db: AsyncSession, deps: AuthDeps, tenant_id: uuid.UUID, reason: str
) -> int:
    await repository.lock_tenant(db, tenant_id)
    rows = await repository.sessions_of_tenant(db, tenant_id)
    await end_sessions(db, deps, rows, reason=reason)
    return len(rows)
