from typing import Self

from pydantic import AnyHttpUrl, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

# Only for local runs and tests; production refuses to start with it.
DEVELOPMENT_TOKEN_KEY = "ZGV2ZWxvcG1lbnQtb25seS10b2tlbi1rZXktMDAwMDA="  # noqa: S105


class AuthSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore", frozen=True)

    service_name: str = "auth"
    port: int = 8001
    database_url: str = "sqlite+aiosqlite:///./var/auth.db"
    tenants_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8002")
    token_encryption_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_TOKEN_KEY),
        description="Fernet key(s), comma-separated, newest first; encrypts SSO secrets at rest.",
    )
    session_idle_seconds: int = Field(default=30 * 60, gt=0)
    session_absolute_seconds: int = Field(default=12 * 3600, gt=0)
    grant_refresh_seconds: float = Field(
        default=300, ge=0, description="How stale an SSO session's grants may get while in use."
    )
    login_free_failures: int = Field(default=5, ge=1)
    login_lockout_seconds: float = Field(default=30, gt=0)
    login_lockout_max_seconds: float = Field(default=15 * 60, gt=0)
    sso_client_name: str = "Cloudivize"
    sso_client_renew_before_seconds: int = Field(
        default=24 * 3600, ge=0, description="Re-register an SSO client this long before expiry."
    )
    aws_timeout_seconds: float = Field(default=10, gt=0)
    portal_max_attempts: int = Field(default=6, ge=1)
    portal_backoff_seconds: float = Field(default=0.2, ge=0)

    @model_validator(mode="after")
    def _production_uses_own_token_key(self) -> Self:
        production = self.environment == "production"
        if production and DEVELOPMENT_TOKEN_KEY in self.token_encryption_key.get_secret_value():
            raise ValueError("production refuses the development AUTH_TOKEN_ENCRYPTION_KEY")
        return self
