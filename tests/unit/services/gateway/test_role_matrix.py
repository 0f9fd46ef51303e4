"""Every /api route, called as each kind of caller, against the in-memory services.

The fakes check no roles, so each 403 here is the gateway's own refusal, and each 404
for another tenant's admin shows that the gateway addressed the call to the caller's own
tenant (the fakes answer 404 across tenants, as the real services do).
"""

import copy
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.unit.services.gateway.fakes import World

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"
ROLES = ("anonymous", "viewer", "author", "admin", "root", "other_admin")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    expect: tuple[int, int, int, int, int, int]  # in the order of ROLES
    body: Any = None


VIEW = {"name": "Prod map", "aws_account_id": ACCOUNT_A, "region": "eu-west-1"}
SSO = {"start_url": "https://acme.awsapps.com/start", "region": "eu-west-1"}
LINK = {"aws_account_id": "333333333333", "role_arn": "arn:aws:iam::333333333333:role/Cv"}

ROUTES = [
    Route("POST", "/api/signup", (201,) * 6, "signup"),
    Route("POST", "/api/login", (200,) * 6, "login"),
    Route("POST", "/api/logout", (401, 204, 204, 204, 204, 204)),
    Route("POST", "/api/sso/acme/start", (200,) * 6),
    Route("POST", "/api/sso/acme/complete", (400,) * 6),
    Route("GET", "/api/me", (401, 200, 200, 200, 200, 200)),
    Route("GET", "/api/aws/accounts", (401, 200, 200, 200, 200, 200)),
    Route("GET", f"/api/aws/accounts/{ACCOUNT_A}/overview", (401, 200, 200, 200, 200, 404)),
    Route("GET", "/api/views", (401, 200, 200, 200, 200, 200)),
    Route("POST", "/api/views", (401, 403, 201, 201, 201, 201), VIEW),
    Route("DELETE", "/api/views/{view}", (401, 403, 204, 204, 204, 404)),
    Route("GET", "/api/settings", (401, 403, 403, 200, 200, 200)),
    Route("PUT", "/api/settings/sso", (401, 403, 403, 200, 200, 200), SSO),
    Route("DELETE", "/api/settings/sso", (401, 403, 403, 403, 204, 403)),
    Route("GET", "/api/settings/aws-link", (401, 403, 403, 200, 200, 200)),
    Route("POST", "/api/settings/aws-accounts", (401, 403, 403, 201, 201, 201), LINK),
    Route("DELETE", f"/api/settings/aws-accounts/{ACCOUNT_A}", (401, 403, 403, 204, 204, 404)),
    Route(
        "POST",
        f"/api/settings/aws-accounts/{ACCOUNT_A}/validate",
        (401, 403, 403, 200, 200, 404),
    ),
    Route("POST", "/api/settings/deactivate", (401, 403, 403, 200, 200, 200)),
    Route("POST", "/api/settings/reactivate", (401, 403, 403, 200, 200, 200)),
    Route("GET", "/api/users", (401, 403, 403, 200, 200, 200)),
    Route("DELETE", "/api/users/cached-1", (401, 403, 403, 204, 204, 404)),
    Route("PUT", "/api/users/cached-1/role", (401, 403, 403, 200, 200, 404), {"role": "viewer"}),
]

CASES = [
    pytest.param(route, role, route.expect[i], id=f"{route.method} {route.path} as {role}")
    for route in ROUTES
    for i, role in enumerate(ROLES)
]


@dataclass
class Scene:
    world: World
    tenant_a: uuid.UUID
    tenant_b: uuid.UUID
    users: dict[str, Any]
    view_id: str


def build_scene(world: World) -> Scene:
    a = world.add_tenant("Acme", mode="sso")
    b = world.add_tenant("Other Corp")
    grants = {"source": "sso", "granted": [ACCOUNT_A]}
    users = {
        "viewer": world.add_user(a, "viewer", **grants),
        "author": world.add_user(a, "author", **grants),
        "admin": world.add_user(a, "admin"),
        "root": world.add_user(a, "admin", is_root=True),
        "other_admin": world.add_user(b, "admin"),
        "anonymous": None,
    }
    world.add_user(a, "author", user_id="cached-1", source="sso")
    tenant_a, tenant_b = uuid.UUID(a["id"]), uuid.UUID(b["id"])
    world.accounts[tenant_a][ACCOUNT_A] = {"aws_account_id": ACCOUNT_A, "role_arn": "r"}
    world.accounts[tenant_b][ACCOUNT_B] = {"aws_account_id": ACCOUNT_B, "role_arn": "r"}
    view_id = uuid.uuid4()
    world.views[view_id] = {"id": str(view_id), "tenant_id": a["id"], **VIEW}
    return Scene(world, tenant_a, tenant_b, users, str(view_id))


def body_for(route: Route, world: World) -> Any:
    if route.body == "signup":
        unique = uuid.uuid4().hex[:8]
        return {"company": f"New {unique}", "email": f"{unique}@new.example", "password": "p" * 12}
    if route.body == "login":
        spare = world.add_user(next(iter(world.tenants.values())), "viewer")
        return {"email": spare.email, "password": spare.password}
    return route.body


def tenant_data(scene: Scene) -> dict[str, Any]:
    world, a = scene.world, scene.tenant_a
    views = {k: v for k, v in world.views.items() if v["tenant_id"] == str(a)}
    return copy.deepcopy(
        {
            "tenant": world.tenants[a],
            "accounts": world.accounts[a],
            "cached": world.cached[a],
            "views": views,
        }
    )


@pytest.mark.parametrize(("route", "role", "expected"), CASES)
async def test_each_route_answers_each_caller_as_its_role_allows(
    route: Route, role: str, expected: int, world: World, make_client: Any
) -> None:
    scene = build_scene(world)
    client = await make_client(scene.users[role])
    own_tenant = scene.tenant_b if role == "other_admin" else scene.tenant_a
    before = tenant_data(scene)
    world.seen.clear()

    response = await client.request(
        route.method, route.path.format(view=scene.view_id), json=body_for(route, world)
    )

    assert response.status_code == expected, response.text
    if expected >= 400:
        assert set(response.json()) >= {"error", "detail"}
    if route.path == "/api/views" and expected == 201:
        assert world.views[uuid.UUID(response.json()["id"])]["tenant_id"] == str(own_tenant)
    if role == "other_admin" or expected >= 400:
        assert tenant_data(scene) == before, "a refused or foreign call changed tenant A"
    scoped = {i.tenant_id for i in world.seen if i.tenant_id is not None and i.user_id}
    assert scoped <= {own_tenant}, "a call was addressed with another tenant's identity"


async def test_another_tenants_admin_sees_none_of_tenant_a(world: World, make_client: Any) -> None:
    scene = build_scene(world)
    client = await make_client(scene.users["other_admin"])

    accounts = (await client.get("/api/aws/accounts")).json()["accounts"]
    views = (await client.get("/api/views")).json()["views"]
    settings = (await client.get("/api/settings")).json()
    users = (await client.get("/api/users")).json()["items"]

    assert [a["account_id"] for a in accounts] == [ACCOUNT_B]
    assert views == []
    assert settings["id"] == str(scene.tenant_b)
    assert users == []


async def test_an_sso_user_sees_exactly_their_granted_accounts(
    world: World, make_client: Any
) -> None:
    scene = build_scene(world)
    client = await make_client(scene.users["viewer"])

    accounts = (await client.get("/api/aws/accounts")).json()["accounts"]
    overview = await client.get(f"/api/aws/accounts/{ACCOUNT_B}/overview")

    assert [a["account_id"] for a in accounts] == [ACCOUNT_A]
    assert overview.status_code == 404


async def test_a_root_user_creation_failure_undoes_the_tenant(
    world: World, make_client: Any
) -> None:
    world.fail_root_user = True
    client = await make_client(None)

    response = await client.post(
        "/api/signup",
        json={"company": "Half Done", "email": "a@half.example", "password": "p" * 12},
    )

    assert response.status_code == 409
    assert response.json()["error"] == "email_taken"
    assert world.tenants == {}
