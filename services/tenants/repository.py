import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.tenants.models import Tenant


async def get(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant | None:
    return await session.get(Tenant, tenant_id)


async def get_by_slug(session: AsyncSession, slug: str) -> Tenant | None:
    return await session.scalar(select(Tenant).where(Tenant.slug == slug))


async def slugs_like(session: AsyncSession, base: str) -> set[str]:
    result = await session.scalars(
        select(Tenant.slug).where((Tenant.slug == base) | Tenant.slug.startswith(f"{base}-"))
    )
    return set(result)
