import uuid

import pytest
from sqlalchemy.exc import OperationalError

from shared.events import Envelope, TenantCreated
from shared.inbox import EventConsumer, RawMessage


class Recorder:
    def __init__(self) -> None:
        self.applied: list[str] = []
        self.dead: list[tuple[bytes, str]] = []

    async def handler(self, session, envelope, event) -> None:  # type: ignore[no-untyped-def]
        self.applied.append(event.slug)

    async def dead_letter(self, message: RawMessage, reason: str) -> None:
        self.dead.append((message.value, reason))


def consumer_for(sessions, recorder: Recorder, handler=None) -> EventConsumer:  # type: ignore[no-untyped-def]
    return EventConsumer(
        group="unit",
        sessions=sessions,
        handlers={"tenant.created": handler or recorder.handler},
        dead_letter=recorder.dead_letter,
        retry_delay=0,
    )


def message(value: bytes, key: bytes | None, offset: int = 0) -> RawMessage:
    return RawMessage("tenants.events", 0, offset, key, value, {})


def created(slug: str) -> tuple[bytes, bytes]:
    envelope = Envelope.wrap(TenantCreated(name=slug, slug=slug), uuid.uuid4())
    return envelope.model_dump_json().encode(), envelope.key


async def test_an_event_delivered_twice_is_applied_once(sessions) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    value, key = created("acme")

    await consumer_for(sessions, recorder).consume(message(value, key, 0))
    await consumer_for(sessions, recorder).consume(message(value, key, 1))

    assert recorder.applied == ["acme"]
    assert recorder.dead == []


@pytest.mark.parametrize(
    ("value", "key", "reason"),
    [
        (b"{not json", b"k", "not an event envelope"),
        (
            Envelope.wrap(TenantCreated(name="a", slug="a"), uuid.uuid4())
            .model_copy(update={"type": "tenant.exploded"})
            .model_dump_json()
            .encode(),
            None,
            "unknown event type 'tenant.exploded'",
        ),
        (
            Envelope.wrap(TenantCreated(name="a", slug="a"), uuid.uuid4())
            .model_copy(update={"version": 9})
            .model_dump_json()
            .encode(),
            None,
            "tenant.created version 9 is not supported",
        ),
        (
            Envelope.wrap(TenantCreated(name="a", slug="a"), uuid.uuid4())
            .model_copy(update={"payload": {"name": "a"}})
            .model_dump_json()
            .encode(),
            None,
            "tenant.created payload invalid: slug",
        ),
        (created("a")[0], b"another-tenant", "message key does not match"),
    ],
)
async def test_an_unreadable_event_is_dead_lettered_with_the_reason(
    sessions, value: bytes, key: bytes | None, reason: str
) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()

    await consumer_for(sessions, recorder).consume(message(value, key))

    assert recorder.applied == []
    assert [(dead_value, why[: len(reason)]) for dead_value, why in recorder.dead] == [
        (value, reason)
    ]


async def test_a_handler_that_fails_dead_letters_the_event_and_keeps_nothing(sessions) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()

    async def broken(session, envelope, event) -> None:  # type: ignore[no-untyped-def]
        raise KeyError("bug")

    value, key = created("acme")
    await consumer_for(sessions, recorder, broken).consume(message(value, key))
    await consumer_for(sessions, recorder).consume(message(value, key))

    assert recorder.dead == [(value, "handler failed: KeyError")]
    # the failed attempt rolled back its claim, so a later replay still applies it
    assert recorder.applied == ["acme"]


async def test_a_database_outage_is_raised_for_a_retry_not_dead_lettered(sessions) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()

    async def database_down(session, envelope, event) -> None:  # type: ignore[no-untyped-def]
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError())

    value, key = created("acme")
    with pytest.raises(OperationalError):
        await consumer_for(sessions, recorder, database_down).consume(message(value, key))

    assert recorder.dead == []
