"""What the gateway accepts from browsers; checked here before any service is called."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

ACCOUNT_ID = r"^\d{12}$"
REGION = r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$"
ROLE_ARN = r"^arn:aws:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]+$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SignupRequest(Strict):
    company: str = Field(min_length=1, max_length=200, description="The company's name.")
    email: EmailStr
    password: str = Field(min_length=1, max_length=1024)


class LoginRequest(Strict):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class ViewCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    aws_account_id: str = Field(pattern=ACCOUNT_ID)
    region: str = Field(pattern=REGION, max_length=30)


class SsoSettings(Strict):
    start_url: str = Field(pattern=r"^https?://[^\s]+$", max_length=500)
    region: str = Field(pattern=REGION, max_length=30)
    identity_store_id: str | None = Field(default=None, pattern=r"^d-[a-z0-9]{10}$")
    management_role_arn: str | None = Field(default=None, pattern=ROLE_ARN, max_length=600)
    default_role: Literal["viewer", "author"] = "author"


class AwsAccountLink(Strict):
    aws_account_id: str = Field(pattern=ACCOUNT_ID)
    role_arn: str = Field(
        pattern=r"^arn:aws:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]+$", max_length=600
    )


class RoleChange(Strict):
    role: Literal["viewer", "author"]


class UserQuery(Strict):
    q: str | None = Field(default=None, max_length=200)
    sort: Literal["name", "email", "last_login_at", "role"] | None = None
    order: Literal["asc", "desc"] | None = None
    page: int = Field(default=1, ge=1, le=100_000)
    page_size: int = Field(default=50, ge=1, le=200)
