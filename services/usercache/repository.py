"""Queries of the user cache. Upserts are written once for PostgreSQL and SQLite alike."""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.usercache.models import (
    CachedUser,
    KnownTenant,
    RemovedUser,
    RoleLimit,
    TenantState,
    UserLogin,
)
from shared.db import dialect_name

UserKey = tuple[uuid.UUID, str]


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = dialect_name(session)
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def get_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> KnownTenant | None:
    return await session.get(KnownTenant, tenant_id)


async def get_tenant_state(session: AsyncSession, tenant_id: uuid.UUID) -> TenantState | None:
    return await session.get(TenantState, tenant_id)


async def lock_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> TenantState:
    """The tenant's row, created if missing and locked, so its outbox rows stay in order."""
    await session.execute(
        _insert(session, TenantState)
        .values(tenant_id=tenant_id, blocked=False)
        .on_conflict_do_nothing()
    )
    state = await session.scalar(
        select(TenantState).where(TenantState.tenant_id == tenant_id).with_for_update()
    )
    assert state is not None
    return state


async def set_blocked(
    session: AsyncSession, tenant_id: uuid.UUID, blocked: bool, at: datetime
) -> None:
    """Apply a status change unless a newer one was applied already."""
    state = await lock_tenant(session, tenant_id)
    if state.status_changed_at is None or state.status_changed_at <= at:
        state.blocked = blocked
        state.status_changed_at = at


async def mark_disconnected(session: AsyncSession, tenant_id: uuid.UUID, at: datetime) -> None:
    state = await lock_tenant(session, tenant_id)
    if state.sso_disconnected_at is None or state.sso_disconnected_at < at:
        state.sso_disconnected_at = at


async def cutoffs(session: AsyncSession, keys: Iterable[UserKey]) -> dict[UserKey, datetime]:
    """For each user, the instant up to which their logins no longer count (removal or
    SSO disconnect, whichever is later); users without one are absent."""
    keys = set(keys)
    tenants = {tenant for tenant, _ in keys}
    users = {user for _, user in keys}
    found: dict[UserKey, datetime] = {}
    disconnected = await session.execute(
        select(TenantState.tenant_id, TenantState.sso_disconnected_at).where(
            TenantState.tenant_id.in_(tenants), TenantState.sso_disconnected_at.is_not(None)
        )
    )
    by_tenant = {tenant: at for tenant, at in disconnected}
    removals = await session.execute(
        select(RemovedUser.tenant_id, RemovedUser.user_id, RemovedUser.removed_at).where(
            RemovedUser.tenant_id.in_(tenants), RemovedUser.user_id.in_(users)
        )
    )
    by_user = {(tenant, user): at for tenant, user, at in removals}
    for key in keys:
        candidates = [at for at in (by_tenant.get(key[0]), by_user.get(key)) if at is not None]
        if candidates:
            found[key] = max(candidates)
    return found


async def add_logins(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        statement = _insert(session, UserLogin.__table__).on_conflict_do_nothing()
        await session.execute(statement, list(rows))


async def upsert_users(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert users or merge logins into them: the newest login's name, email and grants
    win, first and last login only widen, so an old or repeated event moves nothing back."""
    if not rows:
        return
    # executemany, not one VALUES list: the statement compiles once and stays cached
    table = CachedUser.__table__.c
    statement = _insert(session, CachedUser.__table__)
    new = statement.excluded
    newer = new.last_login_at > table.last_login_at
    earlier = new.first_login_at < table.first_login_at
    statement = statement.on_conflict_do_update(
        index_elements=[table.tenant_id, table.user_id],
        set_={
            "name": case((newer, new.name), else_=table.name),
            "email": case((newer, new.email), else_=table.email),
            "granted_account_count": case(
                (newer, new.granted_account_count), else_=table.granted_account_count
            ),
            "last_login_at": case((newer, new.last_login_at), else_=table.last_login_at),
            "first_login_at": case((earlier, new.first_login_at), else_=table.first_login_at),
            "login_count": table.login_count + new.login_count,
        },
    )
    await session.execute(statement, list(rows))


async def forget_logins_up_to(
    session: AsyncSession, tenant_id: uuid.UUID, at: datetime, user_id: str | None = None
) -> int:
    """Drop logins up to `at` (one user, or the whole tenant); users left without a login
    are forgotten, the others get their first login and count recomputed. Returns how
    many cached users were forgotten."""
    login_scope = [UserLogin.tenant_id == tenant_id]
    user_scope = [CachedUser.tenant_id == tenant_id]
    if user_id is not None:
        login_scope.append(UserLogin.user_id == user_id)
        user_scope.append(CachedUser.user_id == user_id)

    await session.execute(delete(UserLogin).where(*login_scope, UserLogin.occurred_at <= at))
    forgotten = await session.execute(
        delete(CachedUser).where(*user_scope, CachedUser.last_login_at <= at)
    )
    same_user = and_(
        UserLogin.tenant_id == CachedUser.tenant_id, UserLogin.user_id == CachedUser.user_id
    )
    await session.execute(
        update(CachedUser)
        .where(*user_scope, CachedUser.first_login_at <= at)
        .values(
            first_login_at=select(func.min(UserLogin.occurred_at))
            .where(same_user)
            .scalar_subquery(),
            login_count=select(func.count()).where(same_user).scalar_subquery(),
        )
        .execution_options(synchronize_session=False)
    )
    return forgotten.rowcount or 0  # type: ignore[attr-defined]


async def record_removal(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: str, at: datetime
) -> None:
    statement = _insert(session, RemovedUser).values(
        tenant_id=tenant_id, user_id=user_id, removed_at=at
    )
    later = statement.excluded.removed_at > RemovedUser.removed_at
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[RemovedUser.tenant_id, RemovedUser.user_id],
            set_={
                "removed_at": case(
                    (later, statement.excluded.removed_at), else_=RemovedUser.removed_at
                )
            },
        )
    )


async def forget_tenant_limits_up_to(
    session: AsyncSession, tenant_id: uuid.UUID, at: datetime
) -> None:
    await session.execute(
        delete(RoleLimit).where(RoleLimit.tenant_id == tenant_id, RoleLimit.set_at <= at)
    )
    # a removal before the disconnect says nothing the disconnect does not say already
    await session.execute(
        delete(RemovedUser).where(RemovedUser.tenant_id == tenant_id, RemovedUser.removed_at <= at)
    )


async def put_role_limit(
    session: AsyncSession, tenant_id: uuid.UUID, kind: str, subject: str, role: str, at: datetime
) -> None:
    """Set a limit unless a newer one is in place (a replayed older limit changes nothing)."""
    statement = _insert(session, RoleLimit).values(
        tenant_id=tenant_id, subject_kind=kind, subject=subject, role=role, set_at=at
    )
    newer = statement.excluded.set_at >= RoleLimit.set_at
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[RoleLimit.tenant_id, RoleLimit.subject_kind, RoleLimit.subject],
            set_={
                "role": case((newer, statement.excluded.role), else_=RoleLimit.role),
                "set_at": case((newer, statement.excluded.set_at), else_=RoleLimit.set_at),
            },
        )
    )


async def get_user(session: AsyncSession, tenant_id: uuid.UUID, user_id: str) -> CachedUser | None:
    return await session.get(CachedUser, (tenant_id, user_id))


# names and emails sort as people read them, whatever the database's collation
def _shown_role() -> ColumnElement[str]:
    """The role Manage Users shows, in SQL: author (the default) unless a viewer limit
    names the user by ID or email."""
    limited = exists().where(
        RoleLimit.tenant_id == CachedUser.tenant_id,
        RoleLimit.role == "viewer",
        or_(
            and_(RoleLimit.subject_kind == "user_id", RoleLimit.subject == CachedUser.user_id),
            and_(
                RoleLimit.subject_kind == "email",
                RoleLimit.subject == func.lower(CachedUser.email),
            ),
        ),
    )
    return case((limited, "viewer"), else_="author")


SORTABLE: dict[str, Any] = {
    "name": func.lower(CachedUser.name),
    "email": func.lower(CachedUser.email),
    "first_login_at": CachedUser.first_login_at,
    "last_login_at": CachedUser.last_login_at,
    "role": _shown_role(),
}


@dataclass(frozen=True)
class UserQuery:
    search: str | None = None
    sort: str = "name"
    descending: bool = False
    offset: int = 0
    limit: int = 50

    def order_by(self) -> list[ColumnElement[Any]]:
        column = SORTABLE[self.sort]
        primary = column.desc() if self.descending else column.asc()
        # user_id breaks ties, so pages never overlap or skip a user
        return [primary.nulls_last(), CachedUser.user_id.asc()]


async def list_users(
    session: AsyncSession, tenant_id: uuid.UUID, query: UserQuery
) -> tuple[list[CachedUser], int]:
    """One page of the tenant's cached users, and how many match in all."""
    conditions: list[ColumnElement[bool]] = [CachedUser.tenant_id == tenant_id]
    if query.search:
        pattern = "%" + _escape_like(query.search.lower()) + "%"
        conditions.append(
            or_(
                func.lower(CachedUser.name).like(pattern, escape="\\"),
                func.lower(CachedUser.email).like(pattern, escape="\\"),
            )
        )
    total = await session.scalar(select(func.count()).select_from(CachedUser).where(*conditions))
    page = await session.scalars(
        select(CachedUser)
        .where(*conditions)
        .order_by(*query.order_by())
        .offset(query.offset)
        .limit(query.limit)
    )
    return list(page), total or 0


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def limits_for(
    session: AsyncSession, tenant_id: uuid.UUID, users: Sequence[CachedUser]
) -> dict[tuple[str, str], str]:
    """The limits that apply to these users, keyed by (subject kind, subject)."""
    ids = [user.user_id for user in users]
    emails = [user.email.lower() for user in users if user.email]
    result = await session.execute(
        select(RoleLimit.subject_kind, RoleLimit.subject, RoleLimit.role).where(
            RoleLimit.tenant_id == tenant_id,
            or_(
                and_(RoleLimit.subject_kind == "user_id", RoleLimit.subject.in_(ids)),
                and_(RoleLimit.subject_kind == "email", RoleLimit.subject.in_(emails)),
            ),
        )
    )
    return {(kind, subject): role for kind, subject, role in result}
