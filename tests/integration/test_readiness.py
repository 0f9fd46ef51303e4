"""`/readyz` names the dependency that is down, and recovers by itself when it is back."""

import asyncio
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from devstack.infra import kafka as local_kafka
from devstack.infra import procs
from services.tenants.app import build_app as build_tenants
from services.tenants.settings import TenantsSettings
from tests.support.stack import eventually, serving
from tests.support.tcp_proxy import TcpProxy

REPO = Path(__file__).resolve().parents[2]


async def _readiness(client) -> tuple[int, dict[str, str]]:  # type: ignore[no-untyped-def]
    response = await client.get("/readyz")
    return response.status_code, response.json()["checks"]


async def test_readyz_reports_the_database_down_and_recovers(new_database, service_env) -> None:  # type: ignore[no-untyped-def]
    url = make_url(await new_database())
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
    app = build_tenants(TenantsSettings(database_url=proxied, **service_env))

    async with serving(app) as client:
        assert await _readiness(client) == (200, {"database": "ok", "kafka": "ok"})

        await proxy.cut()
        status, checks = await _readiness(client)
        assert status == 503
        assert checks["database"] != "ok"
        assert checks["kafka"] == "ok"

        await proxy.start()
        assert await eventually(lambda: _is_ready(client))


async def test_readyz_reports_kafka_down_and_recovers(tmp_path: Path, new_database) -> None:  # type: ignore[no-untyped-def]
    port, controller_port = procs.free_ports(2)
    broker = await asyncio.to_thread(local_kafka.start_broker, tmp_path, port, controller_port)
    settings = TenantsSettings(
        database_url=await new_database(), kafka_bootstrap_servers=f"127.0.0.1:{port}"
    )
    try:
        async with serving(build_tenants(settings)) as client:
            assert await _readiness(client) == (200, {"database": "ok", "kafka": "ok"})

            await asyncio.to_thread(local_kafka.stop_broker, broker)
            status, checks = await _readiness(client)
            assert (status, checks["kafka"]) == (503, "unreachable")

            broker = await asyncio.to_thread(
                local_kafka.start_broker, tmp_path, port, controller_port
            )
            assert await eventually(lambda: _is_ready(client))
    finally:
        await asyncio.to_thread(local_kafka.stop_broker, broker)


async def _is_ready(client) -> bool:  # type: ignore[no-untyped-def]
    status, _ = await _readiness(client)
    return status == 200


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"TENANTS_DATABASE_URL": "nonsense"},
            "config error: TENANTS_DATABASE_URL: not a database URL",
        ),
        (
            {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "KAFKA_STARTUP_TIMEOUT": "1"},
            "startup error: KAFKA_BOOTSTRAP_SERVERS: no broker reachable at 127.0.0.1:1",
        ),
    ],
)
async def test_a_service_with_a_bad_setting_exits_with_one_line(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    base = {"TENANTS_DATABASE_URL": f"sqlite:///{tmp_path}/t.db", "PATH": "/usr/bin:/bin"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.tenants",
        env={**base, **env},
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 2
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(expected)
    assert stdout == b""
