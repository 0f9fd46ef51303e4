"""The user cache's tables.

The cached state is a function of the events seen, whatever order they arrive in: each
login is kept (`user_logins`) until a removal or an SSO disconnect newer than it makes
it irrelevant, so a late removal can recompute the first login that survives it.
"""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import COLUMN_TYPES, utcnow


class Base(DeclarativeBase):
    type_annotation_map = COLUMN_TYPES


class KnownTenant(Base):
    """A tenant as the user cache learned of it from `tenants.events`."""

    __tablename__ = "known_tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class TenantState(Base):
    """What the user cache must know of a tenant: blocked or not, and since when its SSO
    users were purged (logins and limits up to that instant no longer count)."""

    __tablename__ = "tenant_states"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    status_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    sso_disconnected_at: Mapped[datetime | None] = mapped_column(default=None)


class CachedUser(Base):
    """An SSO user who has logged in since they were last removed."""

    __tablename__ = "cached_users"
    __table_args__ = (Index("ix_cached_users_tenant_name", "tenant_id", "name"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(320))
    granted_account_count: Mapped[int] = mapped_column(Integer)
    first_login_at: Mapped[datetime] = mapped_column()
    last_login_at: Mapped[datetime] = mapped_column()
    login_count: Mapped[int] = mapped_column(Integer)


class UserLogin(Base):
    """One applied `user.logged_in`, kept so a late removal can recompute the first login.

    Rows go only when a removal or disconnect covers them; pruning by age waits until the
    topics' retention is fixed, since a replay may still bring a removal that old.
    """

    __tablename__ = "user_logins"
    __table_args__ = (Index("ix_user_logins_user", "tenant_id", "user_id", "occurred_at"),)

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column()
    user_id: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column()


class RemovedUser(Base):
    """A removal from the list: logins up to `removed_at` stay forgotten, even on replay."""

    __tablename__ = "removed_users"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    removed_at: Mapped[datetime] = mapped_column()


class RoleLimit(Base):
    """A cap on one user's role, by user ID or by email (for users not yet cached)."""

    __tablename__ = "role_limits"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    subject: Mapped[str] = mapped_column(String(320), primary_key=True)
    role: Mapped[str] = mapped_column(String(10))
    set_at: Mapped[datetime] = mapped_column()
