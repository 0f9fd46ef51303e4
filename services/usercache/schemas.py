"""What the user cache's API accepts and returns."""

import uuid
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

Role = Literal["viewer", "author"]

NOTICE = (
    "Users are managed in AWS IAM Identity Center, not in Cloudivize. This list shows who "
    "has signed in through SSO; removing someone only forgets them here until they sign "
    "in again, and a role limit stays in place."
)
DEFAULT_ROLE_NOTE = (
    "The tenant's default role for SSO users is not known to the user cache yet; "
    "author (the documented default) is assumed."
)


class KnownTenantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    slug: str


class UserRead(BaseModel):
    user_id: str
    name: str
    email: str | None
    role: Role = Field(description="The tenant's default SSO role, capped by the limit.")
    role_limit: Role | None
    blocked: bool = Field(description="The tenant is deactivated: nobody can sign in.")
    first_login_at: datetime
    last_login_at: datetime
    login_count: int
    granted_account_count: int


class UsersPage(BaseModel):
    items: list[UserRead]
    total: int
    page: int
    page_size: int
    default_role: Role
    default_role_note: str = DEFAULT_ROLE_NOTE
    notice: str = NOTICE


class RoleLimitSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class RoleLimitCreate(BaseModel):
    """A limit by user ID or by email, for a user who may not have signed in yet."""

    model_config = ConfigDict(extra="forbid")

    user_id: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = None
    role: Role

    @model_validator(mode="after")
    def _one_subject(self) -> Self:
        if (self.user_id is None) == (self.email is None):
            raise ValueError("give exactly one of user_id and email")
        return self


class RoleLimitRead(BaseModel):
    user_id: str | None
    email: str | None
    role: Role
