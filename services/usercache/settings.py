from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class UsercacheSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="USERCACHE_", extra="ignore", frozen=True)

    service_name: str = "usercache"
    port: int = 8003
    database_url: str = "sqlite+aiosqlite:///./var/usercache.db"
    consumer_group: str = Field(
        default="usercache",
        pattern=r"^[a-zA-Z0-9._-]+$",
        description="Rebuilding into an empty database: start under a new group name.",
    )
    consumer_batch_size: int = Field(
        default=500, ge=1, le=5000, description="Most records applied in one transaction."
    )
