"""In-memory doubles of auth, tenants and usercache that speak their internal contracts.

They verify the gateway's signed identity like the real services do and answer 404 when
a tenant-scoped call names another tenant than the identity's, but they check no roles:
what the gateway lets through is exactly what reaches them, so role checks seen in the
tests are the gateway's own. Each records the identities it was called with.
"""

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse, Response

from shared.identity import HEADER, Identity, verify
from shared.settings import DEVELOPMENT_SIGNING_KEY


@dataclass
class FakeUser:
    user_id: str
    tenant_id: uuid.UUID
    email: str
    password: str
    role: str
    is_root: bool = False
    source: str = "password"
    granted: list[str] = field(default_factory=list)


@dataclass
class World:
    """What the three fakes share, like the real services share a truth through events."""

    tenants: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, FakeUser] = field(default_factory=dict)
    sessions: dict[str, FakeUser] = field(default_factory=dict)
    attempts: dict[str, dict[str, Any]] = field(default_factory=dict)
    views: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[uuid.UUID, dict[str, dict[str, Any]]] = field(default_factory=dict)
    cached: dict[uuid.UUID, dict[str, dict[str, Any]]] = field(default_factory=dict)
    seen: list[Identity] = field(default_factory=list)
    fail_root_user: bool = False

    def add_tenant(self, name: str, *, mode: str = "iam_role") -> dict[str, Any]:
        tenant_id = uuid.uuid4()
        slug = name.lower().replace(" ", "-")
        self.tenants[tenant_id] = {
            "id": str(tenant_id),
            "name": name,
            "slug": slug,
            "status": "active",
            "mode": mode,
            "created_at": datetime.now(UTC).isoformat(),
            "sso": None,
        }
        self.accounts[tenant_id] = {}
        self.cached[tenant_id] = {}
        return self.tenants[tenant_id]

    def add_user(self, tenant: dict[str, Any], role: str, **extra: Any) -> FakeUser:
        user = FakeUser(
            user_id=extra.pop("user_id", f"u-{secrets.token_hex(4)}"),
            tenant_id=uuid.UUID(tenant["id"]),
            email=extra.pop("email", f"{secrets.token_hex(4)}@example.com"),
            password=extra.pop("password", "correct horse battery"),
            role=role,
            **extra,
        )
        self.users[user.email] = user
        if user.source == "sso":
            self.cached[user.tenant_id][user.user_id] = {
                "user_id": user.user_id,
                "name": user.email,
                "email": user.email,
                "role": user.role,
            }
        return user

    def session_of(self, user: FakeUser) -> dict[str, Any]:
        tenant = self.tenants[user.tenant_id]
        return {
            "session_id": str(uuid.uuid4()),
            "user_id": user.user_id,
            "name": user.email,
            "email": user.email,
            "tenant_id": str(user.tenant_id),
            "tenant_slug": tenant["slug"],
            "role": user.role,
            "is_root": user.is_root,
            "mode": tenant["mode"],
            "source": user.source,
            "granted_accounts": [
                {"account_id": a, "account_name": f"Account {a}", "roles": ["ReadOnly"]}
                for a in user.granted
            ],
        }

    def open_session(self, user: FakeUser) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        self.sessions[token] = user
        return {"session_token": token, "session": self.session_of(user)}


def refuse(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


def _guarded(world: World, name: str) -> FastAPI:
    app = FastAPI(title=f"fake {name}")

    @app.middleware("http")
    async def signed_only(request: Request, call_next):  # type: ignore[no-untyped-def]
        token = request.headers.get(HEADER)
        if not token:
            return refuse(401, "unauthenticated", "unsigned call")
        identity = verify(token, DEVELOPMENT_SIGNING_KEY)
        world.seen.append(identity)
        request.state.identity = identity
        if _foreign_tenant(request.url.path, identity):
            return refuse(404, "not_found", "no such tenant")
        return await call_next(request)

    return app


def _foreign_tenant(path: str, identity: Identity) -> bool:
    parts = path.split("/")
    scoped = len(parts) > 3 and parts[2] == "tenants" and _is_uuid(parts[3])
    return scoped and identity.tenant_id is not None and str(identity.tenant_id) != parts[3]


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def fake_auth(world: World) -> FastAPI:
    app = _guarded(world, "auth")

    @app.post("/internal/users/root", status_code=201)
    async def root_user(body: dict[str, Any]) -> Any:
        if world.fail_root_user:
            return refuse(409, "email_taken", "an account with this email already exists")
        tenant = world.tenants[uuid.UUID(body["tenant_id"])]
        user = world.add_user(
            tenant, "admin", email=body["email"], password=body["password"], is_root=True
        )
        return world.open_session(user)

    @app.post("/internal/login")
    async def login(body: dict[str, Any]) -> Any:
        user = world.users.get(body["email"])
        if user is None or user.password != body["password"]:
            return refuse(401, "invalid_credentials", "wrong email or password")
        return world.open_session(user)

    @app.get("/internal/sessions/current")
    async def current(x_cloudivize_session: str = Header("")) -> Any:
        user = world.sessions.get(x_cloudivize_session)
        if user is None:
            return refuse(401, "invalid_session", "no such session")
        return world.session_of(user)

    @app.delete("/internal/sessions/current", status_code=204)
    async def logout(x_cloudivize_session: str = Header("")) -> Response:
        world.sessions.pop(x_cloudivize_session, None)
        return Response(status_code=204)

    @app.post("/internal/sso/{slug}/start", status_code=201)
    async def sso_start(slug: str, body: dict[str, Any]) -> Any:
        attempt_id = secrets.token_hex(8)
        world.attempts[attempt_id] = {
            "binding": body["browser_binding"],
            "slug": slug,
            "approved_by": None,
        }
        return {
            "attempt_id": attempt_id,
            "user_code": "ABCD-EFGH",
            "expires_in": 600,
            "interval": 1,
            "verification_uri_complete": "http://aws.invalid/device?user_code=ABCD-EFGH",
        }

    @app.post("/internal/sso/{slug}/complete")
    async def sso_complete(slug: str, body: dict[str, Any]) -> Any:
        attempt = world.attempts.get(body["attempt_id"])
        if attempt is None or attempt["binding"] != body["browser_binding"]:
            return refuse(404, "unknown_attempt", "this sign-in attempt is unknown")
        if attempt["approved_by"] is None:
            return refuse(409, "authorization_pending", "not approved yet")
        return world.open_session(attempt["approved_by"])

    @app.post("/internal/sessions/current/aws-credentials")
    async def credentials(body: dict[str, Any], x_cloudivize_session: str = Header("")) -> Any:
        user = world.sessions.get(x_cloudivize_session)
        if user is None:
            return refuse(401, "invalid_session", "no such session")
        return {
            "account_id": body["account_id"],
            "role_name": "ReadOnly",
            "access_key_id": "AKIAFAKE",
            "secret_access_key": "fake",
            "session_token": "t",
            "expiration": datetime.now(UTC).isoformat(),
        }

    return app


def fake_tenants(world: World) -> FastAPI:
    app = _guarded(world, "tenants")

    @app.post("/internal/tenants", status_code=201)
    async def create(body: dict[str, Any]) -> Any:
        return world.add_tenant(body["name"])

    @app.get("/internal/tenants/by-slug/{slug}")
    async def by_slug(slug: str) -> Any:
        for tenant in world.tenants.values():
            if tenant["slug"] == slug:
                return tenant
        return refuse(404, "not_found", "no such tenant")

    @app.get("/internal/tenants/{tenant_id}")
    async def get(tenant_id: uuid.UUID) -> Any:
        return world.tenants[tenant_id]

    @app.delete("/internal/tenants/{tenant_id}/signup", status_code=204)
    async def undo(tenant_id: uuid.UUID) -> Response:
        del world.tenants[tenant_id]
        return Response(status_code=204)

    @app.put("/internal/tenants/{tenant_id}/sso")
    async def connect(tenant_id: uuid.UUID, body: dict[str, Any]) -> Any:
        world.tenants[tenant_id].update(mode="sso", sso=body)
        return world.tenants[tenant_id]

    @app.delete("/internal/tenants/{tenant_id}/sso")
    async def disconnect(tenant_id: uuid.UUID) -> Any:
        world.tenants[tenant_id].update(mode="iam_role", sso=None)
        return world.tenants[tenant_id]

    @app.post("/internal/tenants/{tenant_id}/deactivate")
    async def deactivate(tenant_id: uuid.UUID) -> Any:
        world.tenants[tenant_id]["status"] = "deactivated"
        return world.tenants[tenant_id]

    @app.post("/internal/tenants/{tenant_id}/reactivate")
    async def reactivate(tenant_id: uuid.UUID) -> Any:
        world.tenants[tenant_id]["status"] = "active"
        return world.tenants[tenant_id]

    @app.get("/internal/tenants/{tenant_id}/aws-link")
    async def link(tenant_id: uuid.UUID) -> Any:
        return {
            "principal_arn": "arn:aws:iam::444455556666:user/cloudivize",
            "external_id": f"ext-{tenant_id.hex[:8]}",
            "template": "{}",
            "template_url": "http://x.invalid/t",
            "quick_create_url": "http://x.invalid/q",
        }

    @app.get("/internal/tenants/{tenant_id}/aws-accounts")
    async def accounts(tenant_id: uuid.UUID) -> Any:
        return list(world.accounts[tenant_id].values())

    @app.post("/internal/tenants/{tenant_id}/aws-accounts", status_code=201)
    async def link_account(tenant_id: uuid.UUID, body: dict[str, Any]) -> Any:
        row = {**body, "validation_result": "ok", "validation_detail": "", "valid": True}
        world.accounts[tenant_id][body["aws_account_id"]] = row
        return row

    @app.delete("/internal/tenants/{tenant_id}/aws-accounts/{account_id}", status_code=204)
    async def unlink(tenant_id: uuid.UUID, account_id: str) -> Response:
        if world.accounts[tenant_id].pop(account_id, None) is None:
            return refuse(404, "not_found", "no such linked account")
        return Response(status_code=204)

    @app.post("/internal/tenants/{tenant_id}/aws-accounts/{account_id}/validate")
    async def validate(tenant_id: uuid.UUID, account_id: str) -> Any:
        if account_id not in world.accounts[tenant_id]:
            return refuse(404, "not_found", "no such linked account")
        return world.accounts[tenant_id][account_id]

    @app.get("/internal/tenants/{tenant_id}/views")
    async def views(tenant_id: uuid.UUID) -> Any:
        return [v for v in world.views.values() if v["tenant_id"] == str(tenant_id)]

    @app.post("/internal/tenants/{tenant_id}/views", status_code=201)
    async def create_view(tenant_id: uuid.UUID, body: dict[str, Any]) -> Any:
        view_id = uuid.uuid4()
        world.views[view_id] = {"id": str(view_id), "tenant_id": str(tenant_id), **body}
        return world.views[view_id]

    @app.delete("/internal/tenants/{tenant_id}/views/{view_id}", status_code=204)
    async def delete_view(tenant_id: uuid.UUID, view_id: uuid.UUID) -> Response:
        view = world.views.get(view_id)
        if view is None or view["tenant_id"] != str(tenant_id):
            return refuse(404, "not_found", "no such view")
        del world.views[view_id]
        return Response(status_code=204)

    return app


def fake_usercache(world: World) -> FastAPI:
    app = _guarded(world, "usercache")

    @app.get("/internal/tenants/{tenant_id}/users")
    async def users(tenant_id: uuid.UUID) -> Any:
        items = list(world.cached[tenant_id].values())
        return {"items": items, "total": len(items), "page": 1, "page_size": 50}

    @app.delete("/internal/tenants/{tenant_id}/users/{user_id}", status_code=204)
    async def remove(tenant_id: uuid.UUID, user_id: str) -> Response:
        if world.cached[tenant_id].pop(user_id, None) is None:
            return refuse(404, "not_found", "no such user")
        return Response(status_code=204)

    @app.put("/internal/tenants/{tenant_id}/users/{user_id}/role")
    async def role(tenant_id: uuid.UUID, user_id: str, body: dict[str, Any]) -> Any:
        if user_id not in world.cached[tenant_id]:
            return refuse(404, "not_found", "no such user")
        world.cached[tenant_id][user_id]["role"] = body["role"]
        return {"user_id": user_id, "email": None, "role": body["role"]}

    return app


def transports(world: World) -> dict[str, httpx.AsyncBaseTransport]:
    return {
        "auth": httpx.ASGITransport(app=fake_auth(world)),
        "tenants": httpx.ASGITransport(app=fake_tenants(world)),
        "usercache": httpx.ASGITransport(app=fake_usercache(world)),
    }


async def fake_aws_read(account_id: str, credentials: dict[str, Any], region: str) -> dict:
    """Stands in for boto3: echoes whose credentials it was given."""
    return {
        "account_id": account_id,
        "caller": {
            "account": account_id,
            "arn": f"arn:aws:sts::{account_id}:assumed-role/{credentials['role_name']}/u",
        },
        "s3_buckets": 2,
        "ec2_instances": 1,
        "region": region,
    }
