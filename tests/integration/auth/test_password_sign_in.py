"""Local users: the root user at sign-up, password sign-in, lockout and sessions."""

import json
import logging
import uuid

import pytest

from tests.integration.auth.support import (
    SESSION_HEADER,
    create_tenant,
    current,
    deactivate,
    logins_on_bus,
)
from tests.support.stack import eventually

PASSWORD = "correct horse battery staple"


async def sign_up(stack, email: str = "root@example.com"):  # type: ignore[no-untyped-def]
    tenant = await create_tenant(stack)
    response = await stack.auth.post(
        "/internal/users/root",
        json={"tenant_id": tenant["id"], "email": email, "password": PASSWORD},
    )
    assert response.status_code == 201, response.text
    return tenant, response.json()


async def login(stack, email: str, password: str):  # type: ignore[no-untyped-def]
    return await stack.auth.post("/internal/login", json={"email": email, "password": password})


async def test_sign_up_creates_the_root_user_and_signs_them_in(stack) -> None:  # type: ignore[no-untyped-def]
    tenant, signed_up = await sign_up(stack, "Founder@Example.com")

    session = (await current(stack, signed_up["session_token"])).json()

    assert session["tenant_id"] == tenant["id"]
    assert session["tenant_slug"] == tenant["slug"]
    assert session["email"] == "founder@example.com"
    assert (session["role"], session["is_root"], session["source"]) == ("admin", True, "password")
    assert session["mode"] == "iam_role"


async def test_the_root_user_signs_in_with_email_and_password(stack) -> None:  # type: ignore[no-untyped-def]
    await sign_up(stack, "owner@example.com")

    response = await login(stack, "OWNER@example.com", PASSWORD)

    assert response.status_code == 200, response.text
    token = response.json()["session_token"]
    assert (await current(stack, token)).json()["email"] == "owner@example.com"


async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(stack) -> None:  # type: ignore[no-untyped-def]
    await sign_up(stack, "known@example.com")

    wrong_password = await login(stack, "known@example.com", "not the password")
    unknown_email = await login(stack, "nobody@example.com", PASSWORD)

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert wrong_password.json()["error"] == "invalid_credentials"


async def test_repeated_failures_lock_known_and_unknown_emails_alike(start_stack) -> None:  # type: ignore[no-untyped-def]
    async with start_stack(login_free_failures=2, login_lockout_seconds=600) as stack:
        await sign_up(stack, "target@example.com")
        for email in ("target@example.com", "ghost@example.com"):
            for _ in range(2):
                assert (await login(stack, email, "guess")).status_code == 401

        locked_known = await login(stack, "target@example.com", "guess")
        locked_unknown = await login(stack, "ghost@example.com", "guess")
        right_password_while_locked = await login(stack, "target@example.com", PASSWORD)

    assert locked_known.status_code == locked_unknown.status_code == 429
    assert locked_known.json()["error"] == locked_unknown.json()["error"] == "too_many_attempts"
    assert int(locked_known.headers["Retry-After"]) > 0
    assert right_password_while_locked.status_code == 429


async def test_a_tampered_session_token_is_refused(stack) -> None:  # type: ignore[no-untyped-def]
    _, signed_up = await sign_up(stack)
    token = signed_up["session_token"]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    for bad in (tampered, "not a token!", ""):
        response = await current(stack, bad)
        assert response.status_code == 401, bad
        assert response.json()["error"] == "invalid_session"
    missing = await stack.auth.get("/internal/sessions/current")
    assert missing.status_code == 401


async def test_logout_ends_the_session(stack) -> None:  # type: ignore[no-untyped-def]
    _, signed_up = await sign_up(stack)
    token = signed_up["session_token"]

    response = await stack.auth.delete(
        "/internal/sessions/current", headers={SESSION_HEADER: token}
    )

    assert response.status_code == 204
    assert (await current(stack, token)).status_code == 401


async def test_only_one_root_user_per_tenant_and_never_for_an_unknown_tenant(stack) -> None:  # type: ignore[no-untyped-def]
    tenant, _ = await sign_up(stack, "first@example.com")

    second = await stack.auth.post(
        "/internal/users/root",
        json={"tenant_id": tenant["id"], "email": "second@example.com", "password": PASSWORD},
    )
    unknown = await stack.auth.post(
        "/internal/users/root",
        json={"tenant_id": str(uuid.uuid4()), "email": "x@example.com", "password": PASSWORD},
    )
    short = await stack.auth.post(
        "/internal/users/root",
        json={"tenant_id": tenant["id"], "email": "x@example.com", "password": "short"},
    )

    assert (second.status_code, second.json()["error"]) == (409, "root_exists")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_tenant")
    assert short.status_code == 422
    assert "short" not in short.text


async def test_each_password_login_is_announced_once(stack) -> None:  # type: ignore[no-untyped-def]
    tenant, _ = await sign_up(stack, "announce@example.com")
    signed_in = (await login(stack, "announce@example.com", PASSWORD)).json()

    records = await logins_on_bus(stack, 2)

    events = [json.loads(record.value) for record in records]
    assert [event["type"] for event in events] == ["user.logged_in", "user.logged_in"]
    assert {event["tenant_id"] for event in events} == {tenant["id"]}
    payload = events[1]["payload"]
    assert payload["user_id"] == signed_in["session"]["user_id"]
    assert (payload["source"], payload["email"]) == ("password", "announce@example.com")
    assert payload["profile_source"] == "local"


async def test_passwords_and_session_tokens_never_reach_the_logs(stack, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    _, signed_up = await sign_up(stack, "quiet@example.com")
    await login(stack, "quiet@example.com", "wrong-password-123")
    await login(stack, "quiet@example.com", PASSWORD)

    assert PASSWORD not in caplog.text
    assert "wrong-password-123" not in caplog.text
    assert signed_up["session_token"] not in caplog.text
    assert "login.failed" in caplog.text


@pytest.mark.parametrize(
    "body",
    [{"email": "not-an-email", "password": "x"}, {"email": "a@example.com"}, {}],
)
async def test_malformed_login_bodies_are_refused_with_a_reason(stack, body) -> None:  # type: ignore[no-untyped-def]
    response = await stack.auth.post("/internal/login", json=body)

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


async def test_a_local_admin_of_a_deactivated_tenant_signs_in_only_to_reactivate_it(
    stack,
) -> None:  # type: ignore[no-untyped-def]
    tenant, signed_up = await sign_up(stack, "admin@example.com")
    assert signed_up["session"]["tenant_status"] == "active"
    await deactivate(stack, tenant["id"])
    await eventually(lambda: _ended(stack, signed_up["session_token"]))

    response = await login(stack, "admin@example.com", PASSWORD)

    assert response.status_code == 200, response.text
    assert response.json()["session"]["tenant_status"] == "deactivated"


async def _ended(stack, token):  # type: ignore[no-untyped-def]
    return (await current(stack, token)).status_code == 401
