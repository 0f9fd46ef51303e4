"""The server-rendered pages, driven as a browser without JavaScript would."""

import re
import uuid
from typing import Any

import httpx

from tests.unit.services.gateway.conftest import gateway_app
from tests.unit.services.gateway.fakes import World


def page_client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def submit(client: httpx.AsyncClient, page: str, action: str, **fields: str):
    html = (await client.get(page)).text
    return await client.post(action, data={**fields, "csrf_token": csrf_of(html)})


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> None:
    response = await submit(client, "/login", "/login", email=email, password=password)
    assert response.status_code == 303


async def test_signing_up_through_the_form_signs_the_root_user_in(world: World) -> None:
    client = page_client(gateway_app(world))

    response = await submit(
        client,
        "/signup",
        "/signup",
        company="Acme",
        email="root@acme.example",
        password="long enough pass",
    )
    home = await client.get("/")

    assert response.status_code == 303
    assert home.status_code == 200
    assert "Account settings" in home.text


async def test_a_refused_sign_up_shows_the_form_again_with_the_reason(world: World) -> None:
    client = page_client(gateway_app(world))

    response = await submit(
        client,
        "/signup",
        "/signup",
        company="Acme",
        email="not-an-email",
        password="long enough pass",
    )

    assert response.status_code == 422
    assert 'role="alert"' in response.text
    assert 'value="Acme"' in response.text


async def test_a_wrong_password_shows_the_login_form_with_the_reason(world: World) -> None:
    client = page_client(gateway_app(world))

    response = await submit(client, "/login", "/login", email="x@example.com", password="nope")

    assert response.status_code == 401
    assert "wrong email or password" in response.text


async def test_the_sso_landing_explains_the_aws_page_and_completes_after_approval(
    world: World,
) -> None:
    tenant = world.add_tenant("Acme", mode="sso")
    user = world.add_user(tenant, "author", source="sso", granted=["111111111111"])
    client = page_client(gateway_app(world))
    landing = await client.get("/sso/acme")
    assert "Sign in to AWS CLI" in landing.text
    assert 'target="_blank"' in landing.text

    opened = await client.post("/sso/acme/start", data={"csrf_token": csrf_of(landing.text)})
    pending = await client.post("/sso/acme/complete", data={"csrf_token": csrf_of(landing.text)})
    next(iter(world.attempts.values()))["approved_by"] = user
    done = await client.post("/sso/acme/complete", data={"csrf_token": csrf_of(landing.text)})
    home = await client.get("/")

    assert 'href="http://aws.invalid/device?user_code=ABCD-EFGH"' in opened.text
    assert pending.status_code == 409
    assert "Allow access" in pending.text
    assert done.status_code == 303
    assert "111111111111" in home.text


async def test_continue_without_approve_says_to_approve_first(world: World) -> None:
    world.add_tenant("Acme", mode="sso")
    client = page_client(gateway_app(world))
    landing = await client.get("/sso/acme")

    response = await client.post("/sso/acme/complete", data={"csrf_token": csrf_of(landing.text)})

    assert response.status_code == 400
    assert "Approve access to Cloudivize first" in response.text


async def test_an_unknown_tenant_slug_gets_a_404_page(world: World) -> None:
    client = page_client(gateway_app(world))

    response = await client.get("/sso/nobody-here")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


async def test_unchecking_sso_asks_root_to_confirm_what_is_deleted(world: World) -> None:
    tenant = world.add_tenant("Acme", mode="sso")
    root = world.add_user(tenant, "admin", is_root=True)
    client = page_client(gateway_app(world))
    await sign_in(client, root.email, root.password)

    unchecked = await submit(client, "/settings", "/settings/sso", start_url="", region="")
    confirm = await client.get(unchecked.headers["location"])
    done = await client.post("/settings/sso/disconnect", data={"csrf_token": csrf_of(confirm.text)})

    assert unchecked.status_code == 303
    assert "All SSO configuration and all users will be deleted." in confirm.text
    assert "SSO users will no longer be able to use" in confirm.text
    assert done.status_code == 303
    assert world.tenants[next(iter(world.tenants))]["mode"] == "iam_role"


async def test_a_non_root_admin_cannot_disconnect_sso(world: World) -> None:
    tenant = world.add_tenant("Acme", mode="sso")
    admin = world.add_user(tenant, "admin")
    client = page_client(gateway_app(world))
    await sign_in(client, admin.email, admin.password)

    response = await submit(client, "/settings", "/settings/sso", start_url="", region="")

    assert response.status_code == 403
    assert "root user" in response.text
    assert tenant["mode"] == "sso"


async def test_manage_users_says_users_live_in_identity_center(world: World) -> None:
    tenant = world.add_tenant("Acme", mode="sso")
    admin = world.add_user(tenant, "admin")
    world.add_user(tenant, "author", user_id="cached-1", source="sso", email="c@acme.example")
    client = page_client(gateway_app(world))
    await sign_in(client, admin.email, admin.password)

    listing = await client.get("/settings/users")
    removed = await submit(client, "/settings/users", "/settings/users/cached-1/remove")

    assert "managed in AWS IAM Identity Center" in listing.text
    assert "only forgets" in listing.text
    assert "c@acme.example" in listing.text
    assert removed.status_code == 303
    assert world.cached[uuid.UUID(tenant["id"])] == {}


async def test_a_viewer_sees_views_without_the_form_and_a_forged_post_is_refused(
    world: World,
) -> None:
    tenant = world.add_tenant("Acme")
    viewer = world.add_user(tenant, "viewer")
    client = page_client(gateway_app(world))
    await sign_in(client, viewer.email, viewer.password)

    listing = await client.get("/views")
    forged = await client.post(
        "/views",
        data={
            "csrf_token": csrf_of(listing.text),
            "name": "x",
            "aws_account_id": "111111111111",
            "region": "us-east-1",
        },
    )

    assert "Save a view" not in listing.text
    assert forged.status_code == 403
    assert forged.headers["content-type"].startswith("text/html")
    assert world.views == {}


async def test_deactivation_asks_for_confirmation_first(world: World) -> None:
    tenant = world.add_tenant("Acme")
    admin = world.add_user(tenant, "admin")
    client = page_client(gateway_app(world))
    await sign_in(client, admin.email, admin.password)

    confirm = await client.get("/settings/deactivate")
    done = await client.post("/settings/deactivate", data={"csrf_token": csrf_of(confirm.text)})

    assert "every live session stops working" in confirm.text
    assert done.status_code == 303
    assert tenant["status"] == "deactivated"


async def test_bad_input_in_a_page_address_gets_an_html_page_not_json(world: World) -> None:
    tenant = world.add_tenant("Acme")
    admin = world.add_user(tenant, "admin")
    client = page_client(gateway_app(world))
    await sign_in(client, admin.email, admin.password)

    response = await submit(client, "/views", "/views/not-a-uuid/delete")

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text
    assert "Sign out" in response.text  # the error page keeps the signed-in navigation


async def test_bad_input_in_an_api_address_gets_a_json_reason(world: World) -> None:
    tenant = world.add_tenant("Acme")
    admin = world.add_user(tenant, "admin")
    client = page_client(gateway_app(world))
    await sign_in(client, admin.email, admin.password)

    response = await client.get("/api/aws/accounts/12345/overview")

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert response.json()["fields"][0]["field"] == "path.account_id"
