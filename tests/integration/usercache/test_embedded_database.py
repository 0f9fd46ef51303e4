"""The user cache on the embedded SQLite default (`make run`), against the real broker."""

import uuid

from tests.integration.usercache.support import listed_ids, login, publish, until_processed


async def test_logins_duplicates_and_removal_work_on_sqlite(
    start_usercache, topics, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    first = login(tenant, "u-1", minute=0)
    async with start_usercache(database_url=f"sqlite:///{tmp_path}/usercache.db") as usercache:
        await publish(topics, [first, first, login(tenant, "u-2", minute=1, name="Bea")])
        await until_processed(usercache.sessions, 2)
        before = await listed_ids(usercache.client, tenant)

        removed = await usercache.client.delete(f"/internal/tenants/{tenant}/users/u-1")
        after = await listed_ids(usercache.client, tenant)

    assert before == ["u-2", "u-1"]
    assert removed.status_code == 204
    assert after == ["u-2"]
