"""Transactional outbox: events are rows written in the caller's transaction.

`record_event` adds the row inside the service's unit of work, so the state change and
its event commit together or not at all. `OutboxRelay` publishes committed rows in ID
order, keyed by tenant, and marks them sent. A crash between publishing and marking
means a row is published again after restart: delivery is at least once, and every
consumer is idempotent.

Per-tenant order holds because services lock the tenant's row before they write an
event for it, so one tenant's rows get IDs in commit order.
"""

import asyncio
import uuid
import zlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import (
    JSON,
    BigInteger,
    Index,
    Integer,
    String,
    Text,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import SharedBase, dialect_name, transaction, utcnow
from shared.events import Envelope, Event
from shared.logging import get_logger
from shared.telemetry import current_trace_headers, trace_context_from

log = get_logger(__name__)

Publish = Callable[[str, bytes, bytes, dict[str, str]], Awaitable[None]]
"""Sends one message (topic, value, key, headers) and returns once the broker has it."""


class OutboxMessage(SharedBase):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


def record_event(session: AsyncSession, event: Event, tenant_id: uuid.UUID) -> Envelope:
    """Add an event to the caller's transaction; it is published only if that commits."""
    envelope = Envelope.wrap(event, tenant_id)
    session.add(
        OutboxMessage(
            event_id=envelope.event_id,
            topic=event.topic,
            key=str(tenant_id),
            event_type=envelope.type,
            body=envelope.model_dump_json(),
            headers=current_trace_headers(),
        )
    )
    return envelope


class OutboxRelay:
    """Publishes committed outbox rows in order; one relay per database at a time."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publish: Publish,
        *,
        name: str,
        poll_interval: float = 1.0,
        batch_size: int = 100,
        keep_sent_for: timedelta = timedelta(days=7),
    ) -> None:
        self._sessions = sessions
        self._publish = publish
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._keep_sent_for = keep_sent_for
        self._lock_id = zlib.crc32(f"outbox:{name}".encode())
        self._wakeup = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Ask for a pass now instead of at the next poll (call after a commit)."""
        self._wakeup.set()

    def stop(self) -> None:
        """Ask `run` to return once the pass under way, if any, is done."""
        self._stopping = True
        self._wakeup.set()

    async def run(self) -> None:
        """Relay until stopped; a failed pass is logged and retried after the interval."""
        while not self._stopping:
            try:
                while not self._stopping and await self.relay_once() == self._batch_size:
                    pass
            except Exception as error:
                log.warning("outbox.relay.failed", error=type(error).__name__, detail=str(error))
            await self._sleep()

    async def _sleep(self) -> None:
        # asyncio.wait, not wait_for: the latter can swallow a cancellation on 3.11.
        waiter = asyncio.ensure_future(self._wakeup.wait())
        try:
            await asyncio.wait([waiter], timeout=self._poll_interval)
        finally:
            waiter.cancel()
        self._wakeup.clear()

    async def relay_once(self) -> int:
        """Publish one batch of unsent rows and mark them; returns how many were sent."""
        async with transaction(self._sessions) as session:
            if not await self._lead(session):
                return 0
            rows = await self._unsent(session)
            for row in rows:
                await self._send(row)
            if rows:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_([row.id for row in rows]))
                    .values(sent_at=utcnow())
                )
                log.debug("outbox.relay.sent", count=len(rows))
            return len(rows)

    async def prune(self) -> int:
        """Forget rows sent longer ago than the retention; returns how many went."""
        async with transaction(self._sessions) as session:
            cutoff = utcnow() - self._keep_sent_for
            result = await session.execute(
                delete(OutboxMessage).where(OutboxMessage.sent_at < cutoff)
            )
            return result.rowcount or 0  # type: ignore[attr-defined]

    async def backlog(self) -> int:
        async with self._sessions() as session:
            return (
                await session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None)))
                or 0
            )

    async def _lead(self, session: AsyncSession) -> bool:
        # Two replicas relaying at once could reorder a tenant's events; on PostgreSQL a
        # transaction-scoped advisory lock elects one. SQLite has a single writer anyway.
        if dialect_name(session) != "postgresql":
            return True
        result = await session.execute(
            text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": self._lock_id}
        )
        return bool(result.scalar())

    async def _unsent(self, session: AsyncSession) -> list[OutboxMessage]:
        result = await session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None))
            .order_by(OutboxMessage.id)
            .limit(self._batch_size)
        )
        return list(result.scalars())

    async def _send(self, row: OutboxMessage) -> None:
        # Re-enter the trace of the request that wrote the row, so the publish span and
        # the headers it injects continue that trace.
        with trace_context_from(row.headers):
            await self._publish(
                row.topic, row.body.encode(), row.key.encode(), {"event-type": row.event_type}
            )
