"""Prometheus metrics every service serves at `/metrics`.

Each app owns a `CollectorRegistry` of its own, so several services can run in one test
process without their series mixing. What is measured:

- HTTP requests by method, route template and status, and their latency
- events published (by topic and type) and consumed (by topic and type), from a
  FastStream middleware on the service's broker
- events sent to a dead-letter topic, by consumer group and source topic
- consumer lag per partition, sampled from committed and end offsets
- outbox backlog (unsent rows) and the age of the oldest unsent row, sampled
"""

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI, Response
from faststream import BaseMiddleware
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.db import utcnow
from shared.logging import get_logger
from shared.outbox import OutboxMessage

log = get_logger(__name__)

SAMPLE_INTERVAL = 15.0
UNMATCHED_ROUTE = "unmatched"  # one label for every unknown path, so scans cannot explode it
UNREADABLE_TYPE = "unreadable"
DEAD_LETTER_REASON = "dead-letter-reason"  # the header shared/kafka.py's dead letters carry
DEAD_LETTER_GROUP = "dead-letter-group"
DEAD_LETTER_SOURCE = "dead-letter-source"


class ServiceMetrics:
    """The metric families of one service, in a registry of its own."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.requests = Counter(
            "http_requests",
            "HTTP requests served, by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "http_request_duration_seconds",
            "Time to serve an HTTP request, by route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.published = Counter(
            "events_published",
            "Events published to Kafka, by topic and event type.",
            ["topic", "type"],
            registry=self.registry,
        )
        self.consumed = Counter(
            "events_consumed",
            "Events consumed (processed, skipped as duplicate or dead-lettered), by type.",
            ["topic", "type"],
            registry=self.registry,
        )
        self.dead_lettered = Counter(
            "events_dead_lettered",
            "Events a consumer group could not process and parked on its dead-letter topic.",
            ["group", "topic"],
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "kafka_consumer_lag",
            "Records not yet committed by the consumer group, per partition (sampled).",
            ["group", "topic", "partition"],
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "outbox_backlog_events",
            "Outbox rows committed but not yet published (sampled).",
            registry=self.registry,
        )
        self.outbox_oldest_age = Gauge(
            "outbox_oldest_unsent_age_seconds",
            "Age of the oldest unpublished outbox row; 0 when there is none (sampled).",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def kafka_middleware(self) -> "EventMetricsMiddleware":
        return EventMetricsMiddleware(self)

    async def run_samplers(self, runtime: "RuntimeView") -> None:
        """Sample lag and outbox gauges until cancelled; a failed sample is logged and skipped."""
        samplers = self.samplers(runtime)
        if not samplers:
            return
        try:
            while True:
                # sleep first: a service stopped moments after starting opens no clients
                await asyncio.sleep(SAMPLE_INTERVAL)
                for sampler in samplers:
                    try:
                        await sampler.sample()
                    except Exception as error:
                        log.warning("metrics.sample.failed", error=type(error).__name__)
        finally:
            for sampler in samplers:
                await sampler.close()

    def samplers(self, runtime: "RuntimeView") -> list["Sampler"]:
        samplers: list[Sampler] = []
        if runtime.sessions is not None and runtime.spec.publishes:
            samplers.append(OutboxSampler(self, runtime.sessions))
        if runtime.consumer is not None and runtime.spec.consumes is not None:
            topics = [runtime.topic(name) for name in runtime.spec.consumes.topics]
            samplers.append(
                LagSampler(
                    self,
                    runtime.settings.kafka_bootstrap_servers,
                    runtime.consumer.group,
                    topics,
                )
            )
        return samplers


class RuntimeView(Protocol):
    """What the samplers read of a running service (shared.service.Runtime)."""

    spec: Any
    sessions: async_sessionmaker[AsyncSession] | None
    consumer: Any

    @property
    def settings(self) -> Any: ...

    def topic(self, name: str) -> str: ...


class Sampler(Protocol):
    async def sample(self) -> None: ...

    async def close(self) -> None: ...


# --- HTTP --------------------------------------------------------------------------------


class RequestMetrics:
    """ASGI middleware counting requests and timing them, labelled by route template."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app raises before starting a response

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, record_status)
        finally:
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.request_seconds.labels(method, route).observe(
                time.perf_counter() - started
            )


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else UNMATCHED_ROUTE


def install_metrics(app: FastAPI, metrics: ServiceMetrics) -> None:
    """Serve `/metrics` (unauthenticated, like the probes; the Ingress does not route it)
    and measure every request."""
    app.state.metrics = metrics
    app.add_middleware(RequestMetrics, metrics=metrics)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)


# --- Kafka -------------------------------------------------------------------------------


class EventMetricsMiddleware:
    """A FastStream broker middleware factory: one `_EventMetrics` per message or publish."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        self.metrics = metrics

    def __call__(self, msg: Any, /, *, context: Any) -> "_EventMetrics":
        return _EventMetrics(msg, context=context, metrics=self.metrics)


class _EventMetrics(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: Any, metrics: ServiceMetrics) -> None:
        super().__init__(msg, context=context)
        self.metrics = metrics

    async def consume_scope(self, call_next: Callable[[Any], Awaitable[Any]], msg: Any) -> Any:
        # Counted once the handler returned, i.e. once the offsets may be committed: a
        # record that is retried after a database outage counts when it finally goes through.
        result = await call_next(msg)
        for record in _records(msg.raw_message):
            self.metrics.consumed.labels(record.topic, event_type(record.value)).inc()
        return result

    async def publish_scope(self, call_next: Callable[[Any], Awaitable[Any]], cmd: Any) -> Any:
        result = await call_next(cmd)
        headers = cmd.headers or {}
        if DEAD_LETTER_REASON in headers:
            source = str(headers.get(DEAD_LETTER_SOURCE, "")).split("/")[0]
            group = str(headers.get(DEAD_LETTER_GROUP, ""))
            self.metrics.dead_lettered.labels(group, source).inc()
        else:
            for body in cmd.batch_bodies:
                kind = headers.get("event-type") or event_type(body)
                self.metrics.published.labels(cmd.destination, kind).inc()
        return result


def _records(raw: Any) -> Sequence[Any]:
    return list(raw) if isinstance(raw, list | tuple) else [raw]


def event_type(value: Any) -> str:
    """The `type` an event envelope claims, without validating the rest of it."""
    try:
        claimed = json.loads(value).get("type")
    except (ValueError, TypeError, AttributeError):
        return UNREADABLE_TYPE
    return claimed if isinstance(claimed, str) and claimed else UNREADABLE_TYPE


# --- sampled gauges ----------------------------------------------------------------------


class OutboxSampler:
    def __init__(self, metrics: ServiceMetrics, sessions: async_sessionmaker[AsyncSession]):
        self.metrics = metrics
        self.sessions = sessions

    async def sample(self) -> None:
        unsent = OutboxMessage.sent_at.is_(None)
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(func.count(), func.min(OutboxMessage.created_at)).where(unsent)
                )
            ).one()
        count, oldest = row
        self.metrics.outbox_backlog.set(count or 0)
        age = (utcnow() - _aware(oldest)).total_seconds() if oldest is not None else 0.0
        self.metrics.outbox_oldest_age.set(max(age, 0.0))

    async def close(self) -> None:
        return None


def _aware(moment: datetime | str) -> datetime:
    # SQLite returns the aggregate without the column type's UTC conversion
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class LagSampler:
    """Lag = end offset - committed offset, per partition of the group's topics."""

    def __init__(
        self, metrics: ServiceMetrics, bootstrap_servers: str, group: str, topics: list[str]
    ) -> None:
        self.metrics = metrics
        self.servers = bootstrap_servers.split(",")
        self.group = group
        self.topics = topics
        self._admin: AIOKafkaAdminClient | None = None
        self._offsets: AIOKafkaConsumer | None = None

    async def sample(self) -> None:
        admin, offsets = await self._clients()
        partitions = await _partitions(admin, self.topics)
        if not partitions:
            return
        committed = await admin.list_consumer_group_offsets(self.group, partitions=partitions)
        ends = await offsets.end_offsets(partitions)
        for partition in partitions:
            done = committed.get(partition)
            position = done.offset if done is not None and done.offset >= 0 else 0
            lag = max(ends[partition] - position, 0)
            self.metrics.consumer_lag.labels(
                self.group, partition.topic, str(partition.partition)
            ).set(lag)

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None or self._offsets is None:
            self._admin = AIOKafkaAdminClient(bootstrap_servers=self.servers)
            await self._admin.start()
            # a consumer without a group only reads metadata and end offsets
            self._offsets = AIOKafkaConsumer(bootstrap_servers=self.servers, group_id=None)
            await self._offsets.start()
        return self._admin, self._offsets

    async def close(self) -> None:
        if self._offsets is not None:
            with contextlib.suppress(Exception):
                await self._offsets.stop()
        if self._admin is not None:
            with contextlib.suppress(Exception):
                await self._admin.close()
        self._admin = self._offsets = None


async def _partitions(admin: AIOKafkaAdminClient, topics: list[str]) -> list[TopicPartition]:
    described = await admin.describe_topics(topics)
    return [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        if not topic.get("error_code")
        for partition in sorted(topic["partitions"], key=lambda item: item["partition"])
    ]
