"""The Kafka broker factory and the wiring of consumers, dead letters and the relay."""

import contextlib
import logging

from aiokafka import ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware

from shared.events import dead_letter_topic
from shared.inbox import DeadLetter, EventConsumer, RawMessage
from shared.logging import get_logger
from shared.outbox import Publish
from shared.telemetry import setup_tracing

log = get_logger(__name__)

DEAD_LETTER_REASON = "dead-letter-reason"


def create_broker(bootstrap_servers: str, *, client_id: str) -> KafkaBroker:
    """A broker whose publishes wait for all in-sync replicas and never duplicate on retry."""
    return KafkaBroker(
        bootstrap_servers.split(","),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        middlewares=[KafkaTelemetryMiddleware(tracer_provider=setup_tracing(client_id))],
        logger=logging.getLogger(f"faststream.{client_id}"),
        log_level=logging.DEBUG,  # a line per message is too much at INFO; ours say more
    )


def publisher(broker: KafkaBroker, *, topic_prefix: str = "") -> Publish:
    """The relay's view of the broker: send one record and wait for the acknowledgement."""

    async def publish(topic: str, value: bytes, key: bytes, headers: dict[str, str]) -> None:
        await broker.publish(value, topic_prefix + topic, key=key, headers=headers)

    return publish


def dead_letterer(broker: KafkaBroker, group: str) -> DeadLetter:
    """Sends a message this group cannot process, and why, to the group's dead-letter topic."""
    topic = dead_letter_topic(group)

    async def send(message: RawMessage, reason: str) -> None:
        headers = {
            **message.headers,
            DEAD_LETTER_REASON: reason,
            "dead-letter-source": f"{message.topic}/{message.partition}/{message.offset}",
            "dead-letter-group": group,
        }
        await broker.publish(message.value, topic, key=message.key, headers=headers)

    return send


def to_raw(record: ConsumerRecord) -> RawMessage:
    headers = {name: value.decode(errors="replace") for name, value in record.headers or ()}
    return RawMessage(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value or b"",
        headers=headers,
    )


def subscribe(broker: KafkaBroker, topics: list[str], consumer: EventConsumer) -> None:
    """One subscriber per consumer group. Offsets are committed only after the handler
    returns, i.e. after its database commit; a raised error rewinds to the record."""

    @broker.subscriber(
        *topics,
        group_id=consumer.group,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
    )
    async def on_event(message: KafkaMessage) -> None:
        await consumer.consume(to_raw(message.raw_message))  # type: ignore[arg-type]


def subscribe_batch(
    broker: KafkaBroker, topics: list[str], consumer: EventConsumer, *, max_records: int
) -> None:
    """Like `subscribe`, but up to `max_records` records at a time in one transaction; the
    offsets of the whole batch are committed after its database commit, or rewound."""

    @broker.subscriber(
        *topics,
        group_id=consumer.group,
        batch=True,
        max_records=max_records,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        decoder=_left_to_the_consumer,
    )
    async def on_events(message: KafkaMessage) -> None:
        records = message.raw_message
        await consumer.consume_batch([to_raw(record) for record in records])  # type: ignore[union-attr]


async def _left_to_the_consumer(message: object) -> None:
    """The consumer parses each record itself; faststream's JSON pass over a whole batch
    would only be thrown away."""
    return None


async def ensure_topics(bootstrap_servers: str, topics: list[str], *, partitions: int) -> None:
    """Create missing topics (local runs; in Kubernetes the operator declares them)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers.split(","))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        # a name listed twice (a service reading its own topic) makes the broker refuse it
        missing = [
            NewTopic(name, num_partitions=partitions, replication_factor=1)
            for name in dict.fromkeys(topics)
            if name not in existing
        ]
        if missing:
            # another service may create one between our listing and this call
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
            log.info("kafka.topics.created", topics=[topic.name for topic in missing])
    finally:
        await admin.close()
