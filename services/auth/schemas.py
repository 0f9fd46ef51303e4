import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RootUserCreate(_Body):
    tenant_id: uuid.UUID
    email: EmailStr
    password: str = Field(min_length=10, max_length=256, repr=False)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class PasswordLogin(_Body):
    email: EmailStr
    # Any length is accepted here: a policy hint on login would help guessing.
    password: str = Field(min_length=1, max_length=256, repr=False)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class GrantedAccount(BaseModel):
    account_id: str
    account_name: str
    roles: list[str]


class SessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    session_id: uuid.UUID = Field(validation_alias="id")
    user_id: str
    name: str
    email: str | None
    tenant_id: uuid.UUID
    tenant_slug: str
    role: str
    is_root: bool
    mode: str
    tenant_status: str = Field(
        description="active, or deactivated: a local admin may then only reactivate the tenant."
    )
    source: str
    profile_source: str
    granted_accounts: list[GrantedAccount]
    expires_at: datetime


class SignedIn(BaseModel):
    session_token: str
    session: SessionRead


class SsoStart(_Body):
    browser_binding: str = Field(
        min_length=16,
        max_length=256,
        description="A secret only the browser that starts the login holds (e.g. a cookie's).",
        repr=False,
    )


class SsoStarted(BaseModel):
    attempt_id: str
    user_code: str
    verification_uri_complete: str
    expires_in: int
    interval: int


class SsoComplete(_Body):
    attempt_id: str = Field(min_length=1, max_length=200, repr=False)
    browser_binding: str = Field(min_length=16, max_length=256, repr=False)


class CredentialsRequest(_Body):
    account_id: str = Field(pattern=r"^\d{12}$")
    role_name: str | None = Field(default=None, min_length=1, max_length=128)


class AwsCredentials(BaseModel):
    account_id: str
    role_name: str
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime
