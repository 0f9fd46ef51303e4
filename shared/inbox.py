"""Idempotent consumers: each event is applied at most once per consumer group.

`EventConsumer` turns a Kafka message into one database transaction: parse and check
the envelope, claim its event ID in `processed_events`, run the handler for its type,
commit. Only then does the subscriber acknowledge, so the offset is committed after the
database commit. A message no version of this code can read goes to the group's
dead-letter topic with the reason; an infrastructure failure is retried instead.
"""

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from opentelemetry import propagate, trace
from sqlalchemy import String, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import SharedBase, dialect_name, transaction, utcnow
from shared.events import Envelope, Event, InvalidEvent, parse_envelope
from shared.logging import get_logger

log = get_logger(__name__)

Handler = Callable[[AsyncSession, Envelope, Event], Awaitable[None]]
"""Applies one event inside the consumer's transaction; raises `InvalidEvent` to reject it."""

BatchHandler = Callable[[AsyncSession, Sequence[tuple[Envelope, Event]]], Awaitable[None]]
"""Applies a run of claimed events of one type, in order, inside the batch's transaction."""


class ProcessedEvent(SharedBase):
    __tablename__ = "processed_events"

    consumer_group: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)


async def claim_event(session: AsyncSession, group: str, event_id: uuid.UUID) -> bool:
    """Record that `group` processes `event_id`; False if it already did."""
    dialect = dialect_name(session)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.execute(
        insert(ProcessedEvent)
        .values(consumer_group=group, event_id=event_id, processed_at=utcnow())
        .on_conflict_do_nothing()
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def claim_events(
    session: AsyncSession, group: str, event_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Record a batch of event IDs in one statement; returns those not processed before."""
    if not event_ids:
        return set()
    dialect = dialect_name(session)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    rows = [{"consumer_group": group, "event_id": id_, "processed_at": now} for id_ in event_ids]
    # executemany, not one VALUES list: the statement compiles once and stays cached
    table = cast(Table, ProcessedEvent.__table__)
    statement = insert(table).on_conflict_do_nothing().returning(table.c.event_id)
    result = await session.execute(statement, rows)
    return set(result.scalars())


@dataclass(frozen=True)
class RawMessage:
    """What the consumer needs of a Kafka record, independent of the client library."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Mapping[str, str]


DeadLetter = Callable[[RawMessage, str], Awaitable[None]]


class EventConsumer:
    """Applies each event once, in its own transaction, and dead-letters the unreadable."""

    def __init__(
        self,
        *,
        group: str,
        sessions: async_sessionmaker[AsyncSession],
        handlers: Mapping[str, Handler],
        dead_letter: DeadLetter,
        retry_delay: float = 1.0,
        batch_handlers: Mapping[str, BatchHandler] | None = None,
    ) -> None:
        self.group = group
        self._sessions = sessions
        self._handlers = handlers
        self._batch_handlers = batch_handlers or {}
        self._dead_letter = dead_letter
        self._retry_delay = retry_delay

    async def consume(self, message: RawMessage) -> None:
        """Process one record; returning means its offset may be committed."""
        try:
            await self._apply(message)
        except InvalidEvent as error:
            await self._reject(message, str(error))
        except (OperationalError, DBAPIError, OSError, ConnectionError) as error:
            # The database is unreachable or the transaction failed: not the event's fault.
            # Raising makes the subscriber rewind; the delay keeps a retry loop from spinning.
            log.warning("event.retry", group=self.group, error=type(error).__name__)
            await asyncio.sleep(self._retry_delay)
            raise
        except Exception as error:
            log.exception("event.failed", group=self.group, offset=message.offset)
            await self._reject(message, f"handler failed: {type(error).__name__}")

    async def _apply(self, message: RawMessage) -> None:
        envelope = parse_envelope(message.value, message.key)
        event = envelope.event()
        handler = self._handlers.get(envelope.type)
        if handler is None:
            return
        async with transaction(self._sessions) as session:
            if not await claim_event(session, self.group, envelope.event_id):
                log.info("event.duplicate", group=self.group, event_id=str(envelope.event_id))
                return
            await handler(session, envelope, event)
        log.info("event.processed", group=self.group, type=envelope.type)

    async def _reject(self, message: RawMessage, reason: str) -> None:
        log.warning(
            "event.dead_lettered",
            group=self.group,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            reason=reason,
        )
        await self._dead_letter(message, reason)

    async def consume_batch(self, messages: Sequence[RawMessage]) -> None:
        """Process records in one transaction; returning means all their offsets may be
        committed. Unreadable records are dead-lettered one by one after the commit."""
        spans = self._event_spans(messages)
        try:
            accepted, rejected = self._parse_all(messages)
            await self._apply_batch(accepted)
        except (OperationalError, DBAPIError, OSError, ConnectionError) as error:
            log.warning("event.batch.retry", group=self.group, error=type(error).__name__)
            await asyncio.sleep(self._retry_delay)
            raise
        except Exception as error:
            # One handler refused or failed: the transaction rolled back, so replay the batch
            # a record at a time and let the single path dead-letter only the culprit.
            log.warning("event.batch.split", group=self.group, error=type(error).__name__)
            for message in messages:
                await self.consume(message)
            return
        finally:
            for span in spans:
                span.end()
        for message, reason in rejected:
            await self._reject(message, reason)

    def _event_spans(self, messages: Sequence[RawMessage]) -> list[trace.Span]:
        """A consumer span per traced record, child of the trace it carries: the batch's
        own span only links to them, and one login should stay one trace end to end."""
        tracer = trace.get_tracer(__name__)
        return [
            tracer.start_span(
                f"{message.topic} process",
                context=propagate.extract(dict(message.headers)),
                kind=trace.SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination.name": message.topic,
                    "messaging.consumer.group.name": self.group,
                    "messaging.kafka.offset": message.offset,
                },
            )
            for message in messages
            if "traceparent" in message.headers
        ]

    def _parse_all(
        self, messages: Sequence[RawMessage]
    ) -> tuple[list[tuple[Envelope, Event]], list[tuple[RawMessage, str]]]:
        accepted: list[tuple[Envelope, Event]] = []
        rejected: list[tuple[RawMessage, str]] = []
        for message in messages:
            try:
                envelope = parse_envelope(message.value, message.key)
                event = envelope.event()
            except InvalidEvent as error:
                rejected.append((message, str(error)))
                continue
            if envelope.type in self._handlers:
                accepted.append((envelope, event))
        return accepted, rejected

    async def _apply_batch(self, accepted: Sequence[tuple[Envelope, Event]]) -> None:
        unique = list({item[0].event_id: item for item in accepted}.values())
        async with transaction(self._sessions) as session:
            fresh = await claim_events(session, self.group, [env.event_id for env, _ in unique])
            claimed = [item for item in unique if item[0].event_id in fresh]
            for run in _runs_of_one_type(claimed):
                await self._apply_run(session, run)
        if accepted:
            log.info(
                "event.batch.processed",
                group=self.group,
                processed=len(claimed),
                duplicates=len(accepted) - len(claimed),
            )

    async def _apply_run(self, session: AsyncSession, run: list[tuple[Envelope, Event]]) -> None:
        batch_handler = self._batch_handlers.get(run[0][0].type)
        if batch_handler is not None:
            await batch_handler(session, run)
            return
        handler = self._handlers[run[0][0].type]
        for envelope, event in run:
            await handler(session, envelope, event)


def _runs_of_one_type(
    items: Sequence[tuple[Envelope, Event]],
) -> list[list[tuple[Envelope, Event]]]:
    """Consecutive events of the same type, so a batch handler never reorders across types."""
    runs: list[list[tuple[Envelope, Event]]] = []
    for item in items:
        if runs and runs[-1][0][0].type == item[0].type:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs
