"""Shared fixtures: a real Kafka broker and a real PostgreSQL, started only when requested.

Each is found by devstack.infra.discover (environment, Docker, local binaries) and started
once per session; what the session starts, it stops, on failure and Ctrl-C too.
"""

import signal
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

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
