"""The AsyncAPI document of the event topics, built from shared/events.py.

Each topic's message is the envelope with a `payload` typed by event: one schema per
event type, told apart by `type`. Publishers and consumer groups come from the services'
composition roots, so the document names who sends and who receives on each topic.
"""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel, Field, create_model

from shared.events import AUTH_TOPIC, EVENT_TYPES, TENANTS_TOPIC, USERCACHE_TOPIC, Event

TOPICS = (TENANTS_TOPIC, AUTH_TOPIC, USERCACHE_TOPIC)


def envelope_model(event_cls: type[Event]) -> type[BaseModel]:
    """The envelope as it travels for one event type, with its payload typed."""
    return create_model(
        f"{event_cls.__name__}Envelope",
        __doc__=f"`{event_cls.type}` version {event_cls.version}, keyed by tenant_id.",
        event_id=(uuid.UUID, ...),
        type=(Literal[event_cls.type], ...),  # type: ignore[valid-type,arg-type]
        version=(Literal[event_cls.version], ...),  # type: ignore[valid-type,arg-type]
        occurred_at=(datetime, ...),
        tenant_id=(uuid.UUID, ...),
        payload=(event_cls, ...),
    )


def topic_message(topic: str) -> Any:
    models = tuple(envelope_model(cls) for cls in EVENT_TYPES.values() if cls.topic == topic)
    if len(models) == 1:
        return models[0]
    return Annotated[Union[models], Field(discriminator="type")]  # noqa: UP007


def _publishers(services: dict[str, dict[str, Any]], topic: str) -> list[str]:
    return [name for name, spec in services.items() if topic in spec["publishes"]]


def _consumer(broker: KafkaBroker, topic: str, group: str) -> None:
    message = topic_message(topic)

    async def receive(envelope: message) -> None:  # type: ignore[valid-type,arg-type]
        """Applied once per event (idempotent); unreadable events go to the dead-letter topic."""

    broker.subscriber(
        topic,
        group_id=group,
        title=f"{group} <- {topic}",
        description=f"Consumer group `{group}`; what it cannot process goes to "
        f"`{group}.dead-letter` with the reason in the `dead-letter-reason` header.",
    )(receive)


def build(services: dict[str, dict[str, Any]], *, version: str) -> dict[str, Any]:
    """The document; `services` maps each service to what `tools.services.describe` says."""
    broker = KafkaBroker("kafka:9092")
    for topic in TOPICS:
        types = ", ".join(f"`{cls.type}`" for cls in EVENT_TYPES.values() if cls.topic == topic)
        broker.publisher(
            topic,
            title=f"{topic} (published)",
            description=f"Published by {', '.join(_publishers(services, topic)) or 'no service'} "
            f"through its transactional outbox. Types: {types}.",
            schema=topic_message(topic),
        )
    for spec in services.values():
        consumes = spec["consumes"]
        for topic in consumes["topics"] if consumes else ():
            _consumer(broker, topic, consumes["group"])
    document = AsyncAPI(
        broker,
        title="Cloudivize events",
        version=version,
        description="Events between Cloudivize services. Delivery is at least once, keyed "
        "by tenant ID so that one tenant's events stay in order.",
    ).to_specification()
    result: dict[str, Any] = document.to_jsonable()
    return result
