import json
import uuid
from datetime import timedelta
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from prometheus_client.parser import text_string_to_metric_families

from shared import db
from shared.metrics import (
    UNMATCHED_ROUTE,
    UNREADABLE_TYPE,
    OutboxSampler,
    ServiceMetrics,
    event_type,
    install_metrics,
)
from shared.outbox import OutboxMessage


def samples(metrics: ServiceMetrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The values of one metric as `/metrics` renders them, keyed by their labels."""
    found = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def small_app(metrics: ServiceMetrics) -> FastAPI:
    app = FastAPI()
    install_metrics(app, metrics)

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        if item_id == 0:
            raise HTTPException(status_code=404)
        return {"id": item_id}

    return app


async def get(app: FastAPI, *paths: str) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return [await client.get(path) for path in paths]


async def test_requests_are_counted_by_route_template_and_status():
    metrics = ServiceMetrics("test")

    await get(small_app(metrics), "/items/1", "/items/2", "/items/0")

    counts = samples(metrics, "http_requests_total")
    route = ("route", "/items/{item_id}")
    assert counts[(("method", "GET"), route, ("status", "200"))] == 2
    assert counts[(("method", "GET"), route, ("status", "404"))] == 1
    latency = samples(metrics, "http_request_duration_seconds_count")
    assert latency[(("method", "GET"), route)] == 3


async def test_unknown_paths_share_one_label_so_a_scan_cannot_multiply_series():
    metrics = ServiceMetrics("test")

    await get(small_app(metrics), "/wp-admin", "/.env", "/a/b/c")

    counts = samples(metrics, "http_requests_total")
    assert counts == {(("method", "GET"), ("route", UNMATCHED_ROUTE), ("status", "404")): 3}


async def test_the_metrics_route_serves_the_prometheus_text_format():
    metrics = ServiceMetrics("test")
    app = small_app(metrics)

    (response,) = await get(app, "/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE outbox_backlog_events gauge" in response.text
    assert "/metrics" not in app.openapi()["paths"]


async def test_two_services_in_one_process_keep_separate_series():
    first, second = ServiceMetrics("first"), ServiceMetrics("second")

    await get(small_app(first), "/items/1")

    assert samples(first, "http_requests_total")
    assert samples(second, "http_requests_total") == {}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (json.dumps({"type": "tenant.created", "payload": {}}).encode(), "tenant.created"),
        (b"not json", UNREADABLE_TYPE),
        (b"[1, 2]", UNREADABLE_TYPE),
        (json.dumps({"type": 7}).encode(), UNREADABLE_TYPE),
        (None, UNREADABLE_TYPE),
    ],
)
def test_the_event_type_label_is_what_the_envelope_claims_or_unreadable(value, expected):
    assert event_type(value) == expected


def record(topic: str, event: str) -> SimpleNamespace:
    return SimpleNamespace(topic=topic, value=json.dumps({"type": event}).encode())


async def passthrough(message: object) -> str:
    return "handled"


async def test_consumed_events_are_counted_by_type_once_the_handler_returns():
    metrics = ServiceMetrics("test")
    middleware = metrics.kafka_middleware()
    batch = SimpleNamespace(
        raw_message=(record("t.events", "tenant.created"), record("t.events", "user.removed"))
    )
    single = SimpleNamespace(raw_message=record("t.events", "tenant.created"))

    for message in (batch, single):
        await middleware(message, context=None).consume_scope(passthrough, message)

    counts = samples(metrics, "events_consumed_total")
    assert counts[(("topic", "t.events"), ("type", "tenant.created"))] == 2
    assert counts[(("topic", "t.events"), ("type", "user.removed"))] == 1


async def test_a_record_whose_handler_fails_is_not_counted_as_consumed():
    metrics = ServiceMetrics("test")
    message = SimpleNamespace(raw_message=record("t.events", "tenant.created"))

    async def failing(_: object) -> None:
        raise ConnectionError("database away")

    with pytest.raises(ConnectionError):
        await metrics.kafka_middleware()(message, context=None).consume_scope(failing, message)

    assert samples(metrics, "events_consumed_total") == {}


async def test_publishes_count_as_events_by_type_and_dead_letters_by_group():
    metrics = ServiceMetrics("test")
    middleware = metrics.kafka_middleware()
    event = SimpleNamespace(
        destination="tenants.events",
        headers={"event-type": "tenant.created"},
        batch_bodies=(b"{}",),
    )
    parked = SimpleNamespace(
        destination="usercache.dead-letter",
        headers={
            "dead-letter-reason": "unknown event type",
            "dead-letter-group": "usercache",
            "dead-letter-source": "auth.events/2/41",
        },
        batch_bodies=(b"{}",),
    )

    for command in (event, event, parked):
        await middleware(None, context=None).publish_scope(passthrough, command)

    published = samples(metrics, "events_published_total")
    assert published == {(("topic", "tenants.events"), ("type", "tenant.created")): 2}
    dead = samples(metrics, "events_dead_lettered_total")
    assert dead == {(("group", "usercache"), ("topic", "auth.events")): 1}


def outbox_row(created_ago: timedelta, *, sent: bool) -> OutboxMessage:
    now = db.utcnow()
    return OutboxMessage(
        event_id=uuid.uuid4(),
        topic="tenants.events",
        key=str(uuid.uuid4()),
        event_type="tenant.created",
        body="{}",
        headers={},
        created_at=now - created_ago,
        sent_at=now if sent else None,
    )


async def test_the_outbox_sampler_reports_the_backlog_and_the_oldest_unsent_age(
    sessions,
):
    metrics = ServiceMetrics("test")
    async with db.transaction(sessions) as session:
        session.add(outbox_row(timedelta(minutes=10), sent=True))
        session.add(outbox_row(timedelta(minutes=3), sent=False))
        session.add(outbox_row(timedelta(seconds=5), sent=False))

    await OutboxSampler(metrics, sessions).sample()

    assert samples(metrics, "outbox_backlog_events") == {(): 2}
    (age,) = samples(metrics, "outbox_oldest_unsent_age_seconds").values()
    assert 180 <= age < 3600


async def test_an_empty_outbox_reports_no_backlog_and_no_age(sessions):
    metrics = ServiceMetrics("test")
    metrics.outbox_oldest_age.set(99)

    await OutboxSampler(metrics, sessions).sample()

    assert samples(metrics, "outbox_backlog_events") == {(): 0}
    assert samples(metrics, "outbox_oldest_unsent_age_seconds") == {(): 0}
