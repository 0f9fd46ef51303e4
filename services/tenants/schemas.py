import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationInfo,
    computed_field,
    field_validator,
)

from services.tenants import validators
from services.tenants.models import TenantMode, TenantStatus


def _text(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("must not be blank")
    return value


AccountId = Annotated[str, AfterValidator(validators.account_id)]
RoleArn = Annotated[str, Field(max_length=2048), AfterValidator(validators.role_arn)]
Region = Annotated[str, AfterValidator(validators.region)]
SsoRegion = Annotated[
    str,
    Field(description="The IAM Identity Center region, such as eu-west-1."),
    AfterValidator(validators.sso_region),
]
IdentityStoreId = Annotated[str, AfterValidator(validators.identity_store_id)]
ViewName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_text)]


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


class SsoRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    start_url: str
    region: str
    identity_store_id: str | None
    management_role_arn: str | None
    default_role: Literal["viewer", "author"]


class TenantRead(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    status: TenantStatus
    mode: TenantMode
    created_at: datetime
    status_changed_at: datetime | None
    status_changed_by: str | None
    sso: SsoRead | None


class SsoUpdate(BaseModel):
    """SSO settings; the start URL's shape is checked against the region by the route."""

    model_config = ConfigDict(extra="forbid")

    start_url: str = Field(min_length=1, max_length=300)
    region: SsoRegion
    identity_store_id: IdentityStoreId | None = None
    management_role_arn: RoleArn | None = Field(
        default=None,
        description="A role in the management account that may read user names and emails.",
    )
    default_role: Literal["viewer", "author"] = Field(
        default="author", description="The Cloudivize role a new SSO user gets."
    )

    @field_validator("management_role_arn")
    @classmethod
    def _role_needs_store(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value and not info.data.get("identity_store_id"):
            raise ValueError("needs identity_store_id, the store to read users from")
        return value


class AwsLinkSetup(BaseModel):
    principal_arn: str = Field(description="Cloudivize's AWS principal the role must trust.")
    external_id: str = Field(description="This tenant's external ID (sts:ExternalId).")
    template: str = Field(description="CloudFormation template (JSON) creating the role.")
    template_url: str
    quick_create_url: str


class AwsAccountLinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    aws_account_id: AccountId
    role_arn: RoleArn

    @field_validator("role_arn")
    @classmethod
    def _arn_in_account(cls, value: str, info: ValidationInfo) -> str:
        account = info.data.get("aws_account_id")
        if account and validators.account_of_role(value) != account:
            raise ValueError("the role is in another AWS account than aws_account_id")
        return value


class AwsAccountLinkRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    aws_account_id: str
    role_arn: str
    linked_at: datetime
    linked_by: str
    validated_at: datetime | None
    validation_result: str = Field(description="ok, pending, or the reason it failed.")
    validation_detail: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def valid(self) -> bool:
        return self.validation_result == "ok"


class ViewCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ViewName
    aws_account_id: AccountId
    region: Region


class ViewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    aws_account_id: str
    region: str
    created_at: datetime
    created_by: str


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    actor: str
    occurred_at: datetime
    details: dict[str, Any]
