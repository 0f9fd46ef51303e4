from typing import Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

# The principal the AWS emulator's demo credentials belong to (devstack/aws).
EMULATOR_PRINCIPAL = "arn:aws:iam::444455556666:user/cloudivize-platform"


class TenantsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TENANTS_", extra="ignore", frozen=True)

    service_name: str = "tenants"
    port: int = 8002
    database_url: str = "sqlite+aiosqlite:///./var/tenants.db"

    cloudivize_principal_arn: str = Field(
        default=EMULATOR_PRINCIPAL,
        pattern=r"^arn:aws[\w-]*:(iam|sts)::\d{12}:[\w+=,.@/-]+$",
        description="The AWS principal customers' roles trust; it signs role validation.",
    )
    aws_access_key_id: str | None = Field(
        default=None, description="Key of that principal; unset, boto3's default chain applies."
    )
    aws_secret_access_key: SecretStr | None = None
    aws_region: str = "us-east-1"
    aws_endpoint_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("AWS_ENDPOINT_URL"),
        description="The standard AWS endpoint override; set only to use the local emulator.",
    )
    template_url: str = Field(
        default="https://cloudivize-public.s3.amazonaws.com/cloudivize-read-only-role.yaml",
        description="Where the CloudFormation template is published, for the quick-create link.",
    )
    signup_undo_window_seconds: float = Field(default=600.0, gt=0)

    @model_validator(mode="after")
    def _production_names_its_own_principal(self) -> Self:
        if self.environment == "production" and self.cloudivize_principal_arn == EMULATOR_PRINCIPAL:
            raise ValueError(
                "TENANTS_CLOUDIVIZE_PRINCIPAL_ARN: production refuses the emulator's principal"
            )
        return self
