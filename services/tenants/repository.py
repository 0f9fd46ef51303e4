import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.tenants.models import AuditEntry, AwsAccountLink, SavedView, SsoSettings, Tenant


async def get(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant | None:
    return await session.get(Tenant, tenant_id)


async def lock(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant | None:
    """The tenant row, locked until the transaction ends.

    SQLite ignores FOR UPDATE; a no-op write as the transaction's first statement takes
    its database-wide write lock instead, so concurrent changes still serialize there.
    """
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(
            update(Tenant).where(Tenant.id == tenant_id).values(updated_at=Tenant.updated_at)
        )
    return await session.scalar(
        select(Tenant)
        .where(Tenant.id == tenant_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def get_by_slug(session: AsyncSession, slug: str) -> Tenant | None:
    return await session.scalar(select(Tenant).where(Tenant.slug == slug))


async def slugs_like(session: AsyncSession, base: str) -> set[str]:
    result = await session.scalars(
        select(Tenant.slug).where((Tenant.slug == base) | Tenant.slug.startswith(f"{base}-"))
    )
    return set(result)


async def sso_settings(session: AsyncSession, tenant_id: uuid.UUID) -> SsoSettings | None:
    return await session.get(SsoSettings, tenant_id, populate_existing=True)


async def link(session: AsyncSession, tenant_id: uuid.UUID, account: str) -> AwsAccountLink | None:
    return await session.get(AwsAccountLink, (tenant_id, account), populate_existing=True)


async def links(session: AsyncSession, tenant_id: uuid.UUID) -> Sequence[AwsAccountLink]:
    result = await session.scalars(
        select(AwsAccountLink)
        .where(AwsAccountLink.tenant_id == tenant_id)
        .order_by(AwsAccountLink.aws_account_id)
    )
    return result.all()


async def views(session: AsyncSession, tenant_id: uuid.UUID) -> Sequence[SavedView]:
    result = await session.scalars(
        select(SavedView).where(SavedView.tenant_id == tenant_id).order_by(SavedView.name)
    )
    return result.all()


async def view(session: AsyncSession, tenant_id: uuid.UUID, view_id: uuid.UUID) -> SavedView | None:
    found = await session.get(SavedView, view_id)
    return found if found is not None and found.tenant_id == tenant_id else None


async def view_named(session: AsyncSession, tenant_id: uuid.UUID, name: str) -> SavedView | None:
    return await session.scalar(
        select(SavedView).where(SavedView.tenant_id == tenant_id, SavedView.name == name)
    )


async def audit(session: AsyncSession, tenant_id: uuid.UUID, *, limit: int) -> Sequence[AuditEntry]:
    # Entries of one tenant get IDs in commit order (its row is locked while writing),
    # so the ID orders them more reliably than clocks do.
    result = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.tenant_id == tenant_id)
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return result.all()


async def audit_actions(session: AsyncSession, tenant_id: uuid.UUID) -> list[str]:
    result = await session.scalars(
        select(AuditEntry.action).where(AuditEntry.tenant_id == tenant_id)
    )
    return list(result)


async def delete_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    # Children first: SQLite enforces ON DELETE CASCADE only when asked per connection.
    for table in (AuditEntry, SavedView, AwsAccountLink):
        await session.execute(delete(table).where(table.tenant_id == tenant_id))
    await session.execute(delete(SsoSettings).where(SsoSettings.tenant_id == tenant_id))
    await session.execute(delete(Tenant).where(Tenant.id == tenant_id))
