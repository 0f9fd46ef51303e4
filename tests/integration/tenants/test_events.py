"""Every change reaches `tenants.events` once, in order, only if it commits, even after a crash."""

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from services.tenants import service
from services.tenants.schemas import ViewCreate
from shared.db import transaction
from shared.outbox import OutboxMessage
from tests.integration.tenants.conftest import acting
from tests.support.stack import eventually

SSO = {"start_url": "https://acme.awsapps.com/start", "region": "eu-west-1"}
VIEW = {"name": "Prod", "aws_account_id": "123456789012", "region": "eu-west-1"}


async def _every_kind_of_change(client, tenant_id: str) -> None:  # type: ignore[no-untyped-def]
    base = f"/internal/tenants/{tenant_id}"
    auth = acting(tenant_id)
    view = (await client.post(f"{base}/views", json=VIEW, auth=auth)).json()
    await client.delete(f"{base}/views/{view['id']}", auth=auth)
    await client.put(f"{base}/sso", json=SSO, auth=auth)
    await client.put(f"{base}/sso", json=SSO, auth=auth)  # unchanged: no event
    await client.delete(f"{base}/sso", auth=auth)
    await client.delete(f"{base}/sso", auth=auth)  # already off: no event
    await client.post(f"{base}/aws-link/external-id", auth=auth)
    await client.post(f"{base}/deactivate", auth=auth)
    await client.post(f"{base}/deactivate", auth=auth)  # already: no event
    await client.post(f"{base}/reactivate", auth=auth)


EXPECTED = [
    "tenant.created",
    "tenant.view_created",
    "tenant.view_deleted",
    "tenant.sso_connected",
    "tenant.sso_disconnected",
    "tenant.external_id_regenerated",
    "tenant.deactivated",
    "tenant.reactivated",
]


async def test_each_change_is_published_once_in_order_keyed_by_tenant(tenants) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()

    await _every_kind_of_change(tenants.client, tenant["id"])

    events = await tenants.events(tenant["id"], until_type="tenant.reactivated")
    assert [e.type for e in events] == EXPECTED
    assert len({e.event_id for e in events}) == len(EXPECTED)
    audit = (await tenants.client.get(f"/internal/tenants/{tenant['id']}/audit")).json()
    assert [entry["action"] for entry in reversed(audit)] == EXPECTED


async def test_two_tenants_changing_at_once_each_keep_their_order(tenants) -> None:  # type: ignore[no-untyped-def]
    first, second = await tenants.sign_up("First"), await tenants.sign_up("Second")

    await asyncio.gather(
        _every_kind_of_change(tenants.client, first["id"]),
        _every_kind_of_change(tenants.client, second["id"]),
    )

    for tenant in (first, second):
        events = await tenants.events(tenant["id"], until_type="tenant.reactivated")
        assert [e.type for e in events] == EXPECTED


async def test_a_rolled_back_change_publishes_nothing(tenants) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()
    tenant_id = uuid.UUID(tenant["id"])
    doomed = ViewCreate(name="Doomed", aws_account_id="123456789012", region="eu-west-1")

    with pytest.raises(RuntimeError, match="after the event was recorded"):
        await _create_view_then_fail(tenants, tenant_id, doomed)
    await tenants.client.post(f"/internal/tenants/{tenant['id']}/deactivate")

    events = await tenants.events(tenant["id"], until_type="tenant.deactivated")
    assert [e.type for e in events] == ["tenant.created", "tenant.deactivated"]
    views = (await tenants.client.get(f"/internal/tenants/{tenant['id']}/views")).json()
    assert views == []


async def test_changes_committed_while_the_relay_is_down_are_published_after_restart(
    start_tenants, new_database
) -> None:  # type: ignore[no-untyped-def]
    database_url = await new_database()
    async with start_tenants(database_url=database_url) as first:
        tenant = await first.sign_up()
        await first.events(tenant["id"], until_type="tenant.created")
        await _kill_relay(first)

        await _every_kind_of_change(first.client, tenant["id"])

        assert await _unsent(first) == len(EXPECTED) - 1

    async with start_tenants(database_url=database_url) as restarted:
        await eventually(lambda: _all_sent(restarted))
        events = await restarted.events(tenant["id"], until_type="tenant.reactivated")

    assert [e.type for e in events] == EXPECTED


async def _create_view_then_fail(tenants, tenant_id: uuid.UUID, view: ViewCreate) -> None:  # type: ignore[no-untyped-def]
    async with transaction(tenants.sessions) as session:
        await service.create_view(session, tenant_id, view, actor="user-1")
        raise RuntimeError("the request failed after the event was recorded")


async def _kill_relay(instance) -> None:  # type: ignore[no-untyped-def]
    """Stop the relay task as a crash would, between two of its passes."""
    runtime = instance.app.state.runtime
    runtime.relay._poll_interval = 3600
    await asyncio.sleep(instance.settings.outbox_poll_interval * 3)
    for task in runtime.tasks:
        task.cancel()
    await asyncio.gather(*runtime.tasks, return_exceptions=True)
    runtime.relay = None  # nothing left to wake


async def _unsent(instance) -> int:  # type: ignore[no-untyped-def]
    async with instance.sessions() as session:
        return (
            await session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None))) or 0
        )


async def _all_sent(instance) -> bool:  # type: ignore[no-untyped-def]
    return await _unsent(instance) == 0
