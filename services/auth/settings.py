from pydantic import AnyHttpUrl
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class AuthSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore", frozen=True)

    service_name: str = "auth"
    port: int = 8001
    database_url: str = "sqlite+aiosqlite:///./var/auth.db"
    tenants_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8002")
