import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.usercache.models import KnownTenant


async def get_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> KnownTenant | None:
    return await session.get(KnownTenant, tenant_id)
