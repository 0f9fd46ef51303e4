import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from devstack.infra import postgres
from shared.telemetry import add_span_processor

_exporter = InMemorySpanExporter()


@pytest.fixture(scope="session", autouse=True)
def _collect_spans() -> None:
    add_span_processor(SimpleSpanProcessor(_exporter))


@pytest.fixture
def spans() -> InMemorySpanExporter:
    """Every span finished in this process during the test."""
    _exporter.clear()
    return _exporter


@pytest.fixture
async def new_database(postgres_server_url: str) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """Creates as many fresh databases as a test needs (one per service) and drops them."""
    names: list[str] = []

    async def create() -> str:
        name = f"test_{uuid.uuid4().hex[:16]}"
        names.append(name)
        return await postgres.create_database(postgres_server_url, name)

    yield create
    for name in names:
        await postgres.drop_database(postgres_server_url, name)


@pytest.fixture
def service_env(kafka_bootstrap_servers: str, topic_prefix: str) -> dict[str, object]:
    """Settings every in-process service of one test shares."""
    return {
        "kafka_bootstrap_servers": kafka_bootstrap_servers,
        "kafka_topic_prefix": f"{topic_prefix}.",
        "outbox_poll_interval": 0.2,
    }
