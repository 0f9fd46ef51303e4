import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, utcnow


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
