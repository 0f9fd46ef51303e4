from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class TenantsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TENANTS_", extra="ignore", frozen=True)

    service_name: str = "tenants"
    port: int = 8002
    database_url: str = "sqlite+aiosqlite:///./var/tenants.db"
