"""The gateway's listener on `tenants.events` and `usercache.events`.

It belongs to no consumer group: every gateway replica must hear every event, since each
keeps its own in-memory view of revoked tenants and role limits. It reads each topic from
the beginning at start-up, which rebuilds that view; the events are small and few (tenant
life-cycle and role limits), and applying one twice changes nothing, so nothing is
claimed or committed. An event this code cannot read is logged and skipped: the gateway
owns no dead-letter topic, and auth's own session checks still cover what it carried.
"""

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.gateway.revocations import Revocations
from shared.events import TENANTS_TOPIC, USERCACHE_TOPIC, InvalidEvent, parse_envelope
from shared.logging import get_logger
from shared.service import Listens

log = get_logger(__name__)

TOPICS = (TENANTS_TOPIC, USERCACHE_TOPIC)


class Listener:
    """Applies events to the revocations; `ready` once it has partitions to read."""

    def __init__(self, revocations: Revocations) -> None:
        self.revocations = revocations
        self.subscriber: object | None = None

    def handle(self, value: bytes, key: bytes | None) -> None:
        try:
            envelope = parse_envelope(value, key)
            event = envelope.event()
        except InvalidEvent as error:
            log.warning("event.skipped", reason=str(error))
            return
        self.revocations.apply(envelope, event)

    def subscribe(self, broker: KafkaBroker, topics: list[str]) -> None:
        subscriber = broker.subscriber(
            *topics, group_id=None, auto_offset_reset="earliest", ack_policy=AckPolicy.ACK_FIRST
        )

        @subscriber
        async def on_event(message: KafkaMessage) -> None:
            record = message.raw_message
            self.handle(record.value or b"", record.key)  # type: ignore[union-attr]

        self.subscriber = subscriber

    def listens(self) -> Listens:
        return Listens(topics=TOPICS, subscribe=self.subscribe)

    async def probe(self) -> None:
        """Readiness: the listener has been given the partitions of its topics."""
        if not await self.probe_ok():
            raise RuntimeError("event listener has no partitions yet")

    async def probe_ok(self) -> bool:
        consumer = getattr(self.subscriber, "consumer", None)
        return consumer is not None and bool(consumer.assignment())
