import json
import uuid

import pytest
from sqlalchemy import select

from shared.db import transaction
from shared.events import TenantCreated, TenantDeactivated
from shared.outbox import OutboxMessage, OutboxRelay, record_event


class RecordingBroker:
    """Collects what the relay publishes; can be told to fail from the n-th send on."""

    def __init__(self, fail_from: int | None = None) -> None:
        self.sent: list[tuple[str, dict[str, object], bytes]] = []
        self.fail_from = fail_from

    async def publish(self, topic: str, value: bytes, key: bytes, headers: dict[str, str]) -> None:
        if self.fail_from is not None and len(self.sent) >= self.fail_from:
            raise ConnectionError("broker went away")
        self.sent.append((topic, json.loads(value), key))


def relay_for(sessions, broker: RecordingBroker) -> OutboxRelay:  # type: ignore[no-untyped-def]
    return OutboxRelay(sessions, broker.publish, name="unit", batch_size=10)


async def test_committed_events_are_published_in_order_keyed_by_tenant(sessions) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    async with transaction(sessions) as session:
        record_event(session, TenantCreated(name="Acme", slug="acme"), tenant)
        record_event(session, TenantDeactivated(actor="root"), tenant)
    broker = RecordingBroker()

    sent = await relay_for(sessions, broker).relay_once()

    assert sent == 2
    assert [body["type"] for _, body, _ in broker.sent] == [
        "tenant.created",
        "tenant.deactivated",
    ]
    assert {key for _, _, key in broker.sent} == {str(tenant).encode()}
    assert {topic for topic, _, _ in broker.sent} == {"tenants.events"}


async def test_an_event_of_a_rolled_back_transaction_is_never_published(sessions) -> None:  # type: ignore[no-untyped-def]
    async def change_that_fails() -> None:
        async with transaction(sessions) as session:
            record_event(session, TenantCreated(name="Ghost", slug="ghost"), uuid.uuid4())
            raise RuntimeError("the change failed after the event was recorded")

    with pytest.raises(RuntimeError):
        await change_that_fails()
    broker = RecordingBroker()

    assert await relay_for(sessions, broker).relay_once() == 0
    assert broker.sent == []


async def test_sent_rows_are_not_published_again(sessions) -> None:  # type: ignore[no-untyped-def]
    async with transaction(sessions) as session:
        record_event(session, TenantCreated(name="Once", slug="once"), uuid.uuid4())
    broker = RecordingBroker()
    relay = relay_for(sessions, broker)

    await relay.relay_once()
    await relay.relay_once()

    assert len(broker.sent) == 1
    assert await relay.backlog() == 0


async def test_a_failed_publish_leaves_the_rest_unsent_for_the_next_pass(sessions) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    async with transaction(sessions) as session:
        for number in range(3):
            record_event(session, TenantCreated(name=f"T{number}", slug=f"t{number}"), tenant)
    failing = RecordingBroker(fail_from=1)

    with pytest.raises(ConnectionError):
        await relay_for(sessions, failing).relay_once()
    healthy = RecordingBroker()
    await relay_for(sessions, healthy).relay_once()

    # The first row may be published twice (at least once); none is lost or reordered.
    assert [body["payload"]["slug"] for _, body, _ in healthy.sent] == ["t0", "t1", "t2"]
    async with sessions() as session:
        unsent = await session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))
        assert list(unsent) == []
