"""Tenant use cases. Functions change state in the caller's transaction and never commit."""

import re
import unicodedata
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.tenants import repository
from services.tenants.models import Tenant
from shared.errors import NotFound
from shared.events import TenantCreated
from shared.outbox import record_event

SLUG_MAX = 40


def slugify(name: str) -> str:
    """A URL-safe slug: ASCII letters and digits joined by single hyphens."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-") or "tenant"


async def unique_slug(session: AsyncSession, name: str) -> str:
    base = slugify(name)
    taken = await repository.slugs_like(session, base)
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


async def create_tenant(session: AsyncSession, *, name: str, root_email: str) -> Tenant:
    tenant = Tenant(id=uuid.uuid4(), name=name, root_email=root_email.lower())
    tenant.slug = await unique_slug(session, name)
    session.add(tenant)
    await session.flush()

    record_event(session, TenantCreated(name=tenant.name, slug=tenant.slug), tenant.id)
    return tenant


async def get_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    tenant = await repository.get(session, tenant_id)
    if tenant is None:
        raise NotFound("no such tenant")
    return tenant


async def get_tenant_by_slug(session: AsyncSession, slug: str) -> Tenant:
    tenant = await repository.get_by_slug(session, slug)
    if tenant is None:
        raise NotFound("no such tenant")
    return tenant
