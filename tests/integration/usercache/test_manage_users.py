"""Manage Users over the internal API: listing, removal, role limits, tenant scoping."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.identity import Identity
from tests.integration.usercache.support import (
    at,
    listed,
    listed_ids,
    login,
    processed,
    publish,
    user_rows,
)
from tests.support.stack import eventually, read_all


async def _cache(usercache, topics, *logins) -> None:  # type: ignore[no-untyped-def]
    """Publish logins and wait until each user is cached."""
    await publish(topics, list(logins))
    for item in logins:
        user_id = json.loads(item.model_dump_json())["payload"]["user_id"]

        async def cached(tenant=item.tenant_id, user_id=user_id) -> bool:  # type: ignore[no-untyped-def]
            return user_id in await user_rows(usercache.sessions, tenant)

        await eventually(cached)


async def test_the_list_shows_role_limit_and_last_login(usercache, topics) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    await _cache(usercache, topics, login(tenant, "u-1", minute=0, name="Ada"))

    page = await listed(usercache.client, tenant)

    assert page["total"] == 1
    assert page["items"][0]["name"] == "Ada"
    assert page["items"][0]["role"] == "author"
    assert page["items"][0]["role_limit"] is None
    assert page["items"][0]["last_login_at"] == at(0).isoformat().replace("+00:00", "Z")
    assert page["default_role"] == "author"
    assert "IAM Identity Center" in page["notice"]


async def test_the_list_is_sorted_paginated_and_searchable(usercache, topics) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    names = ["Carol", "alice", "Bob", "Dave", "Erin"]
    await _cache(
        usercache,
        topics,
        *[login(tenant, f"u-{n}", minute=n, name=name) for n, name in enumerate(names)],
    )

    by_name = await listed(usercache.client, tenant, sort="name", page_size=2, page=2)
    newest = await listed_ids(usercache.client, tenant, sort="last_login_at", order="desc")
    found = await listed_ids(usercache.client, tenant, q="u-2@EXAMPLE")
    found_by_name = await listed_ids(usercache.client, tenant, q="aro")
    no_wildcards = await listed_ids(usercache.client, tenant, q="%")
    await usercache.client.put(
        f"/internal/tenants/{tenant}/role-limits",
        json={"email": "u-3@example.com", "role": "viewer"},
    )
    viewers_last = await listed_ids(usercache.client, tenant, sort="role", page_size=200)

    assert [item["name"] for item in by_name["items"]] == ["Carol", "Dave"]
    assert (by_name["total"], by_name["page"], by_name["page_size"]) == (5, 2, 2)
    assert newest == ["u-4", "u-3", "u-2", "u-1", "u-0"]
    assert found == ["u-2"]
    assert found_by_name == ["u-0"]
    assert no_wildcards == []
    assert viewers_last == ["u-0", "u-1", "u-2", "u-4", "u-3"]


async def test_removal_forgets_the_user_and_a_later_login_caches_them_with_the_limit_intact(
    usercache, topics
) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    await _cache(usercache, topics, login(tenant, "u-1", minute=0, name="Ada"))
    limited = await usercache.client.put(
        f"/internal/tenants/{tenant}/users/u-1/role", json={"role": "viewer"}
    )
    assert limited.status_code == 200, limited.text

    removed = await usercache.client.delete(f"/internal/tenants/{tenant}/users/u-1")
    assert removed.status_code == 204, removed.text
    assert await listed_ids(usercache.client, tenant) == []

    # the new login happens after the removal, so it is newer than its tombstone
    again = login(tenant, "u-1", minute=0, name="Ada Again").model_copy(
        update={"occurred_at": datetime.now(UTC) + timedelta(seconds=1)}
    )
    await publish(topics, [again])

    async def recached() -> list[dict] | None:
        return (await listed(usercache.client, tenant))["items"] or None

    (user,) = await eventually(recached)
    assert (user["name"], user["role"], user["role_limit"]) == ("Ada Again", "viewer", "viewer")
    assert user["login_count"] == 1


async def test_removal_and_limit_are_published(usercache, topics) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    await _cache(usercache, topics, login(tenant, "u-1", minute=0))

    await usercache.client.put(
        f"/internal/tenants/{tenant}/users/u-1/role", json={"role": "viewer"}
    )
    await usercache.client.put(
        f"/internal/tenants/{tenant}/role-limits",
        json={"email": "Later@Example.com", "role": "viewer"},
    )
    await usercache.client.delete(f"/internal/tenants/{tenant}/users/u-1")

    records = await read_all(
        topics.bootstrap, topics["usercache.events"], until=lambda records: len(records) >= 3
    )
    events = [json.loads(record.value) for record in records]
    assert [(event["type"], event["payload"]) for event in events] == [
        ("user.role_limited", {"user_id": "u-1", "email": None, "role": "viewer"}),
        ("user.role_limited", {"user_id": None, "email": "later@example.com", "role": "viewer"}),
        ("user.removed", {"user_id": "u-1", "last_login_at": None}),
    ]
    assert {record.key for record in records} == {str(tenant).encode()}


async def test_a_limit_by_email_applies_when_that_user_first_logs_in(usercache, topics) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    response = await usercache.client.put(
        f"/internal/tenants/{tenant}/role-limits",
        json={"email": "bob@example.com", "role": "viewer"},
    )
    assert response.status_code == 200, response.text

    await _cache(usercache, topics, login(tenant, "u-9", minute=0, email="BOB@example.com"))

    (user,) = (await listed(usercache.client, tenant))["items"]
    assert (user["role"], user["role_limit"]) == ("viewer", "viewer")


async def test_an_author_limit_leaves_the_default_role(usercache, topics) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    await _cache(usercache, topics, login(tenant, "u-1", minute=0))

    await usercache.client.put(
        f"/internal/tenants/{tenant}/users/u-1/role", json={"role": "author"}
    )

    (user,) = (await listed(usercache.client, tenant))["items"]
    assert (user["role"], user["role_limit"]) == ("author", "author")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/users/u-1/role", {"role": "admin"}),
        ("PUT", "/users/u-1/role", {}),
        ("PUT", "/role-limits", {"role": "viewer"}),
        ("PUT", "/role-limits", {"user_id": "u-1", "email": "a@example.com", "role": "viewer"}),
        ("PUT", "/role-limits", {"email": "not-an-email", "role": "viewer"}),
    ],
)
async def test_an_invalid_limit_is_refused_with_422(usercache, method, path, body) -> None:  # type: ignore[no-untyped-def]
    response = await usercache.client.request(
        method, f"/internal/tenants/{uuid.uuid4()}{path}", json=body
    )

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_request"


async def test_an_invalid_sort_is_refused_with_422(usercache) -> None:  # type: ignore[no-untyped-def]
    response = await usercache.client.get(
        f"/internal/tenants/{uuid.uuid4()}/users", params={"sort": "password"}
    )

    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "query.sort"


async def test_removing_a_user_who_is_not_listed_is_404(usercache) -> None:  # type: ignore[no-untyped-def]
    response = await usercache.client.delete(f"/internal/tenants/{uuid.uuid4()}/users/nobody")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_another_tenants_users_are_404_and_untouched(start_usercache, topics) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    admin = Identity(caller="gateway", tenant_id=mine, user_id="root", role="admin")
    async with start_usercache(identity=admin) as usercache:
        await _cache(usercache, topics, login(theirs, "u-1", minute=0))
        base = f"/internal/tenants/{theirs}"

        responses = [
            await usercache.client.get(f"{base}/users"),
            await usercache.client.delete(f"{base}/users/u-1"),
            await usercache.client.put(f"{base}/users/u-1/role", json={"role": "viewer"}),
            await usercache.client.put(
                f"{base}/role-limits", json={"user_id": "u-1", "role": "viewer"}
            ),
        ]

        assert [response.status_code for response in responses] == [404] * 4
        assert all("u-1" not in response.text for response in responses)
        assert set(await user_rows(usercache.sessions, theirs)) == {"u-1"}


async def test_a_non_admin_cannot_manage_users(start_usercache, topics) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    author = Identity(caller="gateway", tenant_id=tenant, user_id="u-7", role="author")
    async with start_usercache(identity=author) as usercache:
        response = await usercache.client.get(f"/internal/tenants/{tenant}/users")

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


async def test_removal_covers_a_login_stamped_ahead_of_this_services_clock(
    start_usercache, usercache, topics
) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    ahead = datetime.now(UTC) + timedelta(minutes=5)
    future = login(tenant, "u-1", minute=0).model_copy(update={"occurred_at": ahead})
    await _cache(usercache, topics, future)

    removed = await usercache.client.delete(f"/internal/tenants/{tenant}/users/u-1")

    assert removed.status_code == 204
    assert await listed_ids(usercache.client, tenant) == []
    (record,) = await read_all(
        topics.bootstrap, topics["usercache.events"], until=lambda records: len(records) >= 1
    )
    payload = json.loads(record.value)["payload"]
    assert datetime.fromisoformat(payload["last_login_at"]) == ahead
    # a fresh instance replaying the topics forgets that login too
    async with start_usercache(consumer_group="usercache-replay") as replay:

        async def caught_up() -> bool:
            return await processed(replay.sessions) >= 2

        await eventually(caught_up)
        assert await user_rows(replay.sessions, tenant) == {}
