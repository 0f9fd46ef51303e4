"""Settings loading: one pydantic-settings class per service, sharing these fields."""

import sys
from typing import Any, Literal, Self, TypeVar

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

# Only for local runs and tests; production refuses to start with it.
DEVELOPMENT_SIGNING_KEY = "development-only-internal-signing-key-0000"

ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


def normalize_database_url(value: str) -> str:
    """Accept the usual spellings of a SQLite or PostgreSQL URL; return the async one."""
    try:
        url: URL = make_url(value)
    except ArgumentError:
        raise ValueError(
            "not a database URL (expected sqlite:///path or postgresql://host/name)"
        ) from None
    driver = ASYNC_DRIVERS.get(url.drivername)
    if driver is None:
        raise ValueError(f"unsupported database {url.drivername!r} (use sqlite or postgresql)")
    if driver.startswith("postgresql") and not url.host:
        raise ValueError("a PostgreSQL URL needs a host")
    return url.set(drivername=driver).render_as_string(hide_password=False)


def parse_bootstrap_servers(value: str) -> str:
    """Check a comma-separated list of host:port pairs."""
    servers = [part.strip() for part in value.split(",") if part.strip()]
    if not servers:
        raise ValueError("no broker address given (expected host:port[,host:port])")
    for server in servers:
        host, _, port = server.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{server!r} is not host:port")
    return ",".join(servers)


class ServiceSettings(BaseSettings):
    """Fields every service reads. Subclasses set `env_prefix` and a database default."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    service_name: str = "service"
    environment: Literal["development", "production"] = Field(
        default="development", validation_alias=AliasChoices("CLOUDIVIZE_ENV")
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    database_url: str = "sqlite+aiosqlite:///./var/service.db"
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS")
    )
    kafka_startup_timeout: float = Field(
        default=30.0, gt=0, validation_alias=AliasChoices("KAFKA_STARTUP_TIMEOUT")
    )
    log_format: Literal["console", "json"] = Field(
        default="console", validation_alias=AliasChoices("LOG_FORMAT")
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", validation_alias=AliasChoices("LOG_LEVEL")
    )
    kafka_partitions: int = Field(
        default=3, ge=1, validation_alias=AliasChoices("KAFKA_TOPIC_PARTITIONS")
    )
    kafka_topic_prefix: str = Field(
        default="",
        pattern=r"^[a-zA-Z0-9._-]*$",
        validation_alias=AliasChoices("KAFKA_TOPIC_PREFIX"),
        description="Prepended to every topic and consumer group, to share one cluster.",
    )
    internal_signing_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SIGNING_KEY),
        min_length=32,
        validation_alias=AliasChoices("INTERNAL_SIGNING_KEY"),
        description="Shared HMAC key that signs calls between services.",
    )
    internal_signing_key_previous: SecretStr | None = Field(
        default=None,
        min_length=32,
        validation_alias=AliasChoices("INTERNAL_SIGNING_KEY_PREVIOUS"),
        description="The key being retired: still accepted, never used to sign, during a rotation.",
    )
    outbox_poll_interval: float = Field(default=1.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _bootstrap_servers(cls, value: str) -> str:
        return parse_bootstrap_servers(value)

    @model_validator(mode="after")
    def _production_uses_real_database(self) -> Self:
        if self.environment != "production":
            return self
        if self.database_url.startswith("sqlite"):
            name = env_name(type(self), "database_url")
            raise ValueError(f"{name}: production needs PostgreSQL, not the embedded SQLite")
        if self.internal_signing_key.get_secret_value() == DEVELOPMENT_SIGNING_KEY:
            raise ValueError("INTERNAL_SIGNING_KEY: production refuses the development key")
        return self

    @property
    def redacted_database_url(self) -> str:
        return make_url(self.database_url).render_as_string(hide_password=True)


S = TypeVar("S", bound=ServiceSettings)


class SettingsError(SystemExit):
    """A settings problem, described in one line and ending the process."""


def env_name(settings_cls: type[BaseSettings], field: str) -> str:
    """The environment variable a field is read from, as an operator would type it."""
    if field not in settings_cls.model_fields:
        return field.upper()  # errors on aliased fields are reported under the alias
    prefix = settings_cls.model_config.get("env_prefix", "")
    return f"{prefix}{field}".upper()


def load_settings(settings_cls: type[S], **overrides: Any) -> S:
    """Build settings from the environment, or exit with one line naming the bad setting."""
    try:
        return settings_cls(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        message = first["msg"].removeprefix("Value error, ")
        if field:  # errors of the whole model name their variable in the message itself
            message = f"{env_name(settings_cls, field)}: {message}"
        print(f"config error: {message}", file=sys.stderr)
        raise SettingsError(2) from None
