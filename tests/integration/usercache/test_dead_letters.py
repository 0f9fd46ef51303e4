"""Events the user cache cannot process go to its dead-letter topic, with the reason."""

import json
import uuid
from typing import Any

import pytest

from tests.integration.usercache.support import login, producer, until_processed, user_rows
from tests.support.stack import read_all


def _login_body(tenant: uuid.UUID, **changes: object) -> dict[str, Any]:
    body = json.loads(login(tenant, "u-1", minute=0).model_dump_json())
    body.update(changes)
    return body


def _without_email(tenant: uuid.UUID) -> dict[str, Any]:
    body = _login_body(tenant)
    body["payload"] = {k: v for k, v in body["payload"].items() if k != "email"}
    return body


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("malformed", "not an event envelope"),
        ("missing_field", "user.logged_in payload invalid: email"),
        ("unknown_type", "unknown event type 'user.teleported'"),
        ("wrong_version", "user.logged_in version 2 is not supported"),
        ("key_mismatch", "message key does not match the envelope's tenant_id"),
    ],
)
async def test_an_unprocessable_event_is_dead_lettered_and_the_next_one_applied(
    usercache, topics, case: str, reason: str
) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    key = str(tenant).encode()
    bodies: dict[str, bytes] = {
        "malformed": b'{"type": "user.logged_in", oops',
        "missing_field": json.dumps(_without_email(tenant)).encode(),
        "unknown_type": json.dumps(_login_body(tenant, type="user.teleported")).encode(),
        "wrong_version": json.dumps(_login_body(tenant, version=2)).encode(),
        "key_mismatch": json.dumps(_login_body(tenant)).encode(),
    }
    if case == "key_mismatch":
        key = str(uuid.uuid4()).encode()
    async with producer(topics.bootstrap) as client:
        # the same partition as the good event after it, so it truly queues behind
        await client.send_and_wait(topics["auth.events"], bodies[case], key=key, partition=0)
        good = login(tenant, "u-2", minute=1)
        await client.send_and_wait(
            topics["auth.events"], good.model_dump_json().encode(), key=good.key, partition=0
        )

    await until_processed(usercache.sessions, 1)

    assert set(await user_rows(usercache.sessions, tenant)) == {"u-2"}
    dead = await read_all(
        topics.bootstrap, topics["usercache.dead-letter"], until=lambda records: len(records) >= 1
    )
    assert [record.value for record in dead] == [bodies[case]]
    headers = {name: value.decode() for name, value in dead[0].headers}
    assert headers["dead-letter-reason"].startswith(reason), headers["dead-letter-reason"]
    assert headers["dead-letter-source"].startswith(topics["auth.events"] + "/0/")


async def test_a_batch_with_a_bad_record_still_applies_every_good_one(usercache, topics) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    good = [login(tenant, f"u-{n}", minute=n) for n in range(20)]
    bad = json.dumps(_without_email(tenant)).encode()

    async with producer(topics.bootstrap) as client:
        for index, item in enumerate(good):
            if index == 10:
                await client.send(topics["auth.events"], bad, key=item.key)
            await client.send(topics["auth.events"], item.model_dump_json().encode(), key=item.key)
        await client.flush()
    await until_processed(usercache.sessions, 20)

    assert len(await user_rows(usercache.sessions, tenant)) == 20
    dead = await read_all(
        topics.bootstrap, topics["usercache.dead-letter"], until=lambda records: len(records) >= 1
    )
    assert [record.value for record in dead] == [bad]


@pytest.mark.parametrize(
    ("user_id", "name", "reason"),
    [
        ("x" * 500, "Long", "user_id longer than 200 characters"),
        ("u-nul", "Nul\x00Byte", "name contains a NUL character"),
    ],
)
async def test_an_event_its_handler_refuses_is_dead_lettered_alone_from_its_batch(
    usercache, topics, user_id: str, name: str, reason: str
) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    good = [login(tenant, f"u-{n}", minute=n) for n in range(10)]
    # readable, but the database could never store it: the handler refuses it mid-batch
    refused = login(tenant, user_id, minute=5, name=name, email="odd@example.com")

    async with producer(topics.bootstrap) as client:
        for item in [*good[:5], refused, *good[5:]]:
            await client.send(
                topics["auth.events"], item.model_dump_json().encode(), key=item.key, partition=0
            )
        await client.flush()
    await until_processed(usercache.sessions, 10)

    assert len(await user_rows(usercache.sessions, tenant)) == 10
    dead = await read_all(
        topics.bootstrap, topics["usercache.dead-letter"], until=lambda records: len(records) >= 1
    )
    assert [record.value for record in dead] == [refused.model_dump_json().encode()]
    assert dict(dead[0].headers)["dead-letter-reason"].decode() == reason
