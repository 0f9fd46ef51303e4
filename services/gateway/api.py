"""The public JSON API under /api: what browsers' scripts and outside clients call."""

import secrets
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status

from services.gateway import service
from services.gateway.deps import GatewayDep, SessionDep, client_address, session_token
from services.gateway.schemas import (
    ACCOUNT_ID,
    REGION,
    AwsAccountLink,
    LoginRequest,
    RoleChange,
    SignupRequest,
    SsoSettings,
    UserQuery,
    ViewCreate,
)
from services.gateway.security import (
    SESSION_COOKIE,
    SSO_ATTEMPT_COOKIE,
    SSO_BINDING_COOKIE,
    clear_cookie,
    set_cookie,
)
from services.gateway.sessions import NotSignedIn
from shared.errors import AppError

router = APIRouter(prefix="/api", tags=["api"])

Slug = Annotated[str, Path(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")]
AccountId = Annotated[str, Path(pattern=ACCOUNT_ID)]
UserId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[\w.@+:=-]+$")]


def start_session(
    response: Response, request: Request, signed_in: service.SignedIn
) -> dict[str, Any]:
    """Put the session token in its cookie (never in a body or URL) and answer the session."""
    set_cookie(response, request, SESSION_COOKIE, signed_in.token)
    return {"session": signed_in.session}


@router.post("/signup", status_code=status.HTTP_201_CREATED)
async def signup(
    body: SignupRequest, request: Request, response: Response, gateway: GatewayDep
) -> dict[str, Any]:
    """Create a company's Cloudivize account and its root user, and sign the root user in."""
    gateway.limiter.check("signup", client_address(request))
    signed_in = await service.signup(gateway.upstreams, body)
    return start_session(response, request, signed_in)


@router.post("/login")
async def login(
    body: LoginRequest, request: Request, response: Response, gateway: GatewayDep
) -> dict[str, Any]:
    """Sign in with email and password."""
    gateway.limiter.check("login", client_address(request))
    signed_in = await service.login(gateway.upstreams, body)
    return start_session(response, request, signed_in)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, gateway: GatewayDep) -> Response:
    """End this browser's session."""
    token = session_token(request)
    if token is None:
        raise NotSignedIn("there is no session to end")
    await service.logout(gateway.upstreams, token)
    gateway.sessions.forget(token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_cookie(response, request, SESSION_COOKIE)
    return response


@router.post("/sso/{tenant_slug}/start")
async def sso_start(
    tenant_slug: Slug, request: Request, response: Response, gateway: GatewayDep
) -> dict[str, Any]:
    """Start an AWS IAM Identity Center sign-in; the device code stays on the server."""
    gateway.limiter.check("sso_start", client_address(request))
    binding = secrets.token_urlsafe(32)
    answer = await service.sso_start(gateway.upstreams, tenant_slug, binding)
    remember_attempt(response, request, gateway, binding, answer["attempt_id"])
    keys = ("user_code", "verification_uri_complete", "expires_in", "interval")
    return {key: answer.get(key) for key in keys}


def remember_attempt(
    response: Response, request: Request, gateway: GatewayDep, binding: str, attempt_id: str
) -> None:
    """Tie the attempt to this browser: only it can complete the sign-in it started."""
    age = gateway.settings.sso_attempt_seconds
    set_cookie(response, request, SSO_BINDING_COOKIE, binding, max_age=age)
    set_cookie(response, request, SSO_ATTEMPT_COOKIE, str(attempt_id), max_age=age)


def pending_attempt(request: Request) -> tuple[str, str]:
    binding = request.cookies.get(SSO_BINDING_COOKIE)
    attempt_id = request.cookies.get(SSO_ATTEMPT_COOKIE)
    if not binding or not attempt_id:
        raise AppError(
            "no sign-in was started in this browser; press Approve access first",
            error="no_sso_attempt",
        )
    return attempt_id, binding


@router.post("/sso/{tenant_slug}/complete")
async def sso_complete(
    tenant_slug: Slug, request: Request, response: Response, gateway: GatewayDep
) -> dict[str, Any]:
    """Finish the sign-in once the user approved it at AWS; 409 while still pending."""
    attempt_id, binding = pending_attempt(request)
    signed_in = await service.sso_complete(gateway.upstreams, tenant_slug, attempt_id, binding)
    clear_cookie(response, request, SSO_BINDING_COOKIE)
    clear_cookie(response, request, SSO_ATTEMPT_COOKIE)
    return start_session(response, request, signed_in)


@router.get("/me")
async def me(session: SessionDep) -> dict[str, Any]:
    """The signed-in user, their tenant, role and mode."""
    return session.model_dump(mode="json", exclude={"granted_accounts"})


@router.get("/aws/accounts")
async def aws_accounts(session: SessionDep, gateway: GatewayDep) -> dict[str, Any]:
    """The AWS accounts this user may see."""
    return {"accounts": await service.visible_accounts(gateway.upstreams, session)}


@router.get("/aws/accounts/{account_id}/overview")
async def aws_account_overview(
    account_id: AccountId,
    request: Request,
    session: SessionDep,
    gateway: GatewayDep,
    region: Annotated[str, Query(pattern=REGION, max_length=30)] = "us-east-1",
) -> dict[str, Any]:
    """Caller identity and S3/EC2 counts, read with this user's own credentials."""
    token = session_token(request) or ""
    return await service.overview(gateway, session, token, account_id, region)


@router.get("/views")
async def list_views(session: SessionDep, gateway: GatewayDep) -> dict[str, Any]:
    """The tenant's saved diagram views."""
    return {"views": await service.list_views(gateway.upstreams, session)}


@router.post("/views", status_code=status.HTTP_201_CREATED)
async def create_view(body: ViewCreate, session: SessionDep, gateway: GatewayDep) -> Any:
    """Save a diagram view (authors and admins)."""
    return await service.create_view(gateway.upstreams, session, body)


@router.delete("/views/{view_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_view(view_id: uuid.UUID, session: SessionDep, gateway: GatewayDep) -> None:
    """Delete a saved view (authors and admins)."""
    await service.delete_view(gateway.upstreams, session, view_id)


@router.get("/settings")
async def get_settings(session: SessionDep, gateway: GatewayDep) -> Any:
    """The tenant's status, mode and SSO settings (admins)."""
    return await service.tenant_settings(gateway.upstreams, session)


@router.put("/settings/sso")
async def put_sso(body: SsoSettings, session: SessionDep, gateway: GatewayDep) -> Any:
    """Switch the tenant to AWS IAM Identity Center, or change its start URL and region."""
    return await service.connect_sso(gateway.upstreams, session, body)


@router.delete("/settings/sso", status_code=status.HTTP_204_NO_CONTENT)
async def delete_sso(session: SessionDep, gateway: GatewayDep) -> None:
    """Disconnect SSO: deletes its settings and every cached SSO user (root only)."""
    await service.disconnect_sso(gateway.upstreams, session)


@router.get("/settings/aws-link")
async def get_aws_link(session: SessionDep, gateway: GatewayDep) -> Any:
    """Cloudivize's principal, the tenant's external ID and the role template (admins)."""
    link = await service.aws_link(gateway.upstreams, session)
    accounts = await service.linked_accounts(gateway.upstreams, session)
    return {**link, "accounts": accounts}


@router.post("/settings/aws-accounts", status_code=status.HTTP_201_CREATED)
async def link_aws_account(body: AwsAccountLink, session: SessionDep, gateway: GatewayDep) -> Any:
    """Link an AWS account; the role is validated at once (admins)."""
    return await service.link_account(gateway.upstreams, session, body)


@router.delete("/settings/aws-accounts/{account_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unlink_aws_account(
    account_id: AccountId, session: SessionDep, gateway: GatewayDep
) -> None:
    """Unlink an AWS account (admins)."""
    await service.unlink_account(gateway.upstreams, session, account_id)


@router.post("/settings/aws-accounts/{account_id}/validate")
async def validate_aws_account(
    account_id: AccountId, session: SessionDep, gateway: GatewayDep
) -> Any:
    """Check a linked account's role again (admins)."""
    return await service.validate_account(gateway.upstreams, session, account_id)


@router.post("/settings/deactivate")
async def deactivate(session: SessionDep, gateway: GatewayDep) -> Any:
    """Deactivate the tenant: nobody can sign in and live sessions stop (admins)."""
    return await service.set_status(gateway.upstreams, session, "deactivate")


@router.post("/settings/reactivate")
async def reactivate(session: SessionDep, gateway: GatewayDep) -> Any:
    """Reactivate the tenant (admins)."""
    return await service.set_status(gateway.upstreams, session, "reactivate")


@router.get("/users")
async def list_users(
    query: Annotated[UserQuery, Query()], session: SessionDep, gateway: GatewayDep
) -> Any:
    """The cached SSO users of the tenant (admins)."""
    return await service.list_users(gateway.upstreams, session, query)


@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_user(user_id: UserId, session: SessionDep, gateway: GatewayDep) -> None:
    """Forget a user's cached details; their next login caches them again (admins)."""
    await service.remove_user(gateway.upstreams, session, user_id)


@router.put("/users/{user_id}/role")
async def set_user_role(
    user_id: UserId, body: RoleChange, session: SessionDep, gateway: GatewayDep
) -> Any:
    """Limit a user's Cloudivize role to viewer or author (admins)."""
    return await service.set_role(gateway.upstreams, session, user_id, body)
