"""What each public action does: role checks, then calls to the services behind.

Every call for a signed-in user is signed with that user's identity and addressed to the
tenant of their session; a tenant ID never comes from the browser.
"""

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from services.gateway.schemas import (
    AwsAccountLink,
    LoginRequest,
    RoleChange,
    SignupRequest,
    SsoSettings,
    UserQuery,
    ViewCreate,
)
from services.gateway.sessions import Session
from services.gateway.upstream import GATEWAY, UpstreamFailed, Upstreams
from shared.errors import AppError, Forbidden, NotFound
from shared.logging import get_logger

if TYPE_CHECKING:
    from services.gateway.deps import Gateway

log = get_logger(__name__)


@dataclass(frozen=True)
class SignedIn:
    """What auth hands back on a login: the token (for the cookie only) and the session."""

    token: str
    session: dict[str, Any]


# --- role checks ---------------------------------------------------------------------


def require_writer(session: Session) -> None:
    if not session.can_write:
        raise Forbidden("viewers can look but not change anything; ask an administrator")


def require_admin(session: Session) -> None:
    if not session.is_admin:
        raise Forbidden("only administrators of this Cloudivize account may do this")


def require_root(session: Session) -> None:
    require_admin(session)
    if not session.is_root:
        raise Forbidden("only the root user may disconnect single sign-on")


def _tenant_path(session: Session, rest: str = "") -> str:
    return f"/internal/tenants/{session.tenant_id}{rest}"


# --- sign-up, login, logout ----------------------------------------------------------


async def signup(up: Upstreams, body: SignupRequest) -> SignedIn:
    """Tenant first, then its root user; undo the tenant if the root user fails."""
    tenant = await up.call(
        "tenants",
        "POST",
        "/internal/tenants",
        json={"name": body.company, "root_email": body.email},
    )
    tenant_id = tenant["id"]
    try:
        created = await up.call(
            "auth",
            "POST",
            "/internal/users/root",
            identity=GATEWAY.model_copy(update={"tenant_id": uuid.UUID(tenant_id)}),
            json={"tenant_id": tenant_id, "email": body.email, "password": body.password},
        )
    except AppError:
        await _undo_signup(up, tenant_id)
        raise
    log.info("signup.completed", tenant_id=tenant_id)
    if isinstance(created, dict) and created.get("session_token"):
        return SignedIn(created["session_token"], created["session"])
    return await login(up, LoginRequest(email=body.email, password=body.password))


async def _undo_signup(up: Upstreams, tenant_id: str) -> None:
    try:
        await up.call("tenants", "DELETE", f"/internal/tenants/{tenant_id}/signup")
        log.info("signup.undone", tenant_id=tenant_id)
    except AppError as error:
        # The tenant stays without a root user; the log line is what an operator acts on.
        log.error("signup.undo_failed", tenant_id=tenant_id, error=error.error)


async def login(up: Upstreams, body: LoginRequest) -> SignedIn:
    answer = await up.call("auth", "POST", "/internal/login", json=body.model_dump())
    return SignedIn(answer["session_token"], answer["session"])


async def logout(up: Upstreams, token: str) -> None:
    response = await up.send("auth", "DELETE", "/internal/sessions/current", session_token=token)
    if response.status_code >= 500:
        log.warning("logout.failed", status=response.status_code)


# --- SSO --------------------------------------------------------------------------------


def _slug_path(slug: str, action: str) -> str:
    return f"/internal/sso/{quote(slug, safe='')}/{action}"


async def sso_start(up: Upstreams, slug: str, binding: str) -> dict[str, Any]:
    """A device authorization for this browser; auth keeps the device code."""
    answer = await up.call(
        "auth", "POST", _slug_path(slug, "start"), json={"browser_binding": binding}
    )
    uri = str(answer.get("verification_uri_complete", ""))
    if not uri.startswith(("https://", "http://")):
        raise UpstreamFailed("the sign-in page address from AWS is not usable")
    return answer


async def sso_complete(up: Upstreams, slug: str, attempt_id: str, binding: str) -> SignedIn:
    answer = await up.call(
        "auth",
        "POST",
        _slug_path(slug, "complete"),
        json={"attempt_id": attempt_id, "browser_binding": binding},
    )
    return SignedIn(answer["session_token"], answer["session"])


async def tenant_by_slug(up: Upstreams, slug: str) -> dict[str, Any]:
    return await up.call("tenants", "GET", f"/internal/tenants/by-slug/{quote(slug, safe='')}")


# --- AWS accounts -------------------------------------------------------------------------


async def visible_accounts(up: Upstreams, session: Session) -> list[dict[str, Any]]:
    """SSO users see their grants; password users see the tenant's linked accounts."""
    if session.source == "sso":
        return [
            {"account_id": grant.account_id, "account_name": grant.account_name}
            for grant in session.granted_accounts
        ]
    linked = await up.call(
        "tenants", "GET", _tenant_path(session, "/aws-accounts"), identity=session.identity()
    )
    return [_linked_account(item) for item in _items(linked)]


def _linked_account(item: dict[str, Any]) -> dict[str, Any]:
    account_id = item.get("aws_account_id") or item.get("account_id")
    return {"account_id": account_id, "account_name": item.get("name") or item.get("account_name")}


def _items(answer: Any) -> list[dict[str, Any]]:
    if isinstance(answer, dict):
        answer = answer.get("items") or answer.get("accounts") or answer.get("views") or []
    return [item for item in answer if isinstance(item, dict)]


async def overview(
    gateway: "Gateway",
    session: Session,
    token: str,
    account_id: str,
    region: str,
    allowed: set[str] | None = None,
) -> dict[str, Any]:
    """Caller identity and resource counts, read with this user's own credentials."""
    up = gateway.upstreams
    if allowed is None:
        allowed = {account["account_id"] for account in await visible_accounts(up, session)}
    if account_id not in allowed:
        raise NotFound("no such AWS account among those you may see")
    credentials = await up.call(
        "auth",
        "POST",
        "/internal/sessions/current/aws-credentials",
        identity=session.identity(),
        json={"account_id": account_id},
        session_token=token,
    )
    return await gateway.read_aws(account_id, credentials, region)


# --- saved views ----------------------------------------------------------------------------


async def list_views(up: Upstreams, session: Session) -> list[dict[str, Any]]:
    answer = await up.call(
        "tenants", "GET", _tenant_path(session, "/views"), identity=session.identity()
    )
    return _items(answer)


async def create_view(up: Upstreams, session: Session, body: ViewCreate) -> dict[str, Any]:
    require_writer(session)
    return await up.call(
        "tenants",
        "POST",
        _tenant_path(session, "/views"),
        identity=session.identity(),
        json=body.model_dump(),
    )


async def delete_view(up: Upstreams, session: Session, view_id: uuid.UUID) -> None:
    require_writer(session)
    await up.call(
        "tenants",
        "DELETE",
        _tenant_path(session, f"/views/{view_id}"),
        identity=session.identity(),
    )


# --- account settings ---------------------------------------------------------------------


async def tenant_settings(up: Upstreams, session: Session) -> dict[str, Any]:
    require_admin(session)
    return await up.call("tenants", "GET", _tenant_path(session), identity=session.identity())


async def connect_sso(up: Upstreams, session: Session, body: SsoSettings) -> dict[str, Any]:
    require_admin(session)
    return await up.call(
        "tenants",
        "PUT",
        _tenant_path(session, "/sso"),
        identity=session.identity(),
        json=body.model_dump(exclude_none=True),
    )


async def disconnect_sso(up: Upstreams, session: Session) -> None:
    require_root(session)
    await up.call("tenants", "DELETE", _tenant_path(session, "/sso"), identity=session.identity())
    log.info("sso.disconnected", tenant_id=str(session.tenant_id))


async def aws_link(up: Upstreams, session: Session) -> dict[str, Any]:
    require_admin(session)
    return await up.call(
        "tenants", "GET", _tenant_path(session, "/aws-link"), identity=session.identity()
    )


async def linked_accounts(up: Upstreams, session: Session) -> list[dict[str, Any]]:
    require_admin(session)
    answer = await up.call(
        "tenants", "GET", _tenant_path(session, "/aws-accounts"), identity=session.identity()
    )
    return _items(answer)


async def link_account(up: Upstreams, session: Session, body: AwsAccountLink) -> dict[str, Any]:
    require_admin(session)
    return await up.call(
        "tenants",
        "POST",
        _tenant_path(session, "/aws-accounts"),
        identity=session.identity(),
        json=body.model_dump(exclude_none=True),
    )


async def unlink_account(up: Upstreams, session: Session, account_id: str) -> None:
    require_admin(session)
    await up.call(
        "tenants",
        "DELETE",
        _tenant_path(session, f"/aws-accounts/{account_id}"),
        identity=session.identity(),
    )


async def validate_account(up: Upstreams, session: Session, account_id: str) -> dict[str, Any]:
    require_admin(session)
    return await up.call(
        "tenants",
        "POST",
        _tenant_path(session, f"/aws-accounts/{account_id}/validate"),
        identity=session.identity(),
    )


async def set_status(up: Upstreams, session: Session, action: str) -> dict[str, Any]:
    """`deactivate` or `reactivate` the session's tenant."""
    require_admin(session)
    return await up.call(
        "tenants", "POST", _tenant_path(session, f"/{action}"), identity=session.identity()
    )


# --- Manage Users ---------------------------------------------------------------------------


async def list_users(up: Upstreams, session: Session, query: UserQuery) -> Any:
    require_admin(session)
    return await up.call(
        "usercache",
        "GET",
        _tenant_path(session, "/users"),
        identity=session.identity(),
        params=query.model_dump(exclude_none=True),
    )


async def remove_user(up: Upstreams, session: Session, user_id: str) -> None:
    require_admin(session)
    await up.call(
        "usercache",
        "DELETE",
        _tenant_path(session, f"/users/{quote(user_id, safe='')}"),
        identity=session.identity(),
    )


async def set_role(up: Upstreams, session: Session, user_id: str, body: RoleChange) -> Any:
    require_admin(session)
    return await up.call(
        "usercache",
        "PUT",
        _tenant_path(session, f"/users/{quote(user_id, safe='')}/role"),
        identity=session.identity(),
        json=body.model_dump(),
    )
