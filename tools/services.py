"""The catalogue of services: how each is named, configured and built.

Generators, deployment checks and the migration command look services up here instead
of each keeping a list of its own.
"""

import importlib
import json
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    settings_class: str

    @cached_property
    def settings_cls(self) -> type[ServiceSettings]:
        module, _, name = self.settings_class.rpartition(".")
        cls: type[ServiceSettings] = getattr(importlib.import_module(module), name)
        return cls

    @property
    def env_prefix(self) -> str:
        return str(self.settings_cls.model_config.get("env_prefix", ""))

    @property
    def port(self) -> int:
        default: int = self.settings_cls.model_fields["port"].default
        return default

    @property
    def migrations(self) -> Path | None:
        path = ROOT / "services" / self.name / "migrations"
        return path if path.is_dir() else None

    def build_app(self, settings: ServiceSettings | None = None) -> Any:
        """The service's FastAPI app, built but not started (no infrastructure needed)."""
        app_module = importlib.import_module(f"services.{self.name}.app")
        return app_module.build_app(settings or self.settings_cls())


SERVICES: dict[str, ServiceInfo] = {
    info.name: info
    for info in (
        ServiceInfo("gateway", "services.gateway.settings.GatewaySettings"),
        ServiceInfo("auth", "services.auth.settings.AuthSettings"),
        ServiceInfo("tenants", "services.tenants.settings.TenantsSettings"),
        ServiceInfo("usercache", "services.usercache.settings.UsercacheSettings"),
    )
}


def describe(name: str) -> dict[str, Any]:
    """What a service's composition root declares: routes, topics published, consumer group."""
    app = SERVICES[name].build_app()
    spec = app.state.runtime.spec
    consumes = spec.consumes
    return {
        "name": spec.name,
        "routes": sorted(set(_paths(app.routes))),
        "publishes": list(spec.publishes),
        "consumes": None
        if consumes is None
        else {"group": consumes.group, "topics": list(consumes.topics)},
    }


def _paths(routes: Any) -> Any:
    """Every path an app serves, through the routers it includes (which FastAPI nests)."""
    for route in routes:
        if hasattr(route, "effective_candidates"):
            yield from _paths(route.effective_candidates())
        else:
            yield getattr(route, "path", None) or route.path_format


def describe_all() -> dict[str, dict[str, Any]]:
    """`describe` for every service, each in a process of its own as in production: two
    services' models may not share one process's SQLAlchemy metadata."""
    processes = {
        name: subprocess.Popen(  # noqa: S603 (this interpreter, our own module)
            [sys.executable, "-m", "tools.services", name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for name in SERVICES
    }
    described = {}
    for name, process in processes.items():
        out, err = process.communicate(timeout=180)
        if process.returncode != 0:
            raise RuntimeError(f"cannot describe service {name}:\n{err}")
        described[name] = json.loads(out)
    return described


if __name__ == "__main__":
    print(json.dumps(describe(sys.argv[1])))
