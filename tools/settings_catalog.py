"""Every setting the services read, taken from their settings classes.

One row per environment variable: its name as an operator types it, type, default,
description and the services that read it. The configuration reference in docs/ and the
deployment checks both read this, so neither can drift from the code.
"""

from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from pydantic import AliasChoices, SecretStr
from pydantic.fields import FieldInfo

from tools.services import SERVICES

AWS_CALLERS = ("gateway", "auth", "tenants")

# Read by libraries (boto3, OpenTelemetry) rather than only by a settings class:
# (description, the services whose libraries read it).
LIBRARY_SETTINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "OTEL_EXPORTER_OTLP_ENDPOINT": (
        "OpenTelemetry collector (OTLP/HTTP) to send spans to; unset, spans only label the logs.",
        tuple(SERVICES),
    ),
    "AWS_DEFAULT_REGION": ("Region boto3 uses where a service names none.", AWS_CALLERS),
    "AWS_ENDPOINT_URL": (
        "The standard AWS endpoint override (boto3); set only to use the local emulator.",
        AWS_CALLERS,
    ),
}

# Shared fields that carry no description of their own in shared/settings.py.
BASE_DESCRIPTIONS = {
    "service_name": "Name the service logs and traces under.",
    "environment": "`production` refuses SQLite and the development keys.",
    "host": "Address to listen on (`0.0.0.0` in containers).",
    "port": "Port to listen on.",
    "database_url": "The service's own database: `postgresql://user:password@host/name` "
    "(asyncpg) or `sqlite:///path` (development).",
    "kafka_bootstrap_servers": "Kafka brokers, `host:port[,host:port]`.",
    "kafka_startup_timeout": "Seconds to wait for Kafka at start before exiting.",
    "log_format": "`json` for log collectors, `console` for a terminal.",
    "log_level": "Lowest level logged.",
    "kafka_partitions": "Partitions of a topic the service creates when it is missing "
    "(local runs; in Kubernetes the topics are declared for Strimzi).",
    "outbox_poll_interval": "Seconds between outbox relay passes when nothing wakes it.",
}


@dataclass(frozen=True)
class Setting:
    env: str
    type: str
    default: str
    description: str
    secret: bool
    services: tuple[str, ...]


def env_names(field_name: str, field: FieldInfo, prefix: str) -> str:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    if isinstance(alias, str):
        return alias
    return f"{prefix}{field_name}".upper()


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return " \\| ".join(str(choice) for choice in get_args(annotation))
    text = getattr(annotation, "__name__", None) or str(annotation)
    return str(text).replace("typing.", "").replace("pydantic.networks.", "")


def _default(field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True)
    if isinstance(value, SecretStr):
        return "a development-only value (refused in production)"
    if value is None:
        return "unset"
    return f"`{value}`" if str(value) != "" else '`""` (empty)'


def _is_secret(field: FieldInfo) -> bool:
    return "SecretStr" in str(field.annotation)


def catalog() -> list[Setting]:
    """Every setting, once per environment variable, sorted by name."""
    rows: dict[str, Setting] = {}
    for name, info in SERVICES.items():
        fields = info.settings_cls.model_fields
        for field_name, field in fields.items():
            if field_name == "database_url" and info.migrations is None:
                continue  # the base class has it; a service without a database ignores it
            env = env_names(field_name, field, info.env_prefix)
            if env in rows:
                previous = rows[env]
                rows[env] = Setting(**{**previous.__dict__, "services": (*previous.services, name)})
                continue
            rows[env] = Setting(
                env=env,
                type="secret" if _is_secret(field) else _type_name(field.annotation),
                default=_default(field),
                description=field.description or BASE_DESCRIPTIONS.get(field_name, ""),
                secret=_is_secret(field) or field_name == "database_url",
                services=(name,),
            )
    for env, (description, readers) in LIBRARY_SETTINGS.items():
        known = rows.get(env)
        rows[env] = Setting(
            env=env,
            type=known.type if known else "str",
            default=known.default if known else "unset",
            description=known.description if known else description,
            secret=False,
            services=tuple(name for name in SERVICES if name in readers),
        )
    return sorted(rows.values(), key=lambda row: (len(row.services) < len(SERVICES), row.env))


def secret_settings(service: str) -> list[str]:
    """Settings of one service that hold credentials and must come from a Secret."""
    return [row.env for row in catalog() if row.secret and service in row.services]


def known_names() -> set[str]:
    return {row.env for row in catalog()}
