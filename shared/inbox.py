"""Idempotent consumers: each event is applied at most once per consumer group.

`EventConsumer` turns a Kafka message into one database transaction: parse and check
the envelope, claim its event ID in `processed_events`, run the handler for its type,
commit. Only then does the subscriber acknowledge, so the offset is committed after the
database commit. A message no version of this code can read goes to the group's
dead-letter topic with the reason; an infrastructure failure is retried instead.
"""

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, transaction, utcnow
from shared.events import Envelope, Event, InvalidEvent, parse_envelope
from shared.logging import get_logger

log = get_logger(__name__)

Handler = Callable[[AsyncSession, Envelope, Event], Awaitable[None]]
"""Applies one event inside the consumer's transaction; raises `InvalidEvent` to reject it."""


class ProcessedEvent(Base):
    __tablename__ = "processed_events"

    consumer_group: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)


async def claim_event(session: AsyncSession, group: str, event_id: uuid.UUID) -> bool:
    """Record that `group` processes `event_id`; False if it already did."""
    dialect = session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.execute(
        insert(ProcessedEvent)
        .values(consumer_group=group, event_id=event_id, processed_at=utcnow())
        .on_conflict_do_nothing()
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


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
    ) -> None:
        self.group = group
        self._sessions = sessions
        self._handlers = handlers
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
