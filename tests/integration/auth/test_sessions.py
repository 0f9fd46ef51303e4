"""Live sessions: grants that follow IAM Identity Center, revocation, role limits,
identity from the Identity Store and per-user AWS credentials."""

import uuid
from datetime import UTC, datetime

import boto3
from sqlalchemy import select

from services.auth.models import Session
from shared.events import Envelope, UserRoleLimited
from tests.integration.auth.support import (
    SESSION_HEADER,
    account_ids,
    accounts_by_name,
    assignment,
    browser_binding,
    complete_sso,
    create_sso_tenant,
    create_tenant,
    current,
    deactivate,
    decide_on_aws_page,
    external_id_of,
    role_trusting_cloudivize,
    sso_login,
    start_sso,
)
from tests.support.stack import eventually, produce, read_all


async def test_a_grant_added_in_identity_center_shows_at_the_next_login(stack) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_sso_tenant(stack)
    accounts = accounts_by_name(stack)
    staging = assignment(stack, "carol", accounts["Staging"], "ReadOnlyAccess")
    before = await sso_login(stack, tenant["slug"], "carol")

    stack.aws("sso-admin").create_account_assignment(**staging)
    try:
        after = await sso_login(stack, tenant["slug"], "carol")
    finally:
        stack.aws("sso-admin").delete_account_assignment(**staging)

    assert account_ids(before["session"]) == [accounts["Production"]]
    assert account_ids(after["session"]) == sorted([accounts["Production"], accounts["Staging"]])


async def test_a_grant_removed_in_identity_center_leaves_a_live_session_at_refresh(
    start_stack,
) -> None:  # type: ignore[no-untyped-def]
    async with start_stack(grant_refresh_seconds=0) as stack:
        tenant = await create_sso_tenant(stack)
        accounts = accounts_by_name(stack)
        staging = assignment(stack, "carol", accounts["Staging"], "ReadOnlyAccess")
        stack.aws("sso-admin").create_account_assignment(**staging)
        try:
            signed_in = await sso_login(stack, tenant["slug"], "carol")
        finally:
            stack.aws("sso-admin").delete_account_assignment(**staging)

        refreshed = (await current(stack, signed_in["session_token"])).json()

    assert accounts["Staging"] in account_ids(signed_in["session"])
    assert account_ids(refreshed) == [accounts["Production"]]


async def test_login_is_refused_for_a_tenant_deactivated_before_its_event_arrives(
    start_stack, topic_prefix
) -> None:  # type: ignore[no-untyped-def]
    # Auth reads events under another prefix, so tenant.deactivated never reaches it.
    deaf = {"kafka_topic_prefix": f"{topic_prefix}-deaf."}
    async with start_stack(auth_env=deaf) as stack:
        tenant = await create_sso_tenant(stack)
        binding = browser_binding()
        started = await start_sso(stack, tenant["slug"], binding)
        await decide_on_aws_page(stack, started["verification_uri_complete"], "alice")

        await deactivate(stack, tenant["id"])
        refused = await complete_sso(stack, tenant["slug"], started["attempt_id"], binding)

    assert (refused.status_code, refused.json()["error"]) == (403, "deactivated")


async def test_sessions_of_a_deactivated_tenant_stop_working(stack) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_sso_tenant(stack)
    alice = await sso_login(stack, tenant["slug"], "alice")
    bob = await sso_login(stack, tenant["slug"], "bob")

    await deactivate(stack, tenant["id"])

    for token in (alice["session_token"], bob["session_token"]):
        ended = await eventually(lambda token=token: _ended(stack, token))
        assert ended.json()["error"] == "invalid_session"


async def test_disconnecting_sso_ends_sessions_and_logs_out_of_the_portal(stack) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_sso_tenant(stack)
    signed_in = await sso_login(stack, tenant["slug"], "bob")
    tokens_before = _portal_tokens(stack, "bob")

    response = await stack.tenants.delete(f"/internal/tenants/{tenant['id']}/sso")
    assert response.status_code == 200, response.text

    await eventually(lambda: _ended(stack, signed_in["session_token"]))
    assert len(_portal_tokens(stack, "bob")) == len(tokens_before) - 1


async def test_a_role_limit_caps_live_sessions_and_later_logins(stack) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_sso_tenant(stack)
    signed_in = await sso_login(stack, tenant["slug"], "alice")
    user_id = signed_in["session"]["user_id"]
    limit = Envelope.wrap(
        UserRoleLimited(user_id=user_id, email=None, role="viewer"), uuid.UUID(tenant["id"])
    )
    topic = f"{stack.settings.kafka_topic_prefix}usercache.events"

    await produce(
        stack.settings.kafka_bootstrap_servers, topic, limit.model_dump_json().encode(), limit.key
    )

    async def capped():  # type: ignore[no-untyped-def]
        session = (await current(stack, signed_in["session_token"])).json()
        return session if session["role"] == "viewer" else None

    assert (await eventually(capped))["role"] == "viewer"
    assert signed_in["session"]["role"] == "author"
    later = await sso_login(stack, tenant["slug"], "alice")
    assert later["session"]["role"] == "viewer"


async def test_name_and_email_come_from_the_identity_store_through_the_management_role(
    stack,
) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_tenant(stack)
    external_id = await external_id_of(stack, tenant["id"])
    role_arn = role_trusting_cloudivize(
        stack, stack.info["management_account_id"], "CloudivizeIdentityReader", external_id
    )
    sso = {
        "start_url": stack.info["start_url"],
        "region": stack.info["region"],
        "identity_store_id": stack.info["identity_store_id"],
        "management_role_arn": role_arn,
    }
    response = await stack.tenants.put(f"/internal/tenants/{tenant['id']}/sso", json=sso)
    assert response.status_code == 200, response.text

    session = (await sso_login(stack, tenant["slug"], "bob"))["session"]

    assert (session["name"], session["email"]) == ("Bob Berg", "bob@example.com")
    assert session["profile_source"] == "identity_store"


async def test_an_sso_user_gets_credentials_for_granted_accounts_only(stack) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_sso_tenant(stack)
    accounts = accounts_by_name(stack)
    signed_in = await sso_login(stack, tenant["slug"], "carol")
    headers = {SESSION_HEADER: signed_in["session_token"]}

    granted = await stack.auth.post(
        "/internal/sessions/current/aws-credentials",
        json={"account_id": accounts["Production"]},
        headers=headers,
    )
    refused = await stack.auth.post(
        "/internal/sessions/current/aws-credentials",
        json={"account_id": accounts["Development"]},
        headers=headers,
    )

    assert granted.status_code == 200, granted.text
    identity = _caller(stack, granted.json())
    assert identity["Account"] == accounts["Production"]
    assert identity["Arn"].endswith("/carol")
    assert (refused.status_code, refused.json()["error"]) == (403, "account_not_granted")


async def test_a_local_admin_gets_credentials_through_the_linked_role(stack) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_tenant(stack)
    account = stack.info["member_account_ids"][1]
    role_arn = role_trusting_cloudivize(
        stack, account, "CloudivizeReadOnly", await external_id_of(stack, tenant["id"])
    )
    linked = await stack.tenants.post(
        f"/internal/tenants/{tenant['id']}/aws-accounts",
        json={"aws_account_id": account, "role_arn": role_arn},
    )
    assert linked.status_code == 201, linked.text
    signed_up = await stack.auth.post(
        "/internal/users/root",
        json={"tenant_id": tenant["id"], "email": "ops@example.com", "password": "a long password"},
    )
    headers = {SESSION_HEADER: signed_up.json()["session_token"]}

    granted = await stack.auth.post(
        "/internal/sessions/current/aws-credentials", json={"account_id": account}, headers=headers
    )
    other = stack.info["member_account_ids"][0]
    refused = await stack.auth.post(
        "/internal/sessions/current/aws-credentials", json={"account_id": other}, headers=headers
    )

    assert account_ids(signed_up.json()["session"]) == [account]
    assert granted.status_code == 200, granted.text
    assert ":assumed-role/CloudivizeReadOnly/" in _caller(stack, granted.json())["Arn"]
    assert (refused.status_code, refused.json()["error"]) == (403, "account_not_granted")


async def test_a_password_session_loses_an_unlinked_account_before_the_periodic_refresh(
    start_stack,
) -> None:  # type: ignore[no-untyped-def]
    async with start_stack(grant_refresh_seconds=3600) as stack:
        tenant = await create_tenant(stack)
        account = stack.info["member_account_ids"][1]
        role_arn = role_trusting_cloudivize(
            stack, account, "CloudivizeUnlinked", await external_id_of(stack, tenant["id"])
        )
        linked = await stack.tenants.post(
            f"/internal/tenants/{tenant['id']}/aws-accounts",
            json={"aws_account_id": account, "role_arn": role_arn},
        )
        assert linked.status_code == 201, linked.text
        signed_up = await stack.auth.post(
            "/internal/users/root",
            json={
                "tenant_id": tenant["id"],
                "email": "un@example.com",
                "password": "a long password",
            },
        )
        token = signed_up.json()["session_token"]
        assert account_ids(signed_up.json()["session"]) == [account]

        unlinked = await stack.tenants.delete(
            f"/internal/tenants/{tenant['id']}/aws-accounts/{account}"
        )
        assert unlinked.status_code in (200, 204), unlinked.text

        async def without_the_account():  # type: ignore[no-untyped-def]
            session = (await current(stack, token)).json()
            return session if account_ids(session) == [] else None

        assert await eventually(without_the_account)


async def _ended(stack, token):  # type: ignore[no-untyped-def]
    response = await current(stack, token)
    return response if response.status_code == 401 else None


def _portal_tokens(stack, user_name: str) -> list[str]:  # type: ignore[no-untyped-def]
    store = stack.emulator.app.oidc.store
    return [token for token, grant in store.access_tokens.items() if grant.user_name == user_name]


def _caller(stack, credentials) -> dict:  # type: ignore[no-untyped-def]
    sts = boto3.client(
        "sts",
        endpoint_url=stack.emulator.url,
        region_name=stack.info["region"],
        aws_access_key_id=credentials["access_key_id"],
        aws_secret_access_key=credentials["secret_access_key"],
        aws_session_token=credentials["session_token"],
    )
    return sts.get_caller_identity()


async def test_an_expiring_sso_token_is_refreshed_while_the_session_is_used(
    start_stack, emulator_settings
) -> None:  # type: ignore[no-untyped-def]
    # Tokens living one minute are always inside the refresh margin: every use refreshes.
    emulator_settings.access_token_expires_in = 60
    async with start_stack(grant_refresh_seconds=0) as stack:
        tenant = await create_sso_tenant(stack)
        signed_in = await sso_login(stack, tenant["slug"], "alice")
        issued = set(_portal_tokens(stack, "alice"))

        first = await current(stack, signed_in["session_token"])
        second = await current(stack, signed_in["session_token"])
        refreshed = set(_portal_tokens(stack, "alice")) - issued

    assert first.status_code == second.status_code == 200
    assert len(refreshed) == 2, "each use should have redeemed the previous refresh token"


async def test_a_session_ends_when_aws_no_longer_accepts_its_sso_token(start_stack) -> None:  # type: ignore[no-untyped-def]
    async with start_stack(grant_refresh_seconds=0) as stack:
        tenant = await create_sso_tenant(stack)
        before = set(_portal_tokens(stack, "carol"))
        signed_in = await sso_login(stack, tenant["slug"], "carol")
        (token,) = set(_portal_tokens(stack, "carol")) - before
        # The user signs out of the AWS access portal, which revokes the token.
        stack.aws("sso").logout(accessToken=token)

        ended = await current(stack, signed_in["session_token"])
        again = await current(stack, signed_in["session_token"])

    assert ended.status_code == 401
    assert "AWS sign-in has ended" in ended.json()["detail"]
    assert again.status_code == 401


async def test_an_unused_session_expires_after_the_idle_time(start_stack) -> None:  # type: ignore[no-untyped-def]
    async with start_stack(session_idle_seconds=1) as stack:
        tenant = await create_sso_tenant(stack)
        signed_in = await sso_login(stack, tenant["slug"], "bob")

        # Wait by reading the table, which does not renew the session as a request would.
        await eventually(lambda: _idle_past(stack, signed_in["session"]["session_id"]))
        ended = await current(stack, signed_in["session_token"])

    assert (ended.status_code, ended.json()["error"]) == (401, "invalid_session")


async def test_use_renews_a_session_only_up_to_its_absolute_limit(start_stack) -> None:  # type: ignore[no-untyped-def]
    async with start_stack(session_idle_seconds=60, session_absolute_seconds=2) as stack:
        tenant = await create_sso_tenant(stack)
        signed_in = await sso_login(stack, tenant["slug"], "bob")

        ended = await eventually(lambda: _ended(stack, signed_in["session_token"]))

    assert ended.json()["error"] == "invalid_session"


async def _idle_past(stack, session_id: str) -> bool:  # type: ignore[no-untyped-def]
    async with stack.auth_app.state.runtime.sessions() as db:
        expires_at = await db.scalar(
            select(Session.expires_at).where(Session.id == uuid.UUID(session_id))
        )
    return expires_at is not None and expires_at < datetime.now(UTC)


async def test_an_unreadable_role_limit_is_dead_lettered_and_later_ones_still_apply(stack) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_sso_tenant(stack)
    signed_in = await sso_login(stack, tenant["slug"], "bob")
    tenant_id = uuid.UUID(tenant["id"])
    prefix = stack.settings.kafka_topic_prefix
    bootstrap = stack.settings.kafka_bootstrap_servers
    bad = Envelope.wrap(UserRoleLimited(user_id="sso:bob", email=None, role="viewer"), tenant_id)
    poison = bad.model_copy(update={"payload": {**bad.payload, "role": "root"}})
    good = Envelope.wrap(UserRoleLimited(user_id="sso:bob", email=None, role="viewer"), tenant_id)

    for envelope in (poison, good):
        body = envelope.model_dump_json().encode()
        await produce(bootstrap, f"{prefix}usercache.events", body, envelope.key)

    async def capped():  # type: ignore[no-untyped-def]
        session = (await current(stack, signed_in["session_token"])).json()
        return session if session["role"] == "viewer" else None

    assert await eventually(capped)
    dead = await read_all(bootstrap, f"{prefix}auth.dead-letter", until=lambda found: found)
    assert len(dead) == 1
    assert dict(dead[0].headers)["dead-letter-reason"].startswith(b"user.role_limited payload")
