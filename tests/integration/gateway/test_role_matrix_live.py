"""Every /api route, called through the real stack as each kind of caller.

The stack is the one `make run` starts (all services as subprocesses, the AWS emulator,
real Kafka). Callers: nobody, an SSO user limited to viewer, an SSO author, the root user,
and the root user of another tenant. The product has no way yet to create a local admin
who is not root, so that caller is covered by the in-memory matrix in the unit tests.
Writes that end sessions (deactivate, disconnect, logout) come last, in an order whose
answers are known.
"""

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from services.tenants.templates import trust_policy
from tests.devstack.aws.browser import decide, sign_in
from tests.e2e.stack import Stack, running_stack

PASSWORD = "correct horse battery staple"
CALLERS = ("anonymous", "viewer", "author", "root", "other_root")


class Caller:
    """A browser-like client: keeps cookies and echoes the CSRF cookie on writes."""

    def __init__(self, base_url: str, cookies: httpx.Cookies | None = None) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30.0, cookies=cookies)
        if cookies is None:
            self.http.get("/login")

    def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        headers = {"X-CSRF-Token": self.http.cookies.get("cloudivize_csrf") or ""}
        return self.http.request(method, path, json=body, headers=headers)

    def copy(self) -> "Caller":
        """Another tab-less client with the same cookies, whose new cookies stay its own."""
        return Caller(str(self.http.base_url), httpx.Cookies(self.http.cookies))


def signup(stack: Stack, company: str) -> tuple[Caller, str]:
    caller = Caller(stack.gateway)
    email = f"root-{uuid.uuid4().hex[:8]}@matrix.example"
    body = {"company": company, "email": email, "password": PASSWORD}
    response = caller.call("POST", "/api/signup", body)
    assert response.status_code == 201, response.text
    return caller, email


def customer_role(stack: Stack, external_id: str) -> str:
    trust = trust_policy(stack.emulator["cloudivize_principal_arn"], external_id)
    iam = boto3.client(
        "iam",
        endpoint_url=stack.urls["aws"],
        region_name="us-east-1",
        aws_access_key_id="AKIAMATRIXCUSTOMER01",
        aws_secret_access_key="x",
    )
    name = f"CloudivizeMatrix{uuid.uuid4().hex[:6]}"
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def sso_login(stack: Stack, slug: str, user_name: str) -> Caller:
    """The device flow as a browser runs it, with the emulator's pages driven over HTTP."""
    caller = Caller(stack.gateway)
    started = caller.call("POST", f"/api/sso/{slug}/start")
    assert started.status_code == 200, started.text
    password = next(u["password"] for u in stack.emulator["users"] if u["user_name"] == user_name)
    with httpx.Client(base_url=stack.urls["aws"], timeout=30.0) as aws:
        page = sign_in(aws, started.json()["verification_uri_complete"], user_name, password)
        assert decide(aws, page.text, "allow").status_code == 200
    for _ in range(30):
        done = caller.call("POST", f"/api/sso/{slug}/complete")
        if done.status_code == 200:
            return caller
        assert done.status_code in (409, 429), done.text
        time.sleep(1)
    raise AssertionError("the SSO login did not complete")


def accounts_of(caller: Caller) -> set[str]:
    answer = caller.call("GET", "/api/aws/accounts").json()
    return {account["account_id"] for account in answer["accounts"]}


def eventually_role(caller: Caller, role: str) -> None:
    for _ in range(60):
        if caller.call("GET", "/api/me").json().get("role") == role:
            return
        time.sleep(0.5)
    raise AssertionError(f"the session never became {role}")


@pytest.fixture(scope="module")
def live(kafka_bootstrap_servers: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    prefix = f"matrix-{uuid.uuid4().hex[:10]}."
    with running_stack(tmp_path_factory.mktemp("matrix"), kafka_bootstrap_servers, prefix) as s:
        yield s


@pytest.fixture(scope="module")
def world(live: Stack) -> dict[str, Any]:
    root, root_email = signup(live, f"Matrix A {uuid.uuid4().hex[:6]}")
    link = root.call("GET", "/api/settings/aws-link").json()
    role_arn = customer_role(live, link["external_id"])
    account = role_arn.split(":")[4]
    linked = root.call(
        "POST", "/api/settings/aws-accounts", {"aws_account_id": account, "role_arn": role_arn}
    )
    assert linked.status_code == 201, linked.text
    sso = {"start_url": live.emulator["start_url"], "region": live.emulator["region"]}
    assert root.call("PUT", "/api/settings/sso", sso).status_code == 200
    slug = root.call("GET", "/api/me").json()["tenant_slug"]
    author, viewer = sso_login(live, slug, "alice"), sso_login(live, slug, "bob")
    me = viewer.call("GET", "/api/me").json()
    limited = root.call("PUT", f"/api/users/{me['user_id']}/role", {"role": "viewer"})
    assert limited.status_code == 200, limited.text
    eventually_role(viewer, "viewer")
    other, _ = signup(live, f"Matrix B {uuid.uuid4().hex[:6]}")
    return {
        "callers": {
            "anonymous": Caller(live.gateway),
            "viewer": viewer,
            "author": author,
            "root": root,
            "other_root": other,
        },
        "slug": slug,
        "account": account,
        "role_arn": role_arn,
        "root_email": root_email,
        "tenant": me["tenant_id"],
        "bob": me["user_id"],
        "alice": author.call("GET", "/api/me").json()["user_id"],
        # an account granted to both SSO users (alice has all three, bob two)
        "granted": sorted(accounts_of(author) & accounts_of(viewer)),
        "live": live,
    }


def check(
    world: dict[str, Any],
    method: str,
    path: str,
    expected: dict[str, int],
    body: Any = None,
    *,
    fresh: bool = False,
) -> None:
    """Call the route as each caller; `fresh` calls from a copy so cookies set stay there."""
    answers = {}
    for name in CALLERS:
        caller = world["callers"][name]
        caller = caller.copy() if fresh else caller
        payload = body(name) if callable(body) else body
        response = caller.call(method, path, payload)
        answers[name] = response.status_code
        if response.status_code >= 400:
            assert set(response.json()) >= {"error", "detail"}, response.text
    assert answers == expected, f"{method} {path}: {answers}"


def statuses(anonymous: int, viewer: int, author: int, root: int, other: int) -> dict[str, int]:
    return dict(zip(CALLERS, (anonymous, viewer, author, root, other), strict=True))


def new_signup(_: str) -> dict[str, str]:
    unique = uuid.uuid4().hex[:8]
    return {"company": f"Signup {unique}", "email": f"{unique}@new.example", "password": PASSWORD}


def test_every_route_answers_every_caller_as_its_role_allows(world: dict[str, Any]) -> None:
    root = world["callers"]["root"]

    def view(_: str = "") -> dict[str, str]:  # view names are unique within a tenant
        name = f"Matrix view {uuid.uuid4().hex[:6]}"
        return {"name": name, "aws_account_id": world["account"], "region": "us-east-1"}

    dev = world["granted"][0]

    check(world, "POST", "/api/signup", statuses(201, 201, 201, 201, 201), new_signup, fresh=True)
    check(
        world,
        "POST",
        "/api/login",
        statuses(200, 200, 200, 200, 200),
        {"email": world["root_email"], "password": PASSWORD},
        fresh=True,
    )
    check(
        world,
        "POST",
        "/api/login",
        statuses(401, 401, 401, 401, 401),
        {"email": "nobody@matrix.example", "password": "wrong password"},
        fresh=True,
    )
    check(
        world,
        "POST",
        f"/api/sso/{world['slug']}/start",
        statuses(200, 200, 200, 200, 200),
        fresh=True,
    )
    check(
        world,
        "POST",
        f"/api/sso/{world['slug']}/complete",
        statuses(400, 400, 400, 400, 400),
        fresh=True,
    )
    check(world, "GET", "/api/me", statuses(401, 200, 200, 200, 200))
    check(world, "GET", "/api/aws/accounts", statuses(401, 200, 200, 200, 200))
    check(world, "GET", f"/api/aws/accounts/{dev}/overview", statuses(401, 200, 200, 404, 404))
    check(world, "GET", "/api/views", statuses(401, 200, 200, 200, 200))
    check(world, "POST", "/api/views", statuses(401, 403, 201, 201, 201), view)
    views = [root.call("POST", "/api/views", view()).json()["id"] for _ in CALLERS]
    for name, view_id in zip(CALLERS, views, strict=True):
        expected = {"anonymous": 401, "viewer": 403, "other_root": 404}.get(name, 204)
        caller = world["callers"][name]
        assert caller.call("DELETE", f"/api/views/{view_id}").status_code == expected, name
    check(world, "GET", "/api/settings", statuses(401, 403, 403, 200, 200))
    check(world, "GET", "/api/settings/aws-link", statuses(401, 403, 403, 200, 200))
    check(
        world,
        "POST",
        f"/api/settings/aws-accounts/{world['account']}/validate",
        statuses(401, 403, 403, 200, 404),
    )
    check(world, "GET", "/api/users", statuses(401, 403, 403, 200, 200))
    check(
        world,
        "PUT",
        f"/api/users/{world['alice']}/role",
        # Another tenant's admin may set a limit for that user ID in their own tenant (a
        # limit may precede a first login); tenant A's user is untouched, as checked below.
        statuses(401, 403, 403, 200, 200),
        lambda name: {"role": "viewer" if name == "other_root" else "author"},
    )
    cached = {u["user_id"]: u for u in root.call("GET", "/api/users").json()["items"]}
    assert cached[world["alice"]]["role_limit"] == "author"
    check(world, "DELETE", f"/api/users/{world['bob']}", statuses(401, 403, 403, 204, 404))
    check(
        world,
        "DELETE",
        f"/api/settings/aws-accounts/{world['account']}",
        statuses(401, 403, 403, 204, 404),
    )
    relink = {"aws_account_id": world["account"], "role_arn": world["role_arn"]}
    check(world, "POST", "/api/settings/aws-accounts", statuses(401, 403, 403, 201, 422), relink)
    sso = {"start_url": world["live"].emulator["start_url"], "region": "us-east-1"}
    check(world, "PUT", "/api/settings/sso", statuses(401, 403, 403, 200, 200), sso)

    # The rest ends sessions; auth ends them through events, so each step waits for that.
    check(world, "DELETE", "/api/settings/sso", statuses(401, 403, 403, 204, 204))
    for name in ("viewer", "author", "root", "other_root"):
        eventually_status(world["callers"][name], "GET", "/api/me", 401)
    root = password_login(world)
    for name in ("anonymous", "viewer", "author"):
        assert world["callers"][name].call("POST", "/api/settings/deactivate").status_code == 401
    assert root.call("POST", "/api/settings/deactivate").status_code == 200
    eventually_status(root, "GET", "/api/me", 401)
    root = password_login(world)
    assert root.call("POST", "/api/settings/reactivate").status_code == 200
    assert root.call("GET", "/api/settings").json()["status"] == "active"
    assert world["callers"]["anonymous"].call("POST", "/api/logout").status_code == 401
    assert root.call("POST", "/api/logout").status_code == 204
    assert root.call("GET", "/api/me").status_code == 401


def password_login(world: dict[str, Any]) -> Caller:
    caller = Caller(world["live"].gateway)
    body = {"email": world["root_email"], "password": PASSWORD}
    response = caller.call("POST", "/api/login", body)
    assert response.status_code == 200, response.text
    return caller


def eventually_status(caller: Caller, method: str, path: str, status: int) -> None:
    last = None
    for _ in range(60):
        last = caller.call(method, path).status_code
        if last == status:
            return
        time.sleep(0.5)
    raise AssertionError(f"{method} {path} kept answering {last}, not {status}")
