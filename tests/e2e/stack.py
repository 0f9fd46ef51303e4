"""The whole stack as `make run` starts it (the same `python -m` entry points and settings),
but on free ports, with SQLite files in a temporary folder and topics under a prefix of
its own, so that two runs on one machine do not collide."""

import os
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from typing import Any

import httpx

from devstack.infra import procs

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("auth", "tenants", "usercache", "gateway")
READY_TIMEOUT = 180.0


@dataclass
class Stack:
    urls: dict[str, str]
    emulator: dict[str, Any]
    logs: Path
    processes: dict[str, Popen] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return self.urls["gateway"]

    def log_tail(self, name: str, lines: int = 40) -> str:
        return procs.tail(self.logs / f"{name}.log", lines)


def _env(ports: dict[str, int], base: Path, kafka: str, prefix: str) -> dict[str, str]:
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = dict(os.environ) | {
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "KAFKA_TOPIC_PREFIX": prefix,
        "AWS_ENDPOINT_URL": url["aws"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "LOG_FORMAT": "console",
        "PYTHONUNBUFFERED": "1",
        "INTERNAL_SIGNING_KEY": secrets.token_urlsafe(32),
        "AUTH_TENANTS_URL": url["tenants"],
        "GATEWAY_AUTH_URL": url["auth"],
        "GATEWAY_TENANTS_URL": url["tenants"],
        "GATEWAY_USERCACHE_URL": url["usercache"],
    }
    env.pop("MOTO_ACCOUNT_ID", None)
    for name in SERVICES:
        env[f"{name.upper()}_PORT"] = str(ports[name])
        env[f"{name.upper()}_DATABASE_URL"] = f"sqlite+aiosqlite:///{base / name}.db"
    return env


def _start(name: str, argv: list[str], env: dict[str, str], logs: Path) -> Popen:
    output = (logs / f"{name}.log").open("wb")
    return procs.spawn(argv, output=output, env=env, cwd=ROOT)


def _wait_ready(stack: Stack, name: str, url: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    with httpx.Client(timeout=3.0) as client:
        while time.monotonic() < deadline:
            process = stack.processes[name]
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited ({process.returncode}):\n{stack.log_tail(name)}")
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
    raise RuntimeError(f"{name} not ready at {url}:\n{stack.log_tail(name)}")


@contextmanager
def running_stack(base: Path, kafka: str, prefix: str) -> Iterator[Stack]:
    ports = dict(zip(("aws", *SERVICES), procs.free_ports(5), strict=True))
    env = _env(ports, base, kafka, prefix)
    logs = base / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stack = Stack(
        urls={n: f"http://127.0.0.1:{p}" for n, p in ports.items()}, emulator={}, logs=logs
    )
    try:
        aws = [sys.executable, "-m", "devstack.aws", "--port", str(ports["aws"])]
        stack.processes["aws"] = _start("aws", aws, env, logs)
        _wait_ready(stack, "aws", f"{stack.urls['aws']}/_emulator/info")
        stack.emulator = httpx.get(f"{stack.urls['aws']}/_emulator/info", timeout=10).json()
        creds = stack.emulator["cloudivize_credentials"]
        env |= {
            "AWS_ACCESS_KEY_ID": creds["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": creds["secret_access_key"],
        }
        for name in SERVICES:
            argv = [sys.executable, "-m", f"services.{name}"]
            stack.processes[name] = _start(name, argv, env, logs)
        for name in SERVICES:
            _wait_ready(stack, name, f"{stack.urls[name]}/readyz")
        yield stack
    finally:
        for process in reversed(stack.processes.values()):
            procs.stop(process, grace=10.0)
