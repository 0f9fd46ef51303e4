from pydantic import AnyHttpUrl, Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    """The gateway keeps nothing durable, so it has no database setting."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", frozen=True)

    service_name: str = "gateway"
    port: int = 8000
    auth_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8001")
    tenants_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8002")
    usercache_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8003")
    upstream_timeout: float = Field(default=15.0, gt=0)

    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # How long a session check by auth is trusted before asking auth again. Events from
    # tenants and usercache cut it short; this bounds the staleness when they lag.
    session_recheck_seconds: float = Field(default=5.0, ge=0)
    sso_attempt_seconds: int = Field(default=900, ge=60)

    # Requests per client address per window, per limited action (in-process counters).
    rate_window_seconds: float = Field(default=60.0, gt=0)
    rate_limit_login: int = Field(default=20, ge=1)
    rate_limit_signup: int = Field(default=10, ge=1)
    rate_limit_sso_start: int = Field(default=20, ge=1)

    def upstreams(self) -> dict[str, str]:
        return {
            "auth": str(self.auth_url).rstrip("/"),
            "tenants": str(self.tenants_url).rstrip("/"),
            "usercache": str(self.usercache_url).rstrip("/"),
        }

    def rate_limits(self) -> dict[str, int]:
        return {
            "login": self.rate_limit_login,
            "signup": self.rate_limit_signup,
            "sso_start": self.rate_limit_sso_start,
        }
