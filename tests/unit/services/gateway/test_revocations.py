"""Events about a tenant reach live sessions at the gateway's next request."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.gateway.revocations import Revocations
from shared.events import (
    Envelope,
    Event,
    TenantDeactivated,
    TenantReactivated,
    TenantSsoConnected,
    TenantSsoDisconnected,
    UserRoleLimited,
)
from tests.unit.services.gateway.conftest import gateway_app, signed_in
from tests.unit.services.gateway.fakes import World

VIEW = {"name": "v", "aws_account_id": "111111111111", "region": "us-east-1"}


def deliver(app: Any, event: Event, tenant_id: str, *, at: datetime | None = None) -> None:
    envelope = Envelope.wrap(event, uuid.UUID(tenant_id))
    if at is not None:
        envelope = envelope.model_copy(update={"occurred_at": at})
    app.state.listener.handle(envelope.model_dump_json().encode(), envelope.key)


async def test_deactivation_ends_users_sessions_at_once_but_keeps_roots(world: World) -> None:
    tenant = world.add_tenant("Acme", mode="sso")
    app = gateway_app(world, session_recheck_seconds=3600)
    user = await signed_in(app, world.add_user(tenant, "author", source="sso"))
    root = await signed_in(app, world.add_user(tenant, "admin", is_root=True))
    assert (await user.get("/api/me")).status_code == 200

    deliver(app, TenantDeactivated(actor="root"), tenant["id"])

    assert (await user.get("/api/me")).status_code == 401
    assert (await root.get("/api/me")).status_code == 200


async def test_reactivation_lets_sessions_auth_still_vouches_for_work_again(world: World) -> None:
    tenant = world.add_tenant("Acme")
    app = gateway_app(world)
    user = await signed_in(app, world.add_user(tenant, "author"))
    deliver(app, TenantDeactivated(actor="root"), tenant["id"])

    deliver(app, TenantReactivated(actor="root"), tenant["id"])

    assert (await user.get("/api/me")).status_code == 200


async def test_an_older_event_delivered_late_does_not_undo_a_newer_one(world: World) -> None:
    tenant = world.add_tenant("Acme")
    app = gateway_app(world)
    user = await signed_in(app, world.add_user(tenant, "author"))
    now = datetime.now(UTC)
    deliver(app, TenantDeactivated(actor="root"), tenant["id"], at=now)

    deliver(app, TenantReactivated(actor="root"), tenant["id"], at=now - timedelta(minutes=1))

    assert (await user.get("/api/me")).status_code == 401


async def test_sso_disconnect_refuses_sso_sessions_and_keeps_password_ones(world: World) -> None:
    tenant = world.add_tenant("Acme", mode="sso")
    app = gateway_app(world, session_recheck_seconds=3600)
    sso_user = await signed_in(app, world.add_user(tenant, "author", source="sso"))
    admin = await signed_in(app, world.add_user(tenant, "admin"))

    deliver(app, TenantSsoDisconnected(actor="root"), tenant["id"])

    assert (await sso_user.get("/api/me")).status_code == 401
    assert (await admin.get("/api/me")).status_code == 200


async def test_reconnecting_sso_lets_new_sso_sessions_in(world: World) -> None:
    tenant = world.add_tenant("Acme", mode="sso")
    app = gateway_app(world)
    deliver(app, TenantSsoDisconnected(actor="root"), tenant["id"])
    deliver(
        app,
        TenantSsoConnected(start_url="https://x.awsapps.com/start", region="eu-west-1"),
        tenant["id"],
    )

    sso_user = await signed_in(app, world.add_user(tenant, "author", source="sso"))

    assert (await sso_user.get("/api/me")).status_code == 200


async def test_a_role_limit_makes_the_next_write_fail(world: World) -> None:
    tenant = world.add_tenant("Acme", mode="sso")
    app = gateway_app(world, session_recheck_seconds=3600)
    author = world.add_user(tenant, "author", source="sso")
    client = await signed_in(app, author)
    assert (await client.post("/api/views", json=VIEW)).status_code == 201

    deliver(app, UserRoleLimited(user_id=author.user_id, email=None, role="viewer"), tenant["id"])

    assert (await client.post("/api/views", json=VIEW)).status_code == 403
    assert (await client.get("/api/me")).json()["role"] == "viewer"


async def test_a_role_limit_by_email_applies_too_and_never_raises_a_role(world: World) -> None:
    tenant = world.add_tenant("Acme", mode="sso")
    app = gateway_app(world)
    viewer = world.add_user(tenant, "viewer", source="sso", email="v@acme.example")
    client = await signed_in(app, viewer)

    deliver(app, UserRoleLimited(user_id=None, email="V@acme.example", role="author"), tenant["id"])

    assert (await client.get("/api/me")).json()["role"] == "viewer"


async def test_an_event_about_another_tenant_changes_nothing_here(world: World) -> None:
    tenant = world.add_tenant("Acme")
    other = world.add_tenant("Other")
    app = gateway_app(world)
    client = await signed_in(app, world.add_user(tenant, "author"))

    deliver(app, TenantDeactivated(actor="x"), other["id"])

    assert (await client.get("/api/me")).status_code == 200


async def test_an_unreadable_event_is_skipped(world: World) -> None:
    tenant = world.add_tenant("Acme")
    app = gateway_app(world)
    client = await signed_in(app, world.add_user(tenant, "author"))

    app.state.listener.handle(b'{"type": "tenant.deactivated", oops', None)

    assert (await client.get("/api/me")).status_code == 200


async def test_an_event_about_the_tenant_makes_the_next_request_ask_auth_again(
    world: World,
) -> None:
    tenant = world.add_tenant("Acme")
    app = gateway_app(world, session_recheck_seconds=3600)
    client = await signed_in(app, world.add_user(tenant, "author"))
    assert (await client.get("/api/me")).status_code == 200
    world.sessions.clear()  # auth ended the session; the gateway's check is still fresh
    assert (await client.get("/api/me")).status_code == 200

    deliver(app, UserRoleLimited(user_id="someone-else", email=None, role="viewer"), tenant["id"])

    assert (await client.get("/api/me")).status_code == 401


async def test_without_a_cached_check_every_request_asks_auth(world: World) -> None:
    tenant = world.add_tenant("Acme")
    app = gateway_app(world, session_recheck_seconds=0)
    client = await signed_in(app, world.add_user(tenant, "author"))
    assert (await client.get("/api/me")).status_code == 200

    world.sessions.clear()

    assert (await client.get("/api/me")).status_code == 401


def test_replaying_the_same_events_leaves_the_same_state() -> None:
    revocations = Revocations()
    tenant = uuid.uuid4()
    events = [
        Envelope.wrap(TenantDeactivated(actor="a"), tenant),
        Envelope.wrap(UserRoleLimited(user_id="u1", email=None, role="viewer"), tenant),
    ]
    for envelope in events:
        revocations.apply(envelope, envelope.event())
    once = (dict(revocations.deactivated), dict(revocations.caps))

    for envelope in events:
        revocations.apply(envelope, envelope.event())

    assert (dict(revocations.deactivated), dict(revocations.caps)) == once
    assert revocations.refuses(tenant, source="password", is_root=False) is not None
