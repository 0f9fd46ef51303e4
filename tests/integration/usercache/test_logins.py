"""`user.logged_in` caches an SSO user, refreshes them, and never moves data backwards."""

import uuid

from opentelemetry.trace import SpanKind

from services.usercache.models import CachedUser
from tests.integration.usercache.support import (
    at,
    login,
    processed,
    producer,
    publish,
    until_processed,
    user_rows,
)
from tests.support.stack import committed_offset, eventually, partitions_of


async def test_a_first_login_caches_the_user(usercache, topics) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()

    await publish(
        topics,
        [login(tenant, "u-1", minute=0, name="Ada", accounts=["111111111111", "222222222222"])],
    )
    await until_processed(usercache.sessions, 1)

    user = (await user_rows(usercache.sessions, tenant))["u-1"]
    assert (user.name, user.email) == ("Ada", "u-1@example.com")
    assert user.first_login_at == user.last_login_at == at(0)
    assert user.granted_account_count == 2
    assert user.login_count == 1


async def test_a_later_login_refreshes_name_email_and_last_login(usercache, topics) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    await publish(topics, [login(tenant, "u-1", minute=0, name="Ada")])
    await until_processed(usercache.sessions, 1)

    await publish(
        topics, [login(tenant, "u-1", minute=10, name="Ada Lovelace", email="ada@example.org")]
    )
    await until_processed(usercache.sessions, 2)

    user = (await user_rows(usercache.sessions, tenant))["u-1"]
    assert (user.name, user.email) == ("Ada Lovelace", "ada@example.org")
    assert (user.first_login_at, user.last_login_at) == (at(0), at(10))
    assert user.login_count == 2


async def test_a_duplicated_login_changes_nothing(usercache, topics) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    first = login(tenant, "u-1", minute=0)
    await publish(topics, [first])
    await until_processed(usercache.sessions, 1)
    before = _state(await user_rows(usercache.sessions, tenant))

    marker = login(tenant, "u-2", minute=1)
    await publish(topics, [first, first, marker])
    await until_processed(usercache.sessions, 2)

    after = await user_rows(usercache.sessions, tenant)
    assert _state({"u-1": after["u-1"]}) == before
    assert after["u-1"].login_count == 1
    assert await processed(usercache.sessions) == 2


async def test_a_stale_login_does_not_move_name_or_last_login_back(usercache, topics) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    await publish(topics, [login(tenant, "u-1", minute=0, name="Old")])
    await publish(topics, [login(tenant, "u-1", minute=20, name="New", email="new@example.com")])
    await until_processed(usercache.sessions, 2)

    await publish(topics, [login(tenant, "u-1", minute=10, name="Stale", email="s@example.com")])
    await until_processed(usercache.sessions, 3)

    user = (await user_rows(usercache.sessions, tenant))["u-1"]
    assert (user.name, user.email) == ("New", "new@example.com")
    assert (user.first_login_at, user.last_login_at) == (at(0), at(20))
    assert user.login_count == 3


async def test_logins_arriving_newest_first_end_as_in_order(usercache, topics) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()

    await publish(
        topics,
        [
            login(tenant, "u-1", minute=30, name="Newest"),
            login(tenant, "u-1", minute=5, name="Oldest"),
            login(tenant, "u-1", minute=15, name="Middle"),
        ],
    )
    await until_processed(usercache.sessions, 3)

    user = (await user_rows(usercache.sessions, tenant))["u-1"]
    assert user.name == "Newest"
    assert (user.first_login_at, user.last_login_at, user.login_count) == (at(5), at(30), 3)


async def test_password_logins_are_not_cached(usercache, topics) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()

    await publish(
        topics,
        [login(tenant, "root", minute=0, source="password"), login(tenant, "u-1", minute=1)],
    )
    await until_processed(usercache.sessions, 2)

    assert set(await user_rows(usercache.sessions, tenant)) == {"u-1"}


def _state(rows: dict[str, CachedUser]) -> dict[str, tuple[object, ...]]:
    return {
        user_id: (
            row.name,
            row.email,
            row.first_login_at,
            row.last_login_at,
            row.login_count,
            row.granted_account_count,
        )
        for user_id, row in rows.items()
    }


async def test_a_login_stays_in_the_trace_it_was_published_in(usercache, topics, spans) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    trace_id = uuid.uuid4().hex
    traceparent = f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"
    item = login(tenant, "u-1", minute=0)

    async with producer(topics.bootstrap) as client:
        await client.send_and_wait(
            topics["auth.events"],
            item.model_dump_json().encode(),
            key=item.key,
            headers=[("traceparent", traceparent.encode())],
        )
    await until_processed(usercache.sessions, 1)

    def consumer_spans() -> list[str]:
        return [
            span.name
            for span in spans.get_finished_spans()
            if span.kind is SpanKind.CONSUMER and format(span.context.trace_id, "032x") == trace_id
        ]

    # the span ends just after the commit the probe above saw
    assert await eventually(_async(consumer_spans)) == [f"{topics['auth.events']} process"]


def _async(probe):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        return probe()

    return run


async def test_the_group_commits_the_offsets_of_an_applied_backlog(usercache, topics) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    await publish(topics, [login(tenant, f"u-{n}", minute=n) for n in range(30)])
    await until_processed(usercache.sessions, 30)
    topic = topics["auth.events"]
    partitions = await partitions_of(topics.bootstrap, topic)

    async def all_committed() -> bool:
        committed = [
            await committed_offset(topics.bootstrap, usercache.group, topic, partition)
            for partition in partitions
        ]
        # one tenant key: every record went to one partition, whose next offset is 30
        return sorted(committed)[-1] == 30

    assert await eventually(all_committed)
