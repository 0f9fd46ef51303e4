"""Tenant status and SSO disconnect, as the user cache learns them from `tenants.events`."""

import uuid

from services.usercache.models import RemovedUser, RoleLimit, UserLogin
from shared.events import (
    TenantReactivated,
    TenantSsoDisconnected,
    UserRemoved,
    UserRoleLimited,
)
from tests.integration.usercache.support import (
    at,
    count,
    deactivated,
    envelope,
    listed,
    login,
    processed,
    publish,
    until_processed,
    user_rows,
)


async def test_a_deactivated_tenant_shows_its_users_blocked_until_reactivated(
    usercache, topics
) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    await publish(topics, [login(tenant, "u-1", minute=0), deactivated(tenant, minute=1)])
    await until_processed(usercache.sessions, 2)
    blocked = (await listed(usercache.client, tenant))["items"]

    await publish(topics, [envelope(TenantReactivated(actor="root"), tenant, at(2))])
    await until_processed(usercache.sessions, 3)
    unblocked = (await listed(usercache.client, tenant))["items"]

    assert [user["blocked"] for user in blocked] == [True]
    assert [user["blocked"] for user in unblocked] == [False]


async def test_a_stale_deactivation_does_not_block_again(usercache, topics) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    await publish(
        topics,
        [
            login(tenant, "u-1", minute=0),
            envelope(TenantReactivated(actor="root"), tenant, at(5)),
            deactivated(tenant, minute=3),
        ],
    )
    await until_processed(usercache.sessions, 3)

    assert [user["blocked"] for user in (await listed(usercache.client, tenant))["items"]] == [
        False
    ]


async def test_a_disconnect_purges_one_tenant_and_nothing_of_another(usercache, topics) -> None:  # type: ignore[no-untyped-def]
    gone, kept = uuid.uuid4(), uuid.uuid4()
    limit = UserRoleLimited(user_id="u-1", email=None, role="viewer")
    await publish(
        topics,
        [
            *(login(tenant, f"u-{n}", minute=n) for tenant in (gone, kept) for n in range(3)),
            envelope(limit, gone, at(4)),
            envelope(limit, kept, at(4)),
        ],
    )
    await until_processed(usercache.sessions, 8)
    disconnect = envelope(TenantSsoDisconnected(actor="root"), gone, at(10))

    await publish(topics, [disconnect])
    await until_processed(usercache.sessions, 9)

    assert await user_rows(usercache.sessions, gone) == {}
    assert set(await user_rows(usercache.sessions, kept)) == {"u-0", "u-1", "u-2"}
    assert await count(usercache.sessions, RoleLimit) == 1
    assert await count(usercache.sessions, UserLogin) == 3
    kept_page = (await listed(usercache.client, kept))["items"]
    assert [user["role"] for user in kept_page] == ["author", "viewer", "author"]


async def test_a_disconnect_delivered_again_changes_nothing(usercache, topics) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    disconnect = envelope(TenantSsoDisconnected(actor="root"), tenant, at(10))
    await publish(topics, [login(tenant, "u-1", minute=0), disconnect])
    await until_processed(usercache.sessions, 2)
    await publish(topics, [login(tenant, "u-1", minute=20, name="After")])
    await until_processed(usercache.sessions, 3)

    # a redelivery of the very same event, and the same disconnect replayed under a new ID
    await publish(topics, [disconnect, disconnect.model_copy(update={"event_id": uuid.uuid4()})])
    await until_processed(usercache.sessions, 4)

    users = await user_rows(usercache.sessions, tenant)
    assert set(users) == {"u-1"}
    assert (users["u-1"].name, users["u-1"].first_login_at) == ("After", at(20))


async def test_logins_from_before_a_disconnect_do_not_come_back_on_replay(
    usercache, topics
) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    await publish(topics, [envelope(TenantSsoDisconnected(actor="root"), tenant, at(10))])
    await until_processed(usercache.sessions, 1)

    await publish(topics, [login(tenant, "u-1", minute=5), login(tenant, "u-2", minute=15)])
    await until_processed(usercache.sessions, 3)

    assert set(await user_rows(usercache.sessions, tenant)) == {"u-2"}


async def test_a_removal_arriving_before_older_logins_gives_the_same_state_as_in_order(
    usercache, topics
) -> None:  # type: ignore[no-untyped-def]
    """A replay reads auth.events and usercache.events in no particular interleaving."""
    in_order, reordered = uuid.uuid4(), uuid.uuid4()
    removal = UserRemoved(user_id="u-1")
    later_logins = [
        login(in_order, "u-1", minute=10, name="After"),
        login(in_order, "u-1", minute=12, name="After"),
    ]
    steps = [
        [login(in_order, "u-1", minute=0, name="Before")],
        [envelope(removal, in_order, at(5))],
    ]
    steps.append(later_logins)
    for step in steps:
        await publish(topics, step)
        await until_processed(usercache.sessions, await processed(usercache.sessions) + len(step))

    await publish(
        topics,
        [
            login(reordered, "u-1", minute=0, name="Before"),
            login(reordered, "u-1", minute=10, name="After"),
            login(reordered, "u-1", minute=12, name="After"),
        ],
    )
    await until_processed(usercache.sessions, 7)
    await publish(topics, [envelope(removal, reordered, at(5))])
    await until_processed(usercache.sessions, 8)

    first = (await user_rows(usercache.sessions, in_order))["u-1"]
    second = (await user_rows(usercache.sessions, reordered))["u-1"]
    for user in (first, second):
        assert (user.name, user.first_login_at, user.last_login_at) == ("After", at(10), at(12))
        assert user.login_count == 2
    assert await count(usercache.sessions, RemovedUser) == 2
