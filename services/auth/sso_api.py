"""Internal routes of the SSO login and of per-user AWS credentials."""

import re

from fastapi import APIRouter

from services.auth import credentials, sessions, sso
from services.auth.api import DepsDep, SessionTokenDep, signed_in
from services.auth.errors import InvalidSession, UnknownTenant
from services.auth.schemas import (
    AwsCredentials,
    CredentialsRequest,
    SignedIn,
    SsoComplete,
    SsoStart,
    SsoStarted,
)
from shared.service import UnitOfWorkDep

router = APIRouter(prefix="/internal", tags=["sso"])

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def _checked(slug: str) -> str:
    if not SLUG.match(slug):
        raise UnknownTenant("no tenant has this address")
    return slug


@router.post("/sso/{slug}/start")
async def start_sso(slug: str, body: SsoStart, uow: UnitOfWorkDep, deps: DepsDep) -> SsoStarted:
    """Start "Approve access": a device authorization whose code stays in this service."""
    return await sso.start(lambda: uow, deps, _checked(slug), body.browser_binding)


@router.post("/sso/{slug}/complete")
async def complete_sso(slug: str, body: SsoComplete, uow: UnitOfWorkDep, deps: DepsDep) -> SignedIn:
    """ "Continue": one token check; a session, or why not yet (409, 410, 403, 429)."""
    token, row = await sso.complete(
        lambda: uow, deps, _checked(slug), body.attempt_id, body.browser_binding
    )
    return signed_in(token, row)


@router.post("/sessions/current/aws-credentials")
async def aws_credentials(
    body: CredentialsRequest, uow: UnitOfWorkDep, deps: DepsDep, token: SessionTokenDep = None
) -> AwsCredentials:
    """Short-lived credentials for one granted AWS account of the current session."""
    async with uow as db:
        found = await sessions.resolve(db, deps, token)
    if found.session is None:
        raise InvalidSession(found.reason)
    async with uow as db:
        row = await db.merge(found.session)
        issued = await credentials.for_account(db, deps, row, body.account_id, body.role_name)
    if issued is None:
        raise InvalidSession("your AWS sign-in has ended; sign in again")
    return issued
