from pydantic import AnyHttpUrl
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

    def upstreams(self) -> dict[str, str]:
        return {
            "auth": str(self.auth_url).rstrip("/"),
            "tenants": str(self.tenants_url).rstrip("/"),
            "usercache": str(self.usercache_url).rstrip("/"),
        }
