"""The user cache's decisions: what a login, a removal, a limit or a disconnect changes.

Every change is keyed by the event's `occurred_at`, so the state depends on which events
happened, not on the order they arrive in: a replay from offset 0, a duplicate or a
late event converges on the same rows.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.usercache import repository
from services.usercache.models import CachedUser
from shared.db import utcnow
from shared.errors import NotFound, Unprocessable
from shared.events import UserRemoved, UserRoleLimited
from shared.logging import get_logger
from shared.outbox import record_event

log = get_logger(__name__)

Role = Literal["viewer", "author"]
ROLE_RANK: dict[str, int] = {"viewer": 0, "author": 1}

# The tenant's default role for SSO users lives with the tenants service, and no event
# carries it yet, so every tenant is treated as having the documented default: author.
DEFAULT_SSO_ROLE: Role = "author"


@dataclass(frozen=True)
class Login:
    """One `user.logged_in` of an SSO user, as the cache needs it."""

    event_id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: str
    name: str
    email: str | None
    granted_account_count: int
    occurred_at: datetime


def capped(default: Role, limits: Iterable[str | None]) -> Role:
    """The default role, lowered by the strictest limit; a limit never raises a role."""
    role: Role = default
    for limit in limits:
        if limit is not None and ROLE_RANK[limit] < ROLE_RANK[role]:
            role = "viewer"
    return role


def merge_logins(logins: Sequence[Login]) -> list[dict[str, Any]]:
    """One row per user: the newest login's details, the widest login span, the count."""
    rows: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
    for login in sorted(logins, key=lambda login: login.occurred_at):
        row = rows.setdefault(
            (login.tenant_id, login.user_id),
            {"first_login_at": login.occurred_at, "login_count": 0},
        )
        row.update(
            tenant_id=login.tenant_id,
            user_id=login.user_id,
            name=login.name,
            email=login.email,
            granted_account_count=login.granted_account_count,
            last_login_at=login.occurred_at,
            login_count=row["login_count"] + 1,
        )
    return list(rows.values())


async def record_logins(session: AsyncSession, logins: Sequence[Login]) -> None:
    """Cache or refresh the users behind these logins, skipping those a removal or an SSO
    disconnect made obsolete (how a replay from offset 0 keeps removed users removed)."""
    cutoff = await repository.cutoffs(session, {(lg.tenant_id, lg.user_id) for lg in logins})
    current = [
        login
        for login in logins
        if (at := cutoff.get((login.tenant_id, login.user_id))) is None or login.occurred_at > at
    ]
    if len(current) < len(logins):
        log.info("usercache.logins.obsolete", count=len(logins) - len(current))
    await repository.add_logins(
        session,
        [
            {
                "event_id": login.event_id,
                "tenant_id": login.tenant_id,
                "user_id": login.user_id,
                "occurred_at": login.occurred_at,
            }
            for login in current
        ],
    )
    await repository.upsert_users(session, merge_logins(current))


async def apply_removal(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: str, at: datetime
) -> None:
    """Forget the user's logins up to `at`; the role limit stays."""
    await repository.record_removal(session, tenant_id, user_id, at)
    await repository.forget_logins_up_to(session, tenant_id, at, user_id)


async def remove_user(session: AsyncSession, tenant_id: uuid.UUID, user_id: str) -> None:
    """Drop a cached user from the list and publish `user.removed`."""
    await repository.lock_tenant(session, tenant_id)
    user = await repository.get_user(session, tenant_id, user_id)
    if user is None:
        raise NotFound("no such user in this tenant's list")

    # Logins are stamped by auth's clock: if it runs ahead of ours, the removal must still
    # cover the login the admin saw, so the event says how far it reaches.
    ahead = user.last_login_at if user.last_login_at >= utcnow() else None
    envelope = record_event(session, UserRemoved(user_id=user_id, last_login_at=ahead), tenant_id)
    await apply_removal(session, tenant_id, user_id, removal_cutoff(envelope.occurred_at, ahead))
    log.info("usercache.user.removed", tenant_id=str(tenant_id), user_id=user_id)


def removal_cutoff(occurred_at: datetime, last_login_at: datetime | None) -> datetime:
    """Logins up to this instant are forgotten by a removal."""
    return max(occurred_at, last_login_at) if last_login_at else occurred_at


async def apply_role_limit(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    user_id: str | None,
    email: str | None,
    role: str,
    at: datetime,
) -> None:
    state = await repository.get_tenant_state(session, tenant_id)
    if state is not None and state.sso_disconnected_at and at <= state.sso_disconnected_at:
        return  # set before the tenant's SSO users were purged: purged with them
    if user_id is not None:
        await repository.put_role_limit(session, tenant_id, "user_id", user_id, role, at)
    if email is not None:
        await repository.put_role_limit(session, tenant_id, "email", email.lower(), role, at)


async def limit_role(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    user_id: str | None = None,
    email: str | None = None,
    role: Role,
) -> None:
    """Cap one user's role, by user ID or email, and publish `user.role_limited`."""
    if (user_id is None) == (email is None):
        raise Unprocessable("give exactly one of user_id and email")
    await repository.lock_tenant(session, tenant_id)

    event = UserRoleLimited(user_id=user_id, email=email.lower() if email else None, role=role)
    envelope = record_event(session, event, tenant_id)
    await apply_role_limit(
        session, tenant_id, user_id=user_id, email=event.email, role=role, at=envelope.occurred_at
    )
    log.info("usercache.role.limited", tenant_id=str(tenant_id), role=role)


async def disconnect_tenant(session: AsyncSession, tenant_id: uuid.UUID, at: datetime) -> None:
    """Purge the tenant's cached users and role limits (all in the caller's transaction)."""
    await repository.mark_disconnected(session, tenant_id, at)
    forgotten = await repository.forget_logins_up_to(session, tenant_id, at)
    await repository.forget_tenant_limits_up_to(session, tenant_id, at)
    log.info("usercache.tenant.purged", tenant_id=str(tenant_id), users=forgotten)


@dataclass(frozen=True)
class UserView:
    user: CachedUser
    role: Role
    role_limit: Role | None
    blocked: bool


async def list_users(
    session: AsyncSession, tenant_id: uuid.UUID, query: repository.UserQuery
) -> tuple[list[UserView], int]:
    """One page of Manage Users: cached users with their role, limit and blocked state."""
    users, total = await repository.list_users(session, tenant_id, query)
    limits = await repository.limits_for(session, tenant_id, users)
    state = await repository.get_tenant_state(session, tenant_id)
    blocked = bool(state and state.blocked)
    views = [_view(user, limits, blocked) for user in users]
    return views, total


def _view(user: CachedUser, limits: dict[tuple[str, str], str], blocked: bool) -> UserView:
    own = [limits.get(("user_id", user.user_id))]
    if user.email:
        own.append(limits.get(("email", user.email.lower())))
    strictest = capped("author", own) if any(own) else None
    return UserView(
        user=user, role=capped(DEFAULT_SSO_ROLE, own), role_limit=strictest, blocked=blocked
    )
