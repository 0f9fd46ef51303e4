"""The pieces every service's composition root wires together.

A service's `app.py` describes itself as a `ServiceSpec` (its settings, routers,
migrations, the topics it publishes and the events it consumes) and `create_app` turns
that into a FastAPI app whose lifespan migrates the database, starts the broker, the
consumers and the outbox relay, and whose `/healthz` and `/readyz` report on them.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared import db, kafka
from shared.errors import install_error_handlers
from shared.events import dead_letter_topic
from shared.identity import require_identity
from shared.inbox import BatchHandler, EventConsumer, Handler
from shared.logging import get_logger, setup_logging
from shared.metrics import ServiceMetrics, install_metrics
from shared.migrations import upgrade
from shared.outbox import OutboxRelay
from shared.settings import ServiceSettings
from shared.telemetry import setup_tracing

log = get_logger(__name__)

READINESS_TIMEOUT = 2.0
RELAY_STOP_GRACE = 10.0


@dataclass(frozen=True)
class Consumes:
    """A consumer group: the topics it reads and a handler per event type it cares about."""

    group: str
    topics: Sequence[str]
    handlers: Mapping[str, Handler]
    # batch=True: up to max_records records per transaction; batch_handlers optionally
    # apply a run of one type at once (the single handlers still serve the fallback path).
    batch: bool = False
    max_records: int = 500
    batch_handlers: Mapping[str, BatchHandler] = field(default_factory=dict)


@dataclass(frozen=True)
class Listens:
    """Subscribers outside any consumer group: every replica reads every event from the
    start of each topic and keeps what it learns in memory only. For a process without a
    database (the gateway), whose handlers are idempotent by nature, so nothing is claimed
    in `processed_events` and no offset is committed."""

    topics: Sequence[str]
    subscribe: Callable[[KafkaBroker, list[str]], None]


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    settings: ServiceSettings
    routers: Sequence[APIRouter] = ()
    migrations: Path | None = None
    publishes: Sequence[str] = ()
    consumes: Consumes | None = None
    listens: Listens | None = None
    readiness_checks: Mapping[str, Callable[[], Awaitable[None]]] = field(default_factory=dict)


@dataclass
class Runtime:
    """What a running service holds: database, broker, relay and background tasks."""

    spec: ServiceSpec
    engine: AsyncEngine | None = None
    sessions: async_sessionmaker[AsyncSession] | None = None
    broker: KafkaBroker | None = None
    relay: OutboxRelay | None = None
    consumer: EventConsumer | None = None
    relay_task: asyncio.Task[None] | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    metrics: ServiceMetrics | None = None

    @property
    def settings(self) -> ServiceSettings:
        return self.spec.settings

    async def start(self) -> None:
        settings = self.settings
        if self.spec.migrations is not None:
            await asyncio.to_thread(upgrade, self.spec.migrations, settings.database_url)
            self.engine = db.create_engine(settings.database_url)
            self.sessions = db.session_factory(self.engine)

        self.broker = kafka.create_broker(
            settings.kafka_bootstrap_servers, client_id=self.spec.name
        )
        if self.metrics is not None:
            self.broker.add_middleware(self.metrics.kafka_middleware())
        await kafka.ensure_topics(
            settings.kafka_bootstrap_servers, self._topics(), partitions=settings.kafka_partitions
        )
        if self.spec.consumes is not None:
            self.consumer = self._consumer(self.spec.consumes)
            topics = [self.topic(name) for name in self.spec.consumes.topics]
            if self.spec.consumes.batch:
                kafka.subscribe_batch(
                    self.broker, topics, self.consumer, max_records=self.spec.consumes.max_records
                )
            else:
                kafka.subscribe(self.broker, topics, self.consumer)
        if self.spec.listens is not None:
            self.spec.listens.subscribe(
                self.broker, [self.topic(name) for name in self.spec.listens.topics]
            )
        await self.broker.start()

        if self.spec.publishes and self.sessions is not None:
            self.relay = OutboxRelay(
                self.sessions,
                kafka.publisher(self.broker, topic_prefix=settings.kafka_topic_prefix),
                name=self.spec.name,
                poll_interval=settings.outbox_poll_interval,
            )
            self.relay_task = asyncio.create_task(self.relay.run(), name="outbox-relay")
            self.tasks.append(self.relay_task)
        if self.metrics is not None:
            self.tasks.append(asyncio.create_task(self.metrics.run_samplers(self), name="metrics"))
        database = settings.redacted_database_url if self.engine is not None else None
        log.info("service.started", port=settings.port, database=database)

    async def stop(self) -> None:
        if self.relay is not None:
            # The relay finishes its pass and returns: cancelling it mid-commit can leave the
            # connection's cleanup waiting forever.
            self.relay.stop()
            assert self.relay_task is not None
            await asyncio.wait([self.relay_task], timeout=RELAY_STOP_GRACE)
        await _cancel_until_done(self.tasks)
        if self.broker is not None:
            await self.broker.stop()
        if self.engine is not None:
            await self.engine.dispose()
        log.info("service.stopped")

    async def readiness(self) -> dict[str, str]:
        """Each dependency's state; 'ok' for every one means ready."""
        checks: dict[str, str] = {}
        if self.engine is not None:
            checks["database"] = await _check(db.ping(self.engine))
        if self.broker is not None:
            reachable = await self.broker.ping(timeout=READINESS_TIMEOUT)
            checks["kafka"] = "ok" if reachable else "unreachable"
        for name, probe in self.spec.readiness_checks.items():
            checks[name] = await _check(probe())
        return checks

    def _consumer(self, consumes: Consumes) -> EventConsumer:
        assert self.broker is not None
        assert self.sessions is not None
        group = self.topic(consumes.group)
        return EventConsumer(
            group=group,
            sessions=self.sessions,
            handlers=consumes.handlers,
            batch_handlers=consumes.batch_handlers,
            dead_letter=kafka.dead_letterer(self.broker, group),
        )

    def topic(self, name: str) -> str:
        """A topic or group name as this deployment spells it on the shared cluster."""
        return self.settings.kafka_topic_prefix + name

    def _topics(self) -> list[str]:
        names = list(self.spec.publishes)
        if self.spec.consumes is not None:
            names += self.spec.consumes.topics
        if self.spec.listens is not None:
            names += self.spec.listens.topics
        topics = [self.topic(name) for name in names]
        if self.spec.consumes is not None:
            topics.append(dead_letter_topic(self.topic(self.spec.consumes.group)))
        return topics


async def _cancel_until_done(tasks: list[asyncio.Task[None]]) -> None:
    # On Python 3.11 asyncio.wait_for can swallow a cancellation that arrives just as its
    # inner wait completes (https://github.com/python/cpython/issues/86296), so one cancel
    # is not always enough to end a loop.
    for task in tasks:
        while not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=0.1)
        if not task.cancelled() and task.exception() is not None:
            log.warning("service.task_failed", task=task.get_name(), error=repr(task.exception()))


async def _check(probe: Any) -> str:
    try:
        await asyncio.wait_for(probe, READINESS_TIMEOUT)
    except TimeoutError:
        return "timed out"
    except Exception as error:
        return f"unreachable ({type(error).__name__})"
    return "ok"


def create_app(spec: ServiceSpec) -> FastAPI:
    settings = spec.settings
    setup_logging(spec.name, log_format=settings.log_format, level=settings.log_level)
    tracer_provider = setup_tracing(spec.name)
    metrics = ServiceMetrics(spec.name)
    runtime = Runtime(spec, metrics=metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    # No interactive docs on a running service: the API documents are generated into docs/.
    app = FastAPI(
        title=f"Cloudivize {spec.name}",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.include_router(_health_router())
    install_metrics(app, metrics)
    for router in spec.routers:
        app.include_router(router, dependencies=[Depends(require_identity)])
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=tracer_provider, excluded_urls="healthz,readyz,metrics"
    )
    return app


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is up and serving."""
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        """The database and Kafka are reachable; 503 names the dependency that is not."""
        checks = await request.app.state.runtime.readiness()
        ready = all(state == "ok" for state in checks.values())
        body = {"status": "ready" if ready else "unavailable", "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    return router


class UnitOfWork:
    """One transaction per request, committed when the `async with` block ends.

    Committing inside the route (not in a dependency's teardown) means the response is
    only sent once the change is durable, and the relay is woken right after.
    """

    def __init__(self, runtime: Runtime) -> None:
        assert runtime.sessions is not None, "this service has no database"
        self._runtime = runtime
        self._transaction: contextlib.AbstractAsyncContextManager[AsyncSession] | None = None

    async def __aenter__(self) -> AsyncSession:
        self._transaction = db.transaction(self._runtime.sessions)  # type: ignore[arg-type]
        return await self._transaction.__aenter__()

    async def __aexit__(self, *exc_info: Any) -> None:
        assert self._transaction is not None
        await self._transaction.__aexit__(*exc_info)
        if exc_info[0] is None and self._runtime.relay is not None:
            self._runtime.relay.wake()


def _unit_of_work(request: Request) -> UnitOfWork:
    return UnitOfWork(request.app.state.runtime)


def _read_session(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.runtime.sessions


UnitOfWorkDep = Annotated[UnitOfWork, Depends(_unit_of_work)]
SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(_read_session)]
