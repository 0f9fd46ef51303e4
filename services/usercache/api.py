"""The user cache's internal HTTP API."""

import uuid

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from services.usercache import repository
from shared.errors import NotFound
from shared.service import SessionsDep

router = APIRouter(prefix="/internal", tags=["usercache"])


class KnownTenantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    slug: str


@router.get("/tenants/{tenant_id}")
async def get_known_tenant(tenant_id: uuid.UUID, sessions: SessionsDep) -> KnownTenantRead:
    """A tenant the user cache has learned of through `tenant.created`."""
    async with sessions() as session:
        tenant = await repository.get_tenant(session, tenant_id)
    if tenant is None:
        raise NotFound("no such tenant")
    return KnownTenantRead.model_validate(tenant)
