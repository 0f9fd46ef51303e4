"""The auth service's internal HTTP API, called by the gateway."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response, status
from sqlalchemy.orm.exc import StaleDataError

from services.auth import service, sessions
from services.auth.deps import AuthDeps
from services.auth.errors import InvalidCredentials, InvalidSession
from services.auth.schemas import PasswordLogin, RootUserCreate, SessionRead, SignedIn
from shared.service import UnitOfWorkDep

router = APIRouter(prefix="/internal", tags=["auth"])

SESSION_HEADER = "X-Cloudivize-Session"


def _deps(request: Request) -> AuthDeps:
    return request.app.state.auth


DepsDep = Annotated[AuthDeps, Depends(_deps)]
SessionTokenDep = Annotated[str | None, Header(alias=SESSION_HEADER)]


def signed_in(token: str, row: object) -> SignedIn:
    return SignedIn(session_token=token, session=SessionRead.model_validate(row))


@router.post("/users/root", status_code=status.HTTP_201_CREATED)
async def create_root_user(body: RootUserCreate, uow: UnitOfWorkDep, deps: DepsDep) -> SignedIn:
    """Create a new tenant's root user at sign-up and sign them in."""
    tenant = await deps.tenants.get(body.tenant_id)
    async with uow as db:
        token, row = await service.create_root_user(db, deps, tenant, body.email, body.password)
    return signed_in(token, row)


@router.post("/login")
async def login(body: PasswordLogin, uow: UnitOfWorkDep, deps: DepsDep) -> SignedIn:
    """Sign a local user in with email and password."""
    async with uow as db:
        user = await service.check_password(db, deps, body.email, body.password)
    # The failure was counted and committed above; only now is it reported.
    if user is None:
        raise InvalidCredentials(service.WRONG_CREDENTIALS)
    async with uow as db:
        token, row = await service.open_password_session(db, deps, user)
    return signed_in(token, row)


@router.get("/sessions/current")
async def current_session(
    uow: UnitOfWorkDep, deps: DepsDep, token: SessionTokenDep = None
) -> SessionRead:
    """The session behind `X-Cloudivize-Session`, renewed; 401 once it has ended."""
    try:
        async with uow as db:
            found = await sessions.resolve(db, deps, token)
            read = SessionRead.model_validate(found.session) if found.session else None
    except StaleDataError:
        # Ended (logout, revocation) between reading the row and renewing it.
        raise InvalidSession("this session has ended") from None
    if read is None:
        raise InvalidSession(found.reason)
    return read


@router.delete("/sessions/current", status_code=status.HTTP_204_NO_CONTENT)
async def logout(uow: UnitOfWorkDep, deps: DepsDep, token: SessionTokenDep = None) -> Response:
    """End the session behind `X-Cloudivize-Session` (and its AWS portal session)."""
    async with uow as db:
        ended = await sessions.end_by_token(db, deps, token)
    if not ended:
        raise InvalidSession("this session does not exist or has ended")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
