"""A new instance, or one that was down, rebuilds the same state from the topics."""

import uuid
from datetime import UTC, datetime, timedelta

from aiokafka.admin import AIOKafkaAdminClient

from shared.events import TenantSsoDisconnected
from tests.integration.usercache.support import (
    at,
    deactivated,
    envelope,
    login,
    processed,
    publish,
    snapshot,
    until_processed,
)


async def _history(usercache, topics) -> tuple[int, uuid.UUID]:  # type: ignore[no-untyped-def]
    """Logins, removals and a re-login, limits, a deactivation and a disconnect; returns how
    many events the topics hold once it is done, and the tenant whose users were removed."""
    kept, blocked, gone = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await publish(
        topics,
        [
            *(
                login(tenant, f"u-{n}", minute=n)
                for tenant in (kept, blocked, gone)
                for n in range(4)
            ),
            login(kept, "u-0", minute=30, name="Renamed"),
            deactivated(blocked, minute=40),
            envelope(TenantSsoDisconnected(actor="root"), gone, at(50)),
        ],
    )
    await until_processed(usercache.sessions, 15)
    client = usercache.client
    assert (await client.delete(f"/internal/tenants/{kept}/users/u-1")).status_code == 204
    assert (await client.delete(f"/internal/tenants/{kept}/users/u-2")).status_code == 204
    for path, body in [
        (f"/internal/tenants/{kept}/users/u-1/role", {"role": "viewer"}),
        (f"/internal/tenants/{kept}/role-limits", {"email": "u-3@example.com", "role": "viewer"}),
    ]:
        assert (await client.put(path, json=body)).status_code == 200
    back = login(kept, "u-1", minute=0, name="Back").model_copy(
        update={"occurred_at": datetime.now(UTC) + timedelta(seconds=1)}
    )
    await publish(topics, [back])
    # 15 + 4 of our own events coming back + the return of u-1
    return await until_processed(usercache.sessions, 20), kept


async def test_a_new_instance_rebuilds_the_same_state_from_the_topics(
    start_usercache, topics
) -> None:  # type: ignore[no-untyped-def]
    async with start_usercache() as first:
        total, kept = await _history(first, topics)
        expected = await snapshot(first.sessions)

    async with start_usercache(consumer_group="usercache-rebuilt") as rebuilt:
        await until_processed(rebuilt.sessions, total)
        rebuilt_state = await snapshot(rebuilt.sessions)

    assert rebuilt_state == expected
    kept_users = {row[1]: row[2] for row in expected["users"] if row[0] == kept}
    assert kept_users == {"u-0": "Renamed", "u-1": "Back", "u-3": "User u-3"}
    assert len(expected["users"]) == 4 + 4 - 1  # kept (minus u-2) and blocked; gone purged
    assert len(expected["limits"]) == 2
    assert len(expected["blocked"]) == 1


async def test_an_instance_that_was_down_catches_up_where_it_stopped(
    start_usercache, topics, new_database
) -> None:  # type: ignore[no-untyped-def]
    database_url = await new_database()
    tenant = uuid.uuid4()
    async with start_usercache(database_url=database_url) as running:
        await publish(topics, [login(tenant, "u-1", minute=0)])
        await until_processed(running.sessions, 1)

    await publish(
        topics, [login(tenant, "u-1", minute=5, name="While Down"), login(tenant, "u-2", minute=6)]
    )

    async with start_usercache(database_url=database_url) as restarted:
        await until_processed(restarted.sessions, 3)
        state = await snapshot(restarted.sessions)
        assert await processed(restarted.sessions) == 3

    names = {row[1]: (row[2], row[6]) for row in state["users"]}
    assert names == {"u-1": ("While Down", 2), "u-2": ("User u-2", 1)}


async def test_it_creates_the_topics_it_reads_with_all_their_partitions(usercache, topics) -> None:  # type: ignore[no-untyped-def]
    names = ["tenants.events", "auth.events", "usercache.events", "usercache.dead-letter"]
    admin = AIOKafkaAdminClient(bootstrap_servers=topics.bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topics[name] for name in names])
    finally:
        await admin.close()

    # its own topic too, which it both publishes and reads: a topic the broker creates on
    # first use gets a single partition, and the user cache could not scale out on it
    partitions = {topic["topic"]: len(topic["partitions"]) for topic in described}
    expected = usercache.settings.kafka_partitions
    assert partitions == {topics[name]: expected for name in names}
