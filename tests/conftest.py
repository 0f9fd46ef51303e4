"""Shared fixtures: a real Kafka broker and a real PostgreSQL, started only when requested.

Each is found by devstack.infra.discover (environment, Docker, local binaries) and started
once per session; what the session starts, it stops, on failure and Ctrl-C too.
"""

import dataclasses
import os
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from devstack.aws.server import EmulatorServer
from devstack.aws.settings import EmulatorSettings
from devstack.infra import InfraUnavailable, discover, postgres


def pytest_configure(config: pytest.Config) -> None:
    # Turn SIGTERM into KeyboardInterrupt so fixture teardown still stops the broker and
    # the database when a CI runner or a terminal kills the test run.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_interrupt)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@pytest.fixture(scope="session")
def kafka_bootstrap_servers() -> Iterator[str]:
    """Bootstrap address of a Kafka broker shared by the whole session."""
    try:
        with discover.kafka_bootstrap_servers() as address:
            yield address
    except InfraUnavailable as exc:
        pytest.exit(str(exc), returncode=3)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """SQLAlchemy URL of the server's admin database; tests use `database_url` instead."""
    try:
        with discover.postgres_admin_url() as url:
            yield url
    except InfraUnavailable as exc:
        pytest.exit(str(exc), returncode=3)


@pytest.fixture
async def database_url(postgres_server_url: str) -> AsyncIterator[str]:
    """A fresh, empty database of this test's own, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    url = await postgres.create_database(postgres_server_url, name)
    yield url
    await postgres.drop_database(postgres_server_url, name)


@pytest.fixture
def topic_prefix() -> str:
    """A prefix no other test or run shares, for topic and consumer group names."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def unique_topic(topic_prefix: str) -> str:
    return f"{topic_prefix}.events"


@pytest.fixture(scope="session")
def aws_emulator() -> Iterator[EmulatorServer]:
    """The AWS emulator, started once: moto keeps its state per process anyway."""
    assert "MOTO_ACCOUNT_ID" not in os.environ, "MOTO_ACCOUNT_ID defeats multi-account emulation"
    server = EmulatorServer(host="127.0.0.1", port=0, seed=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def aws_info(aws_emulator: EmulatorServer) -> dict[str, Any]:
    """The emulated organization: start URL, accounts, demo users, Cloudivize's principal."""
    return aws_emulator.info()


@pytest.fixture
def emulator_settings(aws_emulator: EmulatorServer) -> Iterator[EmulatorSettings]:
    """The running emulator's timings; whatever a test changes is put back afterwards."""
    saved = dataclasses.replace(aws_emulator.settings)
    yield aws_emulator.settings
    for field in dataclasses.fields(saved):
        setattr(aws_emulator.settings, field.name, getattr(saved, field.name))


@pytest.fixture(scope="session")
def tenants_aws_settings(aws_emulator: EmulatorServer, aws_info: dict[str, Any]) -> dict[str, Any]:
    """TenantsSettings fields that point the service at the emulator as Cloudivize's principal."""
    keys = aws_info["cloudivize_credentials"]
    return {
        "aws_endpoint_url": aws_emulator.url,
        "aws_access_key_id": keys["access_key_id"],
        "aws_secret_access_key": keys["secret_access_key"],
        "cloudivize_principal_arn": aws_info["cloudivize_principal_arn"],
    }
