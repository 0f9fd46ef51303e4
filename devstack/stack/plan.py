"""What `make run` starts: fixed ports, one SQLite file per service under var/."""

import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

from devstack.stack.children import ChildSpec

HOST = "127.0.0.1"
KAFKA_PORT, KAFKA_CONTROLLER_PORT = 9092, 9093
EMULATOR_PORT = 4566
SERVICE_PORTS = {"gateway": 8000, "auth": 8001, "tenants": 8002, "usercache": 8003}
TOPICS = ("tenants.events", "auth.events", "usercache.events")


@dataclass(frozen=True)
class KafkaPlan:
    data_dir: Path
    port: int = KAFKA_PORT
    controller_port: int = KAFKA_CONTROLLER_PORT
    topics: tuple[str, ...] = TOPICS


@dataclass(frozen=True)
class Plan:
    var_dir: Path
    kafka: KafkaPlan | None
    emulator: ChildSpec | None
    services: list[ChildSpec]
    seed_demo_tenant: bool = True
    tenants_url: str = f"http://{HOST}:{SERVICE_PORTS['tenants']}"
    auth_url: str = f"http://{HOST}:{SERVICE_PORTS['auth']}"
    ready_timeout: float = 120.0
    env: dict[str, str] = field(default_factory=dict)


def _url(port: int) -> str:
    return f"http://{HOST}:{port}"


def service_env(name: str, var_dir: Path) -> dict[str, str]:
    upper = name.upper()
    env = {
        f"{upper}_PORT": str(SERVICE_PORTS[name]),
        f"{upper}_DATABASE_URL": f"sqlite+aiosqlite:///{var_dir / name}.db",
    }
    if name == "gateway":
        for other in ("auth", "tenants", "usercache"):
            env[f"GATEWAY_{other.upper()}_URL"] = _url(SERVICE_PORTS[other])
    if name == "auth":
        env["AUTH_TENANTS_URL"] = _url(SERVICE_PORTS["tenants"])
    return env


def default_plan(root: Path) -> Plan:
    var_dir = root / "var"
    services = [
        ChildSpec(
            name=name,
            argv=[sys.executable, "-m", f"services.{name}"],
            env=service_env(name, var_dir),
            ready_url=f"{_url(port)}/readyz",
            url=_url(port),
            port=port,
        )
        for name, port in SERVICE_PORTS.items()
    ]
    return Plan(
        var_dir=var_dir,
        kafka=KafkaPlan(var_dir / "kafka"),
        emulator=_emulator() if (root / "devstack" / "aws" / "__main__.py").exists() else None,
        services=services,
        env={
            "KAFKA_BOOTSTRAP_SERVERS": f"{HOST}:{KAFKA_PORT}",
            "AWS_ENDPOINT_URL": _url(EMULATOR_PORT),
            "AWS_DEFAULT_REGION": "us-east-1",
            "LOG_FORMAT": "console",
            "PYTHONUNBUFFERED": "1",
            # A fresh key per run: internal calls signed by an earlier run stop verifying.
            "INTERNAL_SIGNING_KEY": secrets.token_urlsafe(32),
        },
    )


def _emulator() -> ChildSpec:
    return ChildSpec(
        name="aws",
        argv=[sys.executable, "-m", "devstack.aws", "--port", str(EMULATOR_PORT)],
        ready_url=f"{_url(EMULATOR_PORT)}/_emulator/info",
        url=_url(EMULATOR_PORT),
        port=EMULATOR_PORT,
    )
