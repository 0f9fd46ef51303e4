"""The server-rendered pages. Forms post back here; each action redirects after success
(so a reload never repeats it) and re-renders its form with the reason when refused."""

import asyncio
import secrets
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from services.gateway import service
from services.gateway.api import AccountId, Slug, UserId, pending_attempt, remember_attempt
from services.gateway.deps import (
    GatewayDep,
    MaybeSessionDep,
    SessionDep,
    client_address,
    session_token,
)
from services.gateway.schemas import (
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
from services.gateway.sessions import Session
from services.gateway.templates import page
from shared.errors import AppError

router = APIRouter(include_in_schema=False)

Field_ = Annotated[str, Form(max_length=2000)]
Optional = Annotated[str | None, Form(max_length=2000)]

NOTICES = {
    "sso_connected": "Single sign-on is connected. Users can sign in from the AWS access portal.",
    "sso_disconnected": "Single sign-on was disconnected. The account is back in IAM-role mode.",
    "account_linked": "The AWS account was linked.",
    "account_unlinked": "The AWS account was unlinked.",
    "account_validated": "The AWS account's role was checked again.",
    "deactivated": "The account was deactivated. Its users can no longer sign in.",
    "reactivated": "The account was reactivated.",
    "user_removed": "The user's cached details were removed.",
    "role_limited": "The user's role was limited.",
    "view_created": "The view was saved.",
    "view_deleted": "The view was deleted.",
}


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def notice(done: str | None) -> str | None:
    return NOTICES.get(done or "")


def problem_of(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "form"
    return f"{field.replace('_', ' ')}: {first['msg']}"


def signed_in(request: Request, signed: service.SignedIn, target: str = "/") -> Response:
    response = see_other(target)
    set_cookie(response, request, SESSION_COOKIE, signed.token)
    return response


# --- sign-up and login ---------------------------------------------------------------


@router.get("/signup")
async def signup_page(request: Request, session: MaybeSessionDep) -> HTMLResponse:
    """Sign-up form."""
    return page(request, "signup.html", session=session, title="Sign up", values={})


@router.post("/signup")
async def signup_form(
    request: Request,
    gateway: GatewayDep,
    company: Field_ = "",
    email: Field_ = "",
    password: Field_ = "",
) -> Response:
    values = {"company": company, "email": email}
    try:
        gateway.limiter.check("signup", client_address(request))
        body = SignupRequest(company=company, email=email, password=password)
        signed = await service.signup(gateway.upstreams, body)
    except ValidationError as error:
        return _form_again(request, "signup.html", "Sign up", problem_of(error), 422, values)
    except AppError as error:
        return _form_again(
            request, "signup.html", "Sign up", error.detail, int(error.status_code), values
        )
    return signed_in(request, signed)


def _form_again(
    request: Request,
    template: str,
    title: str,
    error: str,
    status: int,
    values: dict[str, Any],
    **context: Any,
) -> HTMLResponse:
    return page(
        request, template, status=status, title=title, error=error, values=values, **context
    )


@router.get("/login")
async def login_page(request: Request, session: MaybeSessionDep) -> HTMLResponse:
    """Password login form."""
    return page(request, "login.html", session=session, title="Sign in", values={})


@router.post("/login")
async def login_form(
    request: Request, gateway: GatewayDep, email: Field_ = "", password: Field_ = ""
) -> Response:
    values = {"email": email}
    try:
        gateway.limiter.check("login", client_address(request))
        signed = await service.login(
            gateway.upstreams, LoginRequest(email=email, password=password)
        )
    except ValidationError as error:
        return _form_again(request, "login.html", "Sign in", problem_of(error), 422, values)
    except AppError as error:
        return _form_again(
            request, "login.html", "Sign in", error.detail, int(error.status_code), values
        )
    return signed_in(request, signed)


@router.post("/logout")
async def logout_form(request: Request, gateway: GatewayDep) -> Response:
    token = session_token(request)
    if token is not None:
        await service.logout(gateway.upstreams, token)
        gateway.sessions.forget(token)
    response = see_other("/login")
    clear_cookie(response, request, SESSION_COOKIE)
    return response


# --- SSO landing ---------------------------------------------------------------------------

SSO_OUTCOMES = {
    "authorization_pending": (
        "AWS has not been told yet that you approve.",
        "Finish in the AWS tab (press Allow access there), then press Continue to Cloudivize.",
    ),
    "expired": (
        "This sign-in attempt has expired.",
        "Press Approve access to Cloudivize to start again.",
    ),
    "denied": (
        "The request was denied at AWS.",
        "If that was a mistake, press Approve access to Cloudivize and allow it this time.",
    ),
    "deactivated": (
        "This Cloudivize account is deactivated.",
        "Ask your company's Cloudivize administrator to reactivate it.",
    ),
    "not_sso": (
        "This Cloudivize account does not use single sign-on.",
        "Sign in with your email and password instead.",
    ),
    "slow_down": (
        "AWS asks to wait a few seconds between checks.",
        "Wait a moment, then press Continue to Cloudivize again.",
    ),
    "used": (
        "This sign-in attempt was already used.",
        "Press Approve access to Cloudivize to start again.",
    ),
    "unknown_attempt": (
        "This sign-in attempt is not known any more.",
        "Press Approve access to Cloudivize to start again.",
    ),
    "no_access": (
        "AWS did not grant you access to any account for Cloudivize.",
        "Ask your AWS administrator to assign you an account in IAM Identity Center.",
    ),
    "no_sso_attempt": (
        "No sign-in was started in this browser.",
        "Press Approve access to Cloudivize first.",
    ),
}


def _outcome(error: AppError) -> tuple[str, str]:
    if error.error in SSO_OUTCOMES:
        return SSO_OUTCOMES[error.error]
    if int(error.status_code) == 410:
        return SSO_OUTCOMES["expired"]
    if int(error.status_code) == 409:
        return SSO_OUTCOMES["authorization_pending"]
    return (error.detail, "Try again, or ask your administrator.")


@router.get("/sso/{tenant_slug}")
async def sso_landing(tenant_slug: Slug, request: Request, gateway: GatewayDep) -> HTMLResponse:
    """Where the AWS access portal sends a user: approve at AWS, then continue here."""
    tenant = await service.tenant_by_slug(gateway.upstreams, tenant_slug)
    return _landing(request, tenant)


def _landing(
    request: Request,
    tenant: dict[str, Any],
    outcome: tuple[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "sso.html",
        status=status,
        title=f"Sign in to {tenant['name']}",
        tenant=tenant,
        outcome=outcome,
    )


@router.post("/sso/{tenant_slug}/start")
async def sso_start_form(tenant_slug: Slug, request: Request, gateway: GatewayDep) -> Response:
    """Opens in a new tab: starts the device authorization and sends the tab to AWS."""
    gateway.limiter.check("sso_start", client_address(request))
    binding = secrets.token_urlsafe(32)
    answer = await service.sso_start(gateway.upstreams, tenant_slug, binding)
    response = page(
        request,
        "sso_redirect.html",
        title="Opening AWS",
        verification_uri=answer["verification_uri_complete"],
        user_code=answer.get("user_code"),
    )
    remember_attempt(response, request, gateway, binding, answer["attempt_id"])
    return response


@router.post("/sso/{tenant_slug}/complete")
async def sso_complete_form(tenant_slug: Slug, request: Request, gateway: GatewayDep) -> Response:
    """Continue to Cloudivize: redeem the approval and sign in."""
    tenant = await service.tenant_by_slug(gateway.upstreams, tenant_slug)
    try:
        attempt_id, binding = pending_attempt(request)
        signed = await service.sso_complete(gateway.upstreams, tenant_slug, attempt_id, binding)
    except AppError as error:
        status = int(error.status_code)
        if status >= 500:
            raise
        return _landing(request, tenant, _outcome(error), status)
    response = signed_in(request, signed)
    clear_cookie(response, request, SSO_BINDING_COOKIE)
    clear_cookie(response, request, SSO_ATTEMPT_COOKIE)
    return response


# --- home ------------------------------------------------------------------------------------


@router.get("/")
async def home(request: Request, session: SessionDep, gateway: GatewayDep) -> HTMLResponse:
    """The AWS accounts this user may see, each read with the user's own credentials."""
    accounts = await service.visible_accounts(gateway.upstreams, session)
    token = session_token(request) or ""
    allowed = {account["account_id"] for account in accounts}
    overviews = await asyncio.gather(
        *(_overview(gateway, session, token, a["account_id"], allowed) for a in accounts)
    )
    rows = [{**a, **o} for a, o in zip(accounts, overviews, strict=True)]
    return page(request, "home.html", session=session, title="Your AWS accounts", accounts=rows)


async def _overview(
    gateway: GatewayDep, session: Session, token: str, account_id: str, allowed: set[str]
) -> dict[str, Any]:
    try:
        overview = await service.overview(gateway, session, token, account_id, "us-east-1", allowed)
    except AppError as error:
        return {"problem": error.detail}
    return {"overview": overview}


# --- saved views ---------------------------------------------------------------------------


@router.get("/views")
async def views_page(
    request: Request,
    session: SessionDep,
    gateway: GatewayDep,
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """Saved diagram views; authors and admins may add and delete."""
    views = await service.list_views(gateway.upstreams, session)
    return page(
        request,
        "views.html",
        session=session,
        title="Saved views",
        views=views,
        notice=notice(done),
        values={},
    )


@router.post("/views")
async def create_view_form(
    request: Request,
    session: SessionDep,
    gateway: GatewayDep,
    name: Field_ = "",
    aws_account_id: Field_ = "",
    region: Field_ = "",
) -> Response:
    values = {"name": name, "aws_account_id": aws_account_id, "region": region}
    try:
        body = ViewCreate(name=name, aws_account_id=aws_account_id, region=region)
        await service.create_view(gateway.upstreams, session, body)
    except ValidationError as error:
        return await _views_again(request, session, gateway, problem_of(error), 422, values)
    except AppError as error:
        if int(error.status_code) >= 500:
            raise
        return await _views_again(
            request, session, gateway, error.detail, int(error.status_code), values
        )
    return see_other("/views?done=view_created")


async def _views_again(
    request: Request,
    session: Session,
    gateway: GatewayDep,
    error: str,
    status: int,
    values: dict[str, str],
) -> HTMLResponse:
    views = await service.list_views(gateway.upstreams, session)
    return page(
        request,
        "views.html",
        status=status,
        session=session,
        title="Saved views",
        views=views,
        error=error,
        values=values,
    )


@router.post("/views/{view_id}/delete")
async def delete_view_form(
    view_id: uuid.UUID, session: SessionDep, gateway: GatewayDep
) -> Response:
    await service.delete_view(gateway.upstreams, session, view_id)
    return see_other("/views?done=view_deleted")


# --- account settings --------------------------------------------------------------------


@router.get("/settings")
async def settings_page(
    request: Request,
    session: SessionDep,
    gateway: GatewayDep,
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """Account settings: SSO, AWS account links, status (admins)."""
    return await _settings(request, session, gateway, notice=notice(done))


async def _settings(
    request: Request,
    session: Session,
    gateway: GatewayDep,
    *,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    tenant = await service.tenant_settings(gateway.upstreams, session)
    link = await service.aws_link(gateway.upstreams, session)
    accounts = await service.linked_accounts(gateway.upstreams, session)
    return page(
        request,
        "settings.html",
        status=status,
        session=session,
        title="Account settings",
        tenant=tenant,
        link=link,
        accounts=accounts,
        **context,
    )


@router.post("/settings/sso")
async def sso_settings_form(
    request: Request,
    session: SessionDep,
    gateway: GatewayDep,
    sso: Optional = None,
    start_url: Field_ = "",
    region: Field_ = "",
    identity_store_id: Field_ = "",
    management_role_arn: Field_ = "",
    default_role: Field_ = "author",
) -> Response:
    if not sso:
        service.require_root(session)
        return see_other("/settings/sso/disconnect")
    try:
        body = SsoSettings(
            start_url=start_url,
            region=region,
            identity_store_id=identity_store_id or None,
            management_role_arn=management_role_arn or None,
            default_role=default_role,  # type: ignore[arg-type]
        )
        await service.connect_sso(gateway.upstreams, session, body)
    except ValidationError as error:
        return await _settings(request, session, gateway, status=422, sso_error=problem_of(error))
    except AppError as error:
        if int(error.status_code) >= 500:
            raise
        return await _settings(
            request, session, gateway, status=int(error.status_code), sso_error=error.detail
        )
    return see_other("/settings?done=sso_connected")


@router.get("/settings/sso/disconnect")
async def disconnect_page(request: Request, session: SessionDep) -> HTMLResponse:
    """Confirmation before single sign-on is disconnected (root only)."""
    service.require_root(session)
    return page(
        request,
        "confirm.html",
        session=session,
        title="Disconnect single sign-on",
        action="/settings/sso/disconnect",
        button="Disconnect SSO and delete users",
        paragraphs=[
            "All SSO configuration and all users will be deleted.",
            "SSO users will no longer be able to use this Cloudivize account.",
            "The account goes back to IAM-role mode.",
        ],
    )


@router.post("/settings/sso/disconnect")
async def disconnect_form(session: SessionDep, gateway: GatewayDep) -> Response:
    await service.disconnect_sso(gateway.upstreams, session)
    return see_other("/settings?done=sso_disconnected")


@router.post("/settings/aws-accounts")
async def link_form(
    request: Request,
    session: SessionDep,
    gateway: GatewayDep,
    aws_account_id: Field_ = "",
    role_arn: Field_ = "",
) -> Response:
    try:
        body = AwsAccountLink(aws_account_id=aws_account_id, role_arn=role_arn)
        await service.link_account(gateway.upstreams, session, body)
    except ValidationError as error:
        return await _settings(request, session, gateway, status=422, link_error=problem_of(error))
    except AppError as error:
        if int(error.status_code) >= 500:
            raise
        return await _settings(
            request, session, gateway, status=int(error.status_code), link_error=error.detail
        )
    return see_other("/settings?done=account_linked")


@router.post("/settings/aws-accounts/{account_id}/delete")
async def unlink_form(account_id: AccountId, session: SessionDep, gateway: GatewayDep) -> Response:
    await service.unlink_account(gateway.upstreams, session, account_id)
    return see_other("/settings?done=account_unlinked")


@router.post("/settings/aws-accounts/{account_id}/validate")
async def validate_form(
    account_id: AccountId, session: SessionDep, gateway: GatewayDep
) -> Response:
    await service.validate_account(gateway.upstreams, session, account_id)
    return see_other("/settings?done=account_validated")


STATUS_CONFIRMATIONS = {
    "deactivate": (
        "Deactivate this Cloudivize account",
        [
            "None of its users will be able to sign in, and every live session stops working.",
            "The root user can still sign in to reactivate it.",
        ],
    ),
    "reactivate": (
        "Reactivate this Cloudivize account",
        ["Its users will be able to sign in again."],
    ),
}


def _confirm_status(request: Request, session: Session, action: str) -> HTMLResponse:
    service.require_admin(session)
    title, paragraphs = STATUS_CONFIRMATIONS[action]
    return page(
        request,
        "confirm.html",
        session=session,
        title=title,
        action=f"/settings/{action}",
        button=title.split(" ")[0],
        paragraphs=paragraphs,
    )


@router.get("/settings/deactivate")
async def deactivate_page(request: Request, session: SessionDep) -> HTMLResponse:
    """Confirmation before the account is deactivated (admins)."""
    return _confirm_status(request, session, "deactivate")


@router.get("/settings/reactivate")
async def reactivate_page(request: Request, session: SessionDep) -> HTMLResponse:
    """Confirmation before the account is reactivated (admins)."""
    return _confirm_status(request, session, "reactivate")


@router.post("/settings/deactivate")
async def deactivate_form(session: SessionDep, gateway: GatewayDep) -> Response:
    await service.set_status(gateway.upstreams, session, "deactivate")
    return see_other("/settings?done=deactivated")


@router.post("/settings/reactivate")
async def reactivate_form(session: SessionDep, gateway: GatewayDep) -> Response:
    await service.set_status(gateway.upstreams, session, "reactivate")
    return see_other("/settings?done=reactivated")


# --- Manage Users --------------------------------------------------------------------------


@router.get("/settings/users")
async def users_page(
    request: Request,
    session: SessionDep,
    gateway: GatewayDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """The cached SSO users; remove and role limits (admins)."""
    answer = await service.list_users(
        gateway.upstreams, session, UserQuery(q=q or None, page=page_number)
    )
    users = answer.get("items", answer.get("users", [])) if isinstance(answer, dict) else answer
    return page(
        request,
        "users.html",
        session=session,
        title="Manage users",
        users=users,
        q=q or "",
        notice=notice(done),
        total=_total(answer),
    )


def _total(answer: Any) -> int | None:
    return answer.get("total") if isinstance(answer, dict) else None


@router.post("/settings/users/{user_id}/remove")
async def remove_user_form(user_id: UserId, session: SessionDep, gateway: GatewayDep) -> Response:
    await service.remove_user(gateway.upstreams, session, user_id)
    return see_other("/settings/users?done=user_removed")


@router.post("/settings/users/{user_id}/role")
async def role_form(
    user_id: UserId, session: SessionDep, gateway: GatewayDep, role: Field_ = ""
) -> Response:
    try:
        body = RoleChange(role=role)  # type: ignore[arg-type]
    except ValidationError:
        raise AppError("role must be viewer or author", error="invalid_request") from None
    await service.set_role(gateway.upstreams, session, user_id, body)
    return see_other("/settings/users?done=role_limited")
