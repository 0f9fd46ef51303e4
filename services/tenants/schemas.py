import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from services.tenants.models import TenantMode, TenantStatus


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="The company's name.")
    root_email: EmailStr = Field(description="Email of the root user who signs up.")

    @field_validator("name")
    @classmethod
    def _name_has_text(cls, value: str) -> str:
        value = " ".join(value.split())
        if not any(char.isalnum() for char in value):
            raise ValueError("must contain a letter or digit")
        return value


class TenantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    slug: str
    status: TenantStatus
    mode: TenantMode
    created_at: datetime
