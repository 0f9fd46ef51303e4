import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import COLUMN_TYPES, utcnow


class Base(DeclarativeBase):
    type_annotation_map = COLUMN_TYPES


class TenantStatus(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"


class TenantMode(StrEnum):
    IAM_ROLE = "iam_role"
    SSO = "sso"


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    root_email: Mapped[str] = mapped_column(String(320))
    status: Mapped[TenantStatus] = mapped_column(String(20), default=TenantStatus.ACTIVE)
    mode: Mapped[TenantMode] = mapped_column(String(20), default=TenantMode.IAM_ROLE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    external_id: Mapped[str] = mapped_column(String(64))
    # Kept after a regeneration only to tell a customer their role still expects it.
    previous_external_id: Mapped[str | None] = mapped_column(String(64), default=None)
    external_id_created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    status_changed_by: Mapped[str | None] = mapped_column(String(200), default=None)


class SsoSettings(Base):
    __tablename__ = "sso_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    start_url: Mapped[str] = mapped_column(String(300))
    region: Mapped[str] = mapped_column(String(40))
    identity_store_id: Mapped[str | None] = mapped_column(String(64), default=None)
    management_role_arn: Mapped[str | None] = mapped_column(String(2048), default=None)
    default_role: Mapped[str] = mapped_column(String(20), default="author")
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
    connected_by: Mapped[str] = mapped_column(String(200))


class AwsAccountLink(Base):
    __tablename__ = "aws_account_links"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    aws_account_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    role_arn: Mapped[str] = mapped_column(String(2048))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    linked_by: Mapped[str] = mapped_column(String(200))
    validated_at: Mapped[datetime | None] = mapped_column(default=None)
    validation_result: Mapped[str] = mapped_column(String(40))
    validation_detail: Mapped[str] = mapped_column(String(500), default="")


class SavedView(Base):
    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_saved_views_name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    aws_account_id: Mapped[str] = mapped_column(String(12))
    region: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_tenant", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
