"""Events published on real Kafka re-scope live sessions at the gateway's next request.

The gateway runs its real lifespan (broker and listener); the services behind it are the
in-memory fakes, since this test is about the gateway's listener, not their behaviour.
"""

import uuid
from typing import Any

from services.gateway.app import build_app
from services.gateway.settings import GatewaySettings
from shared.events import Envelope, TenantDeactivated, UserRoleLimited
from tests.support.stack import eventually, produce
from tests.unit.services.gateway.conftest import signed_in
from tests.unit.services.gateway.fakes import World, fake_aws_read, transports

VIEW = {"name": "v", "aws_account_id": "111111111111", "region": "us-east-1"}


async def publish(service_env: dict[str, Any], topic: str, event: Any, tenant: str) -> None:
    envelope = Envelope.wrap(event, uuid.UUID(tenant))
    await produce(
        service_env["kafka_bootstrap_servers"],
        f"{service_env['kafka_topic_prefix']}{topic}",
        envelope.model_dump_json().encode(),
        envelope.key,
    )


def gateway(world: World, service_env: dict[str, Any]) -> Any:
    settings = GatewaySettings(session_recheck_seconds=3600, **service_env)
    app = build_app(settings, transports=transports(world))
    app.state.gateway.read_aws = fake_aws_read
    return app


async def test_a_deactivation_on_the_bus_ends_a_live_session(service_env) -> None:  # type: ignore[no-untyped-def]
    world = World()
    tenant = world.add_tenant("Acme", mode="sso")
    app = gateway(world, service_env)
    async with app.router.lifespan_context(app):
        await eventually(lambda: app.state.listener.probe_ok())
        client = await signed_in(app, world.add_user(tenant, "author", source="sso"))
        assert (await client.get("/api/me")).status_code == 200

        await publish(service_env, "tenants.events", TenantDeactivated(actor="root"), tenant["id"])

        async def refused() -> bool:
            return (await client.get("/api/me")).status_code == 401

        await eventually(refused)


async def test_a_role_limit_on_the_bus_refuses_the_users_next_write(service_env) -> None:  # type: ignore[no-untyped-def]
    world = World()
    tenant = world.add_tenant("Acme", mode="sso")
    app = gateway(world, service_env)
    async with app.router.lifespan_context(app):
        await eventually(lambda: app.state.listener.probe_ok())
        author = world.add_user(tenant, "author", source="sso")
        client = await signed_in(app, author)
        assert (await client.post("/api/views", json=VIEW)).status_code == 201

        limit = UserRoleLimited(user_id=author.user_id, email=None, role="viewer")
        await publish(service_env, "usercache.events", limit, tenant["id"])

        async def refused() -> bool:
            return (await client.post("/api/views", json=VIEW)).status_code == 403

        await eventually(refused)
        saved = len(world.views)

        assert (await client.post("/api/views", json=VIEW)).status_code == 403
        assert len(world.views) == saved
