"""The tenants service's internal HTTP API, called by the gateway and auth."""

import uuid

from fastapi import APIRouter, status
from sqlalchemy.exc import IntegrityError

from services.tenants import service
from services.tenants.schemas import TenantCreate, TenantRead
from shared.errors import Conflict
from shared.service import SessionsDep, UnitOfWorkDep

router = APIRouter(prefix="/internal/tenants", tags=["tenants"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_tenant(body: TenantCreate, uow: UnitOfWorkDep) -> TenantRead:
    """Create a tenant in IAM-role mode and announce it with `tenant.created`."""
    try:
        async with uow as session:
            tenant = await service.create_tenant(
                session, name=body.name, root_email=body.root_email
            )
    except IntegrityError:
        # Two sign-ups raced for the same slug; the loser asks the caller to retry.
        raise Conflict("a tenant with this name was created at the same moment; retry") from None
    return TenantRead.model_validate(tenant)


@router.get("/by-slug/{slug}")
async def get_tenant_by_slug(slug: str, sessions: SessionsDep) -> TenantRead:
    """One tenant, found by its URL slug."""
    async with sessions() as session:
        return TenantRead.model_validate(await service.get_tenant_by_slug(session, slug))


@router.get("/{tenant_id}")
async def get_tenant(tenant_id: uuid.UUID, sessions: SessionsDep) -> TenantRead:
    """One tenant's current state: status and mode are the source of truth."""
    async with sessions() as session:
        return TenantRead.model_validate(await service.get_tenant(session, tenant_id))
