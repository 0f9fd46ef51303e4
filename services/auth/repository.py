"""Queries of the auth service's tables."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth import roles
from services.auth.models import (
    DeviceAttempt,
    LocalUser,
    LoginThrottle,
    RoleLimit,
    Session,
    SsoClient,
    TenantGuard,
)
from shared.db import utcnow


def _insert(session: AsyncSession):  # type: ignore[no-untyped-def]
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


async def lock_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Serialize session creation and revocation for one tenant until this transaction ends.

    The upsert is a write, so it takes the row lock on PostgreSQL and the database's
    write lock on SQLite.
    """
    insert = _insert(session)
    statement = insert(TenantGuard).values(tenant_id=tenant_id, touched_at=utcnow())
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[TenantGuard.tenant_id], set_={"touched_at": utcnow()}
        )
    )


# Local users and throttling


async def user_by_email(session: AsyncSession, email: str) -> LocalUser | None:
    return await session.scalar(select(LocalUser).where(LocalUser.email == email))


async def root_of(session: AsyncSession, tenant_id: uuid.UUID) -> LocalUser | None:
    return await session.scalar(
        select(LocalUser).where(LocalUser.tenant_id == tenant_id, LocalUser.is_root.is_(True))
    )


async def throttle(session: AsyncSession, email_key: str) -> LoginThrottle | None:
    return await session.get(LoginThrottle, email_key, with_for_update=True)


# SSO clients and device attempts


async def usable_client(
    session: AsyncSession, tenant_id: uuid.UUID, region: str, valid_until: datetime
) -> SsoClient | None:
    return await session.scalar(
        select(SsoClient)
        .where(
            SsoClient.tenant_id == tenant_id,
            SsoClient.region == region,
            SsoClient.expires_at > valid_until,
        )
        .order_by(SsoClient.expires_at.desc())
        .limit(1)
    )


async def sso_client(session: AsyncSession, client_row_id: uuid.UUID) -> SsoClient | None:
    return await session.get(SsoClient, client_row_id)


async def attempt_for_update(session: AsyncSession, attempt_key: str) -> DeviceAttempt | None:
    return await session.get(DeviceAttempt, attempt_key, with_for_update=True)


async def forget_stale_attempts(session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(DeviceAttempt).where(DeviceAttempt.expires_at < before))


# Sessions


async def session_by_hash(
    session: AsyncSession, token_hash: str, *, for_update: bool = False
) -> Session | None:
    query = select(Session).where(Session.token_hash == token_hash)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def sessions_of_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> list[Session]:
    return list(await session.scalars(select(Session).where(Session.tenant_id == tenant_id)))


async def delete_sessions(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    if ids:
        await session.execute(delete(Session).where(Session.id.in_(ids)))


async def forget_expired_sessions(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(Session).where(Session.expires_at < now))


async def forget_sso_state(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Client registrations, pending attempts and role limits of a tenant leaving SSO."""
    for model in (SsoClient, DeviceAttempt, RoleLimit):
        await session.execute(delete(model).where(model.tenant_id == tenant_id))


# Role limits


async def role_limit(
    session: AsyncSession, tenant_id: uuid.UUID, subjects: list[str]
) -> list[RoleLimit]:
    return list(
        await session.scalars(
            select(RoleLimit).where(
                RoleLimit.tenant_id == tenant_id, RoleLimit.subject.in_(subjects)
            )
        )
    )


async def put_role_limit(
    session: AsyncSession, tenant_id: uuid.UUID, subject: str, role: str, at: datetime
) -> None:
    insert = _insert(session)
    statement = insert(RoleLimit).values(
        tenant_id=tenant_id, subject=subject, role=role, limited_at=at
    )
    # Of two limits delivered out of order, the later decision wins.
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[RoleLimit.tenant_id, RoleLimit.subject],
            set_={"role": role, "limited_at": at},
            where=RoleLimit.limited_at < at,
        )
    )


async def cap_session_roles(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    user_id: str | None,
    email: str | None,
    role: str,
) -> None:
    matches = []
    if user_id:
        matches.append(Session.user_id == user_id)
    if email:
        matches.append(func.lower(Session.email) == email.lower())
    if not matches:
        return
    await session.execute(
        update(Session)
        .where(
            Session.tenant_id == tenant_id,
            Session.source == "sso",
            or_(*matches),
            Session.role.in_(roles.above(role)),
        )
        .values(role=role)
    )


async def refresh_password_sessions_soon(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    """Make the tenant's password sessions re-read the linked accounts on their next use."""
    result = await session.execute(
        update(Session)
        .where(Session.tenant_id == tenant_id, Session.source == "password")
        .values(grants_checked_at=datetime(1970, 1, 1, tzinfo=UTC))
    )
    return result.rowcount or 0  # type: ignore[attr-defined]
