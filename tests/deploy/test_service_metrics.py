"""A running service's `/metrics` shows its events, dead letters, lag and outbox, against
the real broker and PostgreSQL (what Prometheus scrapes through the pod annotations)."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from devstack.infra import postgres
from services.tenants.app import build_app as build_tenants
from services.tenants.settings import TenantsSettings
from services.usercache.app import build_app as build_usercache
from services.usercache.settings import UsercacheSettings
from shared.metrics import LagSampler
from tests.support.stack import eventually, produce, serving


def series(text: str, name: str) -> dict[frozenset, float]:
    return {
        frozenset(sample.labels.items()): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


@pytest.fixture
async def databases(postgres_server_url):
    names = [f"test_{uuid.uuid4().hex[:16]}" for _ in range(2)]
    urls = [await postgres.create_database(postgres_server_url, name) for name in names]
    yield urls
    for name in names:
        await postgres.drop_database(postgres_server_url, name)


@pytest.fixture
async def stack(databases, kafka_bootstrap_servers, topic_prefix):
    common = {
        "kafka_bootstrap_servers": kafka_bootstrap_servers,
        "kafka_topic_prefix": f"{topic_prefix}.",
        "outbox_poll_interval": 0.2,
    }
    tenants_app = build_tenants(TenantsSettings(database_url=databases[0], **common))
    usercache_app = build_usercache(UsercacheSettings(database_url=databases[1], **common))
    async with serving(tenants_app) as tenants, serving(usercache_app) as usercache:
        yield tenants, usercache, usercache_app, f"{topic_prefix}."


async def scrape(client, name: str) -> dict[frozenset, float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return series(response.text, name)


async def test_a_published_and_consumed_event_shows_in_both_services_metrics(stack):
    tenants, usercache, _, prefix = stack

    created = await tenants.post(
        "/internal/tenants", json={"name": "Metered Inc", "root_email": "root@metered.example"}
    )
    assert created.status_code == 201, created.text

    async def published():
        found = await scrape(tenants, "events_published_total")
        key = frozenset({("topic", f"{prefix}tenants.events"), ("type", "tenant.created")})
        return found.get(key)

    async def consumed():
        found = await scrape(usercache, "events_consumed_total")
        key = frozenset({("topic", f"{prefix}tenants.events"), ("type", "tenant.created")})
        return found.get(key)

    assert await eventually(published) >= 1
    assert await eventually(consumed) >= 1
    requests = await scrape(tenants, "http_requests_total")
    route = frozenset({("method", "POST"), ("route", "/internal/tenants"), ("status", "201")})
    assert requests[route] == 1


async def test_an_unreadable_event_is_counted_as_dead_lettered(stack, kafka_bootstrap_servers):
    _, usercache, _, prefix = stack
    envelope = {
        "event_id": str(uuid.uuid4()),
        "type": "tenant.teleported",
        "version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "tenant_id": str(uuid.uuid4()),
        "payload": {},
    }

    await produce(
        kafka_bootstrap_servers,
        f"{prefix}tenants.events",
        json.dumps(envelope).encode(),
        envelope["tenant_id"].encode(),
    )

    async def dead_lettered():
        found = await scrape(usercache, "events_dead_lettered_total")
        return found.get(
            frozenset({("group", f"{prefix}usercache"), ("topic", f"{prefix}tenants.events")})
        )

    assert await eventually(dead_lettered) == 1


async def test_consumer_lag_is_sampled_per_partition_and_drains_to_zero(
    stack, kafka_bootstrap_servers
):
    tenants, usercache, usercache_app, prefix = stack
    runtime = usercache_app.state.runtime
    topics = [runtime.topic(name) for name in runtime.spec.consumes.topics]
    sampler = LagSampler(
        usercache_app.state.metrics, kafka_bootstrap_servers, runtime.consumer.group, topics
    )
    created = await tenants.post(
        "/internal/tenants", json={"name": "Lagging Ltd", "root_email": "root@lag.example"}
    )
    assert created.status_code == 201

    async def drained():
        await sampler.sample()
        lag = await scrape(usercache, "kafka_consumer_lag")
        tenant_topic = [v for k, v in lag.items() if ("topic", f"{prefix}tenants.events") in k]
        return lag if tenant_topic and not any(tenant_topic) else None

    try:
        lag = await eventually(drained)
    finally:
        await sampler.close()
    partitions = {dict(key)["partition"] for key in lag if ("topic", topics[0]) in key}
    assert len(partitions) == runtime.settings.kafka_partitions
