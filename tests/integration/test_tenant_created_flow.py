"""A tenant created over HTTP reaches the user cache through the outbox and real Kafka."""

import uuid
from typing import Any

import httpx
import pytest
from opentelemetry.trace import SpanKind
from sqlalchemy import func, select

from services.tenants.app import build_app as build_tenants
from services.tenants.settings import TenantsSettings
from services.usercache.app import build_app as build_usercache
from services.usercache.models import KnownTenant
from services.usercache.settings import UsercacheSettings
from shared.inbox import ProcessedEvent
from tests.support.stack import (
    committed_offset,
    eventually,
    partitions_of,
    produce,
    read_all,
    serving,
)


@pytest.fixture
async def stack(new_database, service_env):  # type: ignore[no-untyped-def]
    tenants_app = build_tenants(TenantsSettings(database_url=await new_database(), **service_env))
    usercache_app = build_usercache(
        UsercacheSettings(database_url=await new_database(), **service_env)
    )
    async with serving(tenants_app) as tenants, serving(usercache_app) as usercache:
        yield tenants, usercache, usercache_app


async def create_tenant(tenants: httpx.AsyncClient, name: str) -> dict[str, Any]:
    response = await tenants.post(
        "/internal/tenants", json={"name": name, "root_email": "root@example.com"}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def known_to_usercache(usercache: httpx.AsyncClient, tenant_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        response = await usercache.get(f"/internal/tenants/{tenant_id}")
        return response.json() if response.status_code == 200 else None

    return await eventually(probe)


async def test_a_created_tenant_is_recorded_by_the_user_cache(stack) -> None:  # type: ignore[no-untyped-def]
    tenants, usercache, _ = stack

    tenant = await create_tenant(tenants, "Acme Corporation")

    recorded = await known_to_usercache(usercache, tenant["id"])
    assert recorded == {"id": tenant["id"], "name": "Acme Corporation", "slug": "acme-corporation"}


async def test_the_consumer_span_joins_the_trace_of_the_http_request(stack, spans) -> None:  # type: ignore[no-untyped-def]
    tenants, usercache, _ = stack

    tenant = await create_tenant(tenants, "Traced Ltd")
    await known_to_usercache(usercache, tenant["id"])

    finished = spans.get_finished_spans()
    request = next(
        span
        for span in finished
        if span.kind is SpanKind.SERVER and span.attributes.get("http.route") == "/internal/tenants"
    )
    consumers = [span for span in finished if span.kind is SpanKind.CONSUMER]
    assert consumers, "no consumer span was recorded"
    assert request.context.trace_id in {span.context.trace_id for span in consumers}


async def test_a_duplicate_delivery_changes_nothing(stack, service_env) -> None:  # type: ignore[no-untyped-def]
    tenants, usercache, usercache_app = stack
    bootstrap = service_env["kafka_bootstrap_servers"]
    topic = f"{service_env['kafka_topic_prefix']}tenants.events"
    group = f"{service_env['kafka_topic_prefix']}usercache"
    tenant = await create_tenant(tenants, "Twice Inc")
    await known_to_usercache(usercache, tenant["id"])
    original = (await read_all(bootstrap, topic, until=lambda records: len(records) >= 1))[0]
    before = await _rows(usercache_app, tenant["id"])

    partition, offset = await produce(bootstrap, topic, original.value, original.key)
    await eventually(lambda: _passed(committed_offset(bootstrap, group, topic, partition), offset))

    assert await _rows(usercache_app, tenant["id"]) == before
    assert before["known"] == 1
    assert before["processed"] == 1


async def test_a_malformed_message_is_dead_lettered_and_later_ones_still_arrive(
    stack, service_env
) -> None:  # type: ignore[no-untyped-def]
    tenants, usercache, _ = stack
    bootstrap = service_env["kafka_bootstrap_servers"]
    prefix = service_env["kafka_topic_prefix"]
    topic = f"{prefix}tenants.events"
    key = str(uuid.uuid4()).encode()
    poison = b'{"type": "tenant.created", oops'
    # One poisoned record ahead on every partition, so whichever partition the next
    # tenant's event lands on, it queues behind one.
    partitions = await partitions_of(bootstrap, topic)
    for partition in partitions:
        await produce(bootstrap, topic, poison, key, partition)

    later = await create_tenant(tenants, "After The Poison")

    assert (await known_to_usercache(usercache, later["id"]))["slug"] == "after-the-poison"
    dead = await read_all(
        bootstrap,
        f"{prefix}usercache.dead-letter",
        until=lambda records: len(records) >= len(partitions),
    )
    assert [record.value for record in dead] == [poison] * len(partitions)
    assert {record.key for record in dead} == {key}
    for record in dead:
        reason = dict(record.headers)["dead-letter-reason"].decode()
        assert reason.startswith("not an event envelope")


async def _passed(committed, offset: int) -> bool:  # type: ignore[no-untyped-def]
    return await committed > offset


async def _rows(app, tenant_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    async with app.state.runtime.sessions() as session:
        known = await session.scalar(
            select(func.count()).where(KnownTenant.id == uuid.UUID(tenant_id))
        )
        recorded_at = await session.scalar(
            select(KnownTenant.recorded_at).where(KnownTenant.id == uuid.UUID(tenant_id))
        )
        processed = await session.scalar(select(func.count()).select_from(ProcessedEvent))
    return {"known": known, "recorded_at": recorded_at, "processed": processed}
