"""What the auth service owns: local users, device authorizations, SSO clients, sessions."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import COLUMN_TYPES, utcnow


class Base(DeclarativeBase):
    type_annotation_map = COLUMN_TYPES


class LocalUser(Base):
    """The root user and other local admins, who sign in with email and password."""

    __tablename__ = "local_users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_root: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginThrottle(Base):
    """Failed password attempts per email, known or not, so lockout reveals nothing."""

    __tablename__ = "login_throttles"

    email_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_failure_at: Mapped[datetime] = mapped_column(default=utcnow)


class SsoClient(Base):
    """A registration of Cloudivize with one tenant's SSO OIDC in one region."""

    __tablename__ = "sso_clients"
    __table_args__ = (Index("ix_sso_clients_tenant_region", "tenant_id", "region"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID]
    region: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[str] = mapped_column(String(400))
    client_secret: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeviceAttempt(Base):
    """A pending device authorization; the device code never leaves this table."""

    __tablename__ = "device_attempts"

    attempt_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(index=True)
    browser_key: Mapped[str] = mapped_column(String(64))
    sso_client_id: Mapped[uuid.UUID]
    region: Mapped[str] = mapped_column(String(40))
    device_code: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted
    state: Mapped[str] = mapped_column(String(20), default="pending")
    interval: Mapped[int] = mapped_column(Integer)
    next_poll_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    tokens: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)  # encrypted
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Session(Base):
    """A signed-in browser. Only the token's hash is stored; SSO tokens are encrypted."""

    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(index=True)
    tenant_slug: Mapped[str] = mapped_column(String(63))
    user_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))
    is_root: Mapped[bool] = mapped_column(Boolean, default=False)
    mode: Mapped[str] = mapped_column(String(20))
    # Local admins may sign in to a deactivated tenant, to reactivate it and nothing else.
    tenant_status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    profile_source: Mapped[str] = mapped_column(String(20))
    granted_accounts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    grants_checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    sso_client_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    sso_region: Mapped[str | None] = mapped_column(String(40), default=None)
    sso_tokens: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)  # encrypted
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    absolute_expires_at: Mapped[datetime]


class RoleLimit(Base):
    """A cap on an SSO user's role, as the user cache publishes it."""

    __tablename__ = "role_limits"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(400), primary_key=True)  # user:<id> or email:<e>
    role: Mapped[str] = mapped_column(String(20))
    limited_at: Mapped[datetime]


class TenantGuard(Base):
    """One row per tenant, locked by whoever creates or revokes its sessions, so that a
    login checked just before a deactivation cannot outlive the revocation."""

    __tablename__ = "tenant_guards"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    touched_at: Mapped[datetime] = mapped_column(default=utcnow)
