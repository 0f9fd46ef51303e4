import io
import json
import os
import signal
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from devstack.infra.procs import free_ports
from devstack.stack import lock, seed
from devstack.stack.plan import default_plan
from devstack.stack.supervisor import Supervisor
from tests.infra.stack_harness import plan_from_json

ROOT = Path(__file__).resolve().parents[2]
FAKE = str(Path(__file__).with_name("fake_service.py"))


def _fake(name: str, port: int, tmp_path: Path, **env: str) -> dict:
    return {
        "name": name,
        "argv": [sys.executable, FAKE],
        "env": {"FAKE_PORT": str(port), "FAKE_PIDFILE": str(tmp_path / f"{name}.pid"), **env},
        "ready_url": f"http://127.0.0.1:{port}/readyz",
        "url": f"http://127.0.0.1:{port}",
        "port": port,
    }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _pids(tmp_path: Path) -> list[int]:
    return [int(path.read_text()) for path in tmp_path.glob("*.pid")]


def _start_harness(plan: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.infra.stack_harness", json.dumps(plan)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _read_until(proc: subprocess.Popen, marker: str, limit: int = 200) -> list[str]:
    lines = []
    for _ in range(limit):
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if marker in line:
            return lines
    raise AssertionError(f"{marker!r} never printed; got {lines}")


def test_the_stack_comes_up_seeds_the_demo_tenant_and_stops_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    emulator_port, tenants_port, gateway_port = free_ports(3)
    record = tmp_path / "posts.jsonl"
    plan = {
        "var_dir": str(tmp_path),
        "emulator": _fake("aws", emulator_port, tmp_path),
        "services": [
            _fake("tenants", tenants_port, tmp_path, FAKE_RECORD=str(record)),
            _fake("gateway", gateway_port, tmp_path),
        ],
        "seed": True,
        "tenants_url": f"http://127.0.0.1:{tenants_port}",
    }
    proc = _start_harness(plan)

    lines = _read_until(proc, "cloudivize is running")
    lines += _read_until(proc, "demo SSO user")
    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=60)

    assert proc.returncode == 0
    assert f"tenants   | fake up port={tenants_port} key=AKIAFAKEFORTESTS0001" in lines
    assert json.loads(record.read_text()) == {
        "name": "Demo Company",
        "root_email": "root@demo.example",
    }
    assert f"run       |   gateway    http://127.0.0.1:{gateway_port}" in lines
    assert "run       |   SSO start URL: http://127.0.0.1/start" in lines
    assert "run       |   demo SSO user: alice / pw-1  alice@example.com" in lines
    assert "stopped" in rest
    assert len(_pids(tmp_path)) == 3
    assert not any(_alive(pid) for pid in _pids(tmp_path))


def test_a_child_that_dies_is_named_with_its_last_lines_and_the_rest_are_stopped(
    tmp_path: Path,
) -> None:
    tenants_port, gateway_port = free_ports(2)
    plan = {
        "var_dir": str(tmp_path),
        "services": [
            _fake("tenants", tenants_port, tmp_path, FAKE_EXIT_AFTER="2"),
            _fake("gateway", gateway_port, tmp_path),
        ],
    }
    proc = _start_harness(plan)

    output, _ = proc.communicate(timeout=60)

    assert proc.returncode == 1
    assert "run       | tenants exited with code 3; its last lines:" in output
    assert "tenants   | fake: giving up now" in output.split("its last lines:")[1]
    assert not any(_alive(pid) for pid in _pids(tmp_path))


def test_a_child_that_never_gets_ready_is_named_and_stopped(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    spec = _fake("usercache", port, tmp_path, FAKE_READY="0")
    plan = plan_from_json(json.dumps({"var_dir": str(tmp_path), "services": [spec]}))
    out = io.StringIO()

    code = Supervisor(replace(plan, ready_timeout=3.0), out=out).run()

    assert code == 1
    assert f"usercache did not become ready within 3s (GET http://127.0.0.1:{port}/readyz)" in (
        out.getvalue()
    )
    assert not _alive(int((tmp_path / "usercache.pid").read_text()))


def test_a_port_in_use_is_reported_in_one_line_naming_the_port_and_its_holder(
    tmp_path: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        spec = _fake("gateway", port, tmp_path)
        plan = plan_from_json(json.dumps({"var_dir": str(tmp_path), "services": [spec]}))
        out = io.StringIO()

        code = Supervisor(plan, out=out).run()

    assert code == 1
    message = out.getvalue().strip()
    assert "\n" not in message
    assert f"port {port} (for gateway) is already in use by" in message
    assert f"pid {os.getpid()}" in message
    assert not (tmp_path / "gateway.pid").exists()


def test_a_second_run_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    with lock.acquire(tmp_path / "run.lock"), pytest.raises(lock.AlreadyRunning) as raised:
        lock.acquire(tmp_path / "run.lock")

    assert str(raised.value) == (
        f"cloudivize is already running (pid {os.getpid()}); stop it with Ctrl-C in its terminal"
    )


def test_the_lock_is_free_again_once_its_holder_exits(tmp_path: Path) -> None:
    lock.acquire(tmp_path / "run.lock").close()

    with lock.acquire(tmp_path / "run.lock"):
        recorded = (tmp_path / "run.lock").read_text()

    assert recorded == str(os.getpid())


def test_the_default_plan_wires_ports_databases_and_service_urls() -> None:
    plan = default_plan(ROOT)
    by_name = {spec.name: spec for spec in plan.services}

    assert {name: spec.port for name, spec in by_name.items()} == {
        "gateway": 8000,
        "auth": 8001,
        "tenants": 8002,
        "usercache": 8003,
    }
    assert by_name["gateway"].env["GATEWAY_USERCACHE_URL"] == "http://127.0.0.1:8003"
    assert by_name["auth"].env["AUTH_TENANTS_URL"] == "http://127.0.0.1:8002"
    assert by_name["tenants"].env["TENANTS_DATABASE_URL"] == (
        f"sqlite+aiosqlite:///{ROOT}/var/tenants.db"
    )
    assert by_name["usercache"].argv[1:] == ["-m", "services.usercache"]
    assert plan.env["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:9092"
    assert plan.kafka is not None
    assert plan.kafka.data_dir == ROOT / "var" / "kafka"


def test_the_seed_signs_its_calls_as_the_devstack_service() -> None:
    from shared.identity import HEADER, verify

    key = "k" * 40
    headers = seed.internal_headers(key)

    assert verify(headers[HEADER], key).caller == "devstack"
    assert seed.internal_headers(None) == {}
