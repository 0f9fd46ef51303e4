"""The user cache's internal HTTP API: the Manage Users view, removals and role limits.

Manage Users is a view of who has signed in, not a place to define users: they live in
IAM Identity Center. Callers acting for a user must be an admin of the tenant in the
path; another tenant's users answer 404, as if they did not exist.
"""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response

from services.usercache import repository, service
from services.usercache.schemas import (
    KnownTenantRead,
    RoleLimitCreate,
    RoleLimitRead,
    RoleLimitSet,
    UserRead,
    UsersPage,
)
from shared.errors import Forbidden, NotFound
from shared.identity import IdentityDep
from shared.service import SessionsDep, UnitOfWorkDep

router = APIRouter(prefix="/internal", tags=["usercache"])

UserIdPath = Annotated[str, Path(min_length=1, max_length=200)]


def tenant_in_scope(tenant_id: uuid.UUID, identity: IdentityDep) -> uuid.UUID:
    """The path's tenant, if the caller may act on it."""
    # 404, not 403: a caller from another tenant must not learn that this one exists
    if identity.tenant_id is not None and identity.tenant_id != tenant_id:
        raise NotFound("no such tenant")
    return tenant_id


def admin_tenant(
    tenant_id: Annotated[uuid.UUID, Depends(tenant_in_scope)], identity: IdentityDep
) -> uuid.UUID:
    """The path's tenant, if the caller is a service or one of its admins."""
    if identity.role is not None and identity.role != "admin":
        raise Forbidden("managing users is for the tenant's admins")
    return tenant_id


TenantDep = Annotated[uuid.UUID, Depends(tenant_in_scope)]
AdminTenantDep = Annotated[uuid.UUID, Depends(admin_tenant)]


@router.get("/tenants/{tenant_id}")
async def get_known_tenant(tenant_id: TenantDep, sessions: SessionsDep) -> KnownTenantRead:
    """A tenant the user cache has learned of through `tenant.created`."""
    async with sessions() as session:
        tenant = await repository.get_tenant(session, tenant_id)
    if tenant is None:
        raise NotFound("no such tenant")
    return KnownTenantRead.model_validate(tenant)


@router.get("/tenants/{tenant_id}/users")
async def list_users(
    tenant_id: AdminTenantDep,
    sessions: SessionsDep,
    q: Annotated[str | None, Query(max_length=200, description="Part of a name or email")] = None,
    sort: Literal["name", "email", "role", "first_login_at", "last_login_at"] = "name",
    order: Literal["asc", "desc"] = "asc",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> UsersPage:
    """Manage Users: the tenant's SSO users who have signed in, with role and limit."""
    query = repository.UserQuery(
        search=q.strip() or None if q else None,
        sort=sort,
        descending=order == "desc",
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    async with sessions() as session:
        views, total = await service.list_users(session, tenant_id, query)
    items = [
        UserRead(
            user_id=view.user.user_id,
            name=view.user.name,
            email=view.user.email,
            role=view.role,
            role_limit=view.role_limit,
            blocked=view.blocked,
            first_login_at=view.user.first_login_at,
            last_login_at=view.user.last_login_at,
            login_count=view.user.login_count,
            granted_account_count=view.user.granted_account_count,
        )
        for view in views
    ]
    return UsersPage(
        items=items,
        total=total,
        page=page,
        page_size=page_size,
        default_role=service.DEFAULT_SSO_ROLE,
    )


@router.delete("/tenants/{tenant_id}/users/{user_id}", status_code=204)
async def remove_user(
    tenant_id: AdminTenantDep, user_id: UserIdPath, uow: UnitOfWorkDep
) -> Response:
    """Forget a cached user until their next sign-in; their role limit stays."""
    async with uow as session:
        await service.remove_user(session, tenant_id, user_id)
    return Response(status_code=204)


@router.put("/tenants/{tenant_id}/users/{user_id}/role")
async def limit_user_role(
    tenant_id: AdminTenantDep, user_id: UserIdPath, body: RoleLimitSet, uow: UnitOfWorkDep
) -> RoleLimitRead:
    """Cap a user's role at viewer or author, whether or not they have signed in yet."""
    async with uow as session:
        await service.limit_role(session, tenant_id, user_id=user_id, role=body.role)
    return RoleLimitRead(user_id=user_id, email=None, role=body.role)


@router.put("/tenants/{tenant_id}/role-limits")
async def put_role_limit(
    tenant_id: AdminTenantDep, body: RoleLimitCreate, uow: UnitOfWorkDep
) -> RoleLimitRead:
    """Cap the role of a user named by user ID or email, before or after they sign in."""
    email = body.email.lower() if body.email else None
    async with uow as session:
        await service.limit_role(
            session, tenant_id, user_id=body.user_id, email=email, role=body.role
        )
    return RoleLimitRead(user_id=body.user_id, email=email, role=body.role)
