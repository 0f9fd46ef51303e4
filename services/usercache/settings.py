from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class UsercacheSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="USERCACHE_", extra="ignore", frozen=True)

    service_name: str = "usercache"
    port: int = 8003
    database_url: str = "sqlite+aiosqlite:///./var/usercache.db"
