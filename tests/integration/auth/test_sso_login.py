"""SSO login through the device flow against the AWS emulator, every outcome."""

import asyncio
import json
import logging

from sqlalchemy import func, select

from services.auth.models import SsoClient
from tests.integration.auth.support import (
    SESSION_HEADER,
    account_ids,
    browser_binding,
    complete_sso,
    create_sso_tenant,
    create_tenant,
    current,
    deactivate,
    decide_on_aws_page,
    logins_on_bus,
    sso_login,
    start_sso,
)
from tests.support.stack import eventually


async def test_the_whole_device_flow_signs_the_user_in_with_their_grants(stack) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_sso_tenant(stack)

    signed_in = await sso_login(stack, tenant["slug"], "alice")

    session = (await current(stack, signed_in["session_token"])).json()
    assert account_ids(session) == sorted(stack.info["member_account_ids"])
    assert all(a["roles"] == ["AdministratorAccess"] for a in session["granted_accounts"])
    assert (session["source"], session["mode"], session["role"]) == ("sso", "sso", "author")
    assert session["tenant_id"] == tenant["id"]
    # No management role is configured: the name is derived from the user name.
    assert (session["name"], session["email"], session["profile_source"]) == (
        "alice",
        None,
        "user_name",
    )


async def test_start_returns_only_what_the_browser_needs(stack) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_sso_tenant(stack)

    started = await start_sso(stack, tenant["slug"], browser_binding())

    assert set(started) == {
        "attempt_id",
        "user_code",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    assert started["verification_uri_complete"].startswith(f"{stack.emulator.url}/device")
    device_code = stack.emulator.app.oidc.store.user_codes[started["user_code"]]
    assert device_code not in json.dumps(started)


async def test_continue_before_approving_is_pending_then_succeeds_after_approval(stack) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_sso_tenant(stack)
    binding = browser_binding()
    started = await start_sso(stack, tenant["slug"], binding)

    early = await complete_sso(stack, tenant["slug"], started["attempt_id"], binding)
    await decide_on_aws_page(stack, started["verification_uri_complete"], "bob")
    later = await _past_the_interval(stack, tenant["slug"], started["attempt_id"], binding)

    assert (early.status_code, early.json()["error"]) == (409, "authorization_pending")
    assert later.status_code == 200, later.text
    assert later.json()["session"]["name"] == "bob"


async def test_a_denied_request_is_refused_and_stays_refused(stack) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_sso_tenant(stack)
    binding = browser_binding()
    started = await start_sso(stack, tenant["slug"], binding)
    await decide_on_aws_page(stack, started["verification_uri_complete"], "carol", "deny")

    first = await complete_sso(stack, tenant["slug"], started["attempt_id"], binding)
    again = await _past_the_interval(stack, tenant["slug"], started["attempt_id"], binding)

    assert (first.status_code, first.json()["error"]) == (403, "denied")
    assert (again.status_code, again.json()["error"]) == (403, "denied")


async def test_an_expired_request_asks_to_start_again(stack, emulator_settings) -> None:  # type: ignore[no-untyped-def]
    emulator_settings.device_code_expires_in = 1
    tenant = await create_sso_tenant(stack)
    binding = browser_binding()
    started = await start_sso(stack, tenant["slug"], binding)

    async def gone():  # type: ignore[no-untyped-def]
        response = await complete_sso(stack, tenant["slug"], started["attempt_id"], binding)
        return response if response.status_code == 410 else None

    response = await eventually(gone)
    assert response.json()["error"] == "expired"


async def test_slow_down_from_aws_widens_the_interval_and_is_respected(stack) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_sso_tenant(stack)
    binding = browser_binding()
    started = await start_sso(stack, tenant["slug"], binding)
    assert (
        await complete_sso(stack, tenant["slug"], started["attempt_id"], binding)
    ).status_code == 409
    # AWS decides this client polls too often: it now wants 30 s between polls.
    device = stack.emulator.app.oidc.find_pending(started["user_code"])
    device.interval = 30

    async def slowed():  # type: ignore[no-untyped-def]
        response = await complete_sso(stack, tenant["slug"], started["attempt_id"], binding)
        body = response.json()
        return response if body.get("retry_after", 0) > started["interval"] else None

    response = await eventually(slowed)
    polled_at = device.last_poll
    again = await complete_sso(stack, tenant["slug"], started["attempt_id"], binding)

    assert (response.status_code, response.json()["error"]) == (429, "slow_down")
    assert response.json()["retry_after"] == started["interval"] + 5
    assert again.status_code == 429
    assert device.last_poll == polled_at, "a click inside the widened interval reached AWS"


async def test_an_attempt_id_is_single_use_and_bound_to_its_browser(stack) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_sso_tenant(stack)
    binding = browser_binding()
    started = await start_sso(stack, tenant["slug"], binding)
    await decide_on_aws_page(stack, started["verification_uri_complete"], "alice")

    foreign = await complete_sso(stack, tenant["slug"], started["attempt_id"], browser_binding())
    own = await complete_sso(stack, tenant["slug"], started["attempt_id"], binding)
    reused = await complete_sso(stack, tenant["slug"], started["attempt_id"], binding)
    unknown = await complete_sso(stack, tenant["slug"], "made-up-attempt", binding)

    assert (foreign.status_code, foreign.json()["error"]) == (403, "foreign_attempt")
    assert own.status_code == 200, own.text
    assert (reused.status_code, reused.json()["error"]) == (410, "used")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_attempt")


async def test_unknown_tenants_and_tenants_not_in_sso_mode_are_refused(stack) -> None:  # type: ignore[no-untyped-def]
    iam_tenant = await create_tenant(stack)
    inactive = await create_sso_tenant(stack)
    await deactivate(stack, inactive["id"])
    body = {"browser_binding": browser_binding()}

    unknown = await stack.auth.post("/internal/sso/no-such-company/start", json=body)
    malformed = await stack.auth.post("/internal/sso/Bad_Slug!/start", json=body)
    not_sso = await stack.auth.post(f"/internal/sso/{iam_tenant['slug']}/start", json=body)
    deactivated = await stack.auth.post(f"/internal/sso/{inactive['slug']}/start", json=body)

    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_tenant")
    assert malformed.status_code == 404
    assert (not_sso.status_code, not_sso.json()["error"]) == (403, "not_sso")
    assert (deactivated.status_code, deactivated.json()["error"]) == (403, "deactivated")


async def test_the_client_is_registered_once_per_tenant_and_region(stack) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_sso_tenant(stack)
    clients_before = len(stack.emulator.app.oidc.store.clients)

    for _ in range(3):
        await start_sso(stack, tenant["slug"], browser_binding())

    assert len(stack.emulator.app.oidc.store.clients) == clients_before + 1
    assert await _registrations(stack) == 1


async def test_a_registration_close_to_expiry_is_replaced(start_stack) -> None:  # type: ignore[no-untyped-def]
    # Renewing 100 days ahead makes the emulator's 90-day registrations always too old.
    async with start_stack(sso_client_renew_before_seconds=100 * 24 * 3600) as stack:
        tenant = await create_sso_tenant(stack)
        first = await start_sso(stack, tenant["slug"], browser_binding())
        second = await start_sso(stack, tenant["slug"], browser_binding())
        registrations = await _registrations(stack)

    assert first["user_code"] != second["user_code"]
    assert registrations == 2


async def test_each_sso_login_is_announced_once_with_its_accounts(stack) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_sso_tenant(stack)

    bob = await sso_login(stack, tenant["slug"], "bob")
    carol = await sso_login(stack, tenant["slug"], "carol")
    records = await logins_on_bus(stack, 2)

    events = [json.loads(record.value) for record in records]
    assert len(events) == 2
    by_user = {event["payload"]["user_id"]: event for event in events}
    assert set(by_user) == {bob["session"]["user_id"], carol["session"]["user_id"]}
    for signed_in in (bob, carol):
        event = by_user[signed_in["session"]["user_id"]]
        assert event["type"] == "user.logged_in"
        assert event["tenant_id"] == tenant["id"]
        assert event["payload"]["source"] == "sso"
        assert event["payload"]["profile_source"] == "user_name"
        assert sorted(event["payload"]["granted_account_ids"]) == account_ids(signed_in["session"])


async def test_throttled_portal_calls_are_retried_with_back_off(
    stack, emulator_settings, caplog
) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO)
    tenant = await create_sso_tenant(stack)
    emulator_settings.portal_rate_limit = 2

    signed_in = await sso_login(stack, tenant["slug"], "alice")

    assert account_ids(signed_in["session"]) == sorted(stack.info["member_account_ids"])
    assert "sso.portal.throttled" in caplog.text


async def test_no_secret_of_the_flow_reaches_logs_or_answers(stack, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    tenant = await create_sso_tenant(stack)
    binding = browser_binding()
    started = await start_sso(stack, tenant["slug"], binding)
    await decide_on_aws_page(stack, started["verification_uri_complete"], "carol")
    device_code = stack.emulator.app.oidc.store.user_codes[started["user_code"]]
    client_secrets = [c.secret for c in stack.emulator.app.oidc.store.clients.values()]

    answer = await complete_sso(stack, tenant["slug"], started["attempt_id"], binding)
    session_token = answer.json()["session_token"]
    access_tokens = [
        token
        for token, grant in stack.emulator.app.oidc.store.access_tokens.items()
        if grant.user_name == "carol"
    ]

    secrets = [device_code, binding, started["attempt_id"], session_token, *client_secrets]
    for secret in [*secrets, *access_tokens]:
        assert secret not in caplog.text
    for secret in [device_code, *client_secrets, *access_tokens]:
        assert secret not in answer.text


async def _past_the_interval(stack, slug, attempt_id, binding):  # type: ignore[no-untyped-def]
    """Click "Continue" until this service stops asking to wait for the polling interval."""

    async def answered():  # type: ignore[no-untyped-def]
        response = await complete_sso(stack, slug, attempt_id, binding)
        return response if response.status_code != 429 else None

    return await eventually(answered)


async def _registrations(stack) -> int:  # type: ignore[no-untyped-def]
    async with stack.auth_app.state.runtime.sessions() as db:
        return await db.scalar(select(func.count()).select_from(SsoClient)) or 0


async def test_two_clicks_at_once_open_one_session(stack) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_sso_tenant(stack)
    binding = browser_binding()
    started = await start_sso(stack, tenant["slug"], binding)
    await decide_on_aws_page(stack, started["verification_uri_complete"], "bob")

    answers = await asyncio.gather(
        complete_sso(stack, tenant["slug"], started["attempt_id"], binding),
        complete_sso(stack, tenant["slug"], started["attempt_id"], binding),
    )

    assert sorted(answer.status_code for answer in answers) == [200, 410]


async def test_logout_of_an_sso_session_also_logs_out_of_the_portal(stack) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_sso_tenant(stack)
    store = stack.emulator.app.oidc.store
    before = {token for token, grant in store.access_tokens.items() if grant.user_name == "alice"}
    signed_in = await sso_login(stack, tenant["slug"], "alice")
    (portal_token,) = {
        token for token, grant in store.access_tokens.items() if grant.user_name == "alice"
    } - before

    response = await stack.auth.delete(
        "/internal/sessions/current", headers={SESSION_HEADER: signed_in["session_token"]}
    )

    assert response.status_code == 204
    assert portal_token not in store.access_tokens
    assert (await current(stack, signed_in["session_token"])).status_code == 401


async def test_a_registration_aws_dropped_early_is_replaced_at_the_next_start(stack) -> None:  # type: ignore[no-untyped-def]
    tenant = await create_sso_tenant(stack)
    clients = stack.emulator.app.oidc.store.clients
    known = set(clients)
    await start_sso(stack, tenant["slug"], browser_binding())
    (registered,) = set(clients) - known
    del clients[registered]  # as if AWS had revoked it

    started = await start_sso(stack, tenant["slug"], browser_binding())

    assert started["user_code"]
    assert len(set(clients) - known) == 1
    assert await _registrations(stack) == 2
