"""Cookies, CSRF, headers, body limits, rate limits and error rendering at the gateway."""

import httpx

from tests.unit.services.gateway.conftest import browser, gateway_app, signed_in
from tests.unit.services.gateway.fakes import World


async def test_login_sets_an_httponly_lax_session_cookie_without_secure_on_localhost(
    world: World,
) -> None:
    tenant = world.add_tenant("Acme")
    user = world.add_user(tenant, "admin")
    client = browser(gateway_app(world))
    await client.get("/login")

    response = await client.post(
        "/api/login", json={"email": user.email, "password": user.password}
    )

    cookie = response.headers["set-cookie"].lower()
    assert response.status_code == 200
    assert cookie.startswith("cloudivize_session=")
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie
    assert "session_token" not in response.text


async def test_the_session_cookie_is_secure_on_any_other_host(world: World) -> None:
    tenant = world.add_tenant("Acme")
    user = world.add_user(tenant, "admin")
    app = gateway_app(world)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://cloudivize.example"
    )
    csrf = (await client.get("/login")).cookies["cloudivize_csrf"]

    response = await client.post(
        "/api/login",
        json={"email": user.email, "password": user.password},
        headers={"X-CSRF-Token": csrf},
    )

    assert response.status_code == 200
    assert "secure" in response.headers["set-cookie"].lower()


async def test_a_write_without_the_csrf_token_is_refused(world: World) -> None:
    tenant = world.add_tenant("Acme")
    user = world.add_user(tenant, "admin")
    client = await signed_in(gateway_app(world), user)

    response = await client.post(
        "/api/views",
        json={"name": "v", "aws_account_id": "111122223333", "region": "us-east-1"},
        headers={"X-CSRF-Token": "x" * 43},
    )

    assert response.status_code == 403
    assert response.json()["error"] == "csrf_failed"
    assert world.views == {}


async def test_a_login_without_any_csrf_cookie_is_refused(world: World) -> None:
    tenant = world.add_tenant("Acme")
    user = world.add_user(tenant, "admin")
    client = browser(gateway_app(world))

    response = await client.post(
        "/api/login", json={"email": user.email, "password": user.password}
    )

    assert response.status_code == 403
    assert "cloudivize_session" not in response.headers.get("set-cookie", "")


async def test_a_form_post_from_another_site_is_refused_with_an_html_page(world: World) -> None:
    client = browser(gateway_app(world))
    csrf = (await client.get("/login")).cookies["cloudivize_csrf"]

    response = await client.post(
        "/login",
        data={"email": "a@example.com", "password": "x", "csrf_token": csrf},
        headers={"Origin": "https://evil.example"},
    )

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "another site" in response.text


async def test_a_form_with_its_hidden_csrf_field_is_accepted(world: World) -> None:
    tenant = world.add_tenant("Acme")
    user = world.add_user(tenant, "admin")
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=gateway_app(world)), base_url="http://127.0.0.1"
    )
    page = await client.get("/login")
    csrf = page.cookies["cloudivize_csrf"]
    assert f'name="csrf_token" value="{csrf}"' in page.text

    response = await client.post(
        "/login", data={"email": user.email, "password": user.password, "csrf_token": csrf}
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_pages_carry_the_security_headers(world: World) -> None:
    client = browser(gateway_app(world))

    response = await client.get("/login")

    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


async def test_unknown_routes_are_404_json_under_api_and_html_elsewhere(world: World) -> None:
    client = browser(gateway_app(world))

    api = await client.get("/api/nothing-here")
    page = await client.get("/nothing-here")

    assert api.status_code == 404
    assert api.json()["error"] == "not_found"
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Traceback" not in page.text


async def test_an_oversized_body_is_refused_with_413(world: World) -> None:
    client = browser(gateway_app(world, max_body_bytes=2048))
    await client.get("/login")

    response = await client.post(
        "/api/login",
        content=b"{" + b" " * 5000 + b"}",
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


async def test_a_body_larger_than_its_declared_length_is_still_refused(world: World) -> None:
    app = gateway_app(world, max_body_bytes=2048)
    client = browser(app)
    await client.get("/login")

    async def chunks():  # streamed, so no Content-Length is declared
        for _ in range(10):
            yield b" " * 1000

    response = await client.post(
        "/api/login", content=chunks(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413


async def test_bad_json_gets_a_422_that_names_the_field(world: World) -> None:
    client = browser(gateway_app(world))
    await client.get("/login")

    response = await client.post("/api/signup", json={"company": "", "email": "nope"})

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert {field["field"] for field in body["fields"]} >= {"company", "email", "password"}


async def test_logins_past_the_limit_get_429(world: World) -> None:
    client = browser(gateway_app(world, rate_limit_login=3))
    await client.get("/login")
    body = {"email": "nobody@example.com", "password": "wrong"}

    answers = [(await client.post("/api/login", json=body)).status_code for _ in range(4)]

    assert answers == [401, 401, 401, 429]


async def test_sso_starts_past_the_limit_get_429(world: World) -> None:
    world.add_tenant("Acme", mode="sso")
    client = browser(gateway_app(world, rate_limit_sso_start=2))
    await client.get("/login")

    answers = [(await client.post("/api/sso/acme/start")).status_code for _ in range(3)]

    assert answers == [200, 200, 429]


async def test_signups_past_the_limit_get_429(world: World) -> None:
    client = browser(gateway_app(world, rate_limit_signup=1))
    await client.get("/login")

    first = await client.post(
        "/api/signup", json={"company": "One", "email": "a@one.example", "password": "p" * 12}
    )
    second = await client.post(
        "/api/signup", json={"company": "Two", "email": "a@two.example", "password": "p" * 12}
    )

    assert (first.status_code, second.status_code) == (201, 429)
    assert second.json()["error"] == "rate_limited"


async def test_a_page_that_needs_a_session_redirects_to_login(world: World) -> None:
    client = browser(gateway_app(world))

    response = await client.get("/settings")

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
