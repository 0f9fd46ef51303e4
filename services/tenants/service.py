"""Tenant use cases. Functions change state in the caller's transaction and never commit.

Every change first locks the tenant's row, so one tenant's changes, audit entries and
events are serialized in commit order; it then writes the change, an audit entry naming
who made it, and the event, all in the same transaction.
"""

import re
import secrets
import unicodedata
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.tenants import repository
from services.tenants.aws import PENDING, Verdict
from services.tenants.models import (
    AuditEntry,
    AwsAccountLink,
    SavedView,
    SsoSettings,
    Tenant,
    TenantMode,
    TenantStatus,
)
from services.tenants.schemas import (
    AwsAccountLinkCreate,
    SsoRead,
    SsoUpdate,
    TenantRead,
    ViewCreate,
)
from shared.db import utcnow
from shared.errors import Conflict, NotFound
from shared.events import (
    TenantAwsAccountLinked,
    TenantAwsAccountUnlinked,
    TenantAwsAccountValidated,
    TenantCreated,
    TenantDeactivated,
    TenantDeleted,
    TenantEvent,
    TenantExternalIdRegenerated,
    TenantReactivated,
    TenantSsoConnected,
    TenantSsoDisconnected,
    TenantViewCreated,
    TenantViewDeleted,
)
from shared.logging import get_logger
from shared.outbox import record_event

log = get_logger(__name__)

SLUG_MAX = 40


class DeactivatedTenant(Conflict):
    error = "tenant_deactivated"


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


def new_external_id() -> str:
    """192 random bits, URL-safe, within the characters STS allows in an external ID."""
    return secrets.token_urlsafe(24)


def _record(session: AsyncSession, tenant_id: uuid.UUID, actor: str, event: TenantEvent) -> None:
    details = event.model_dump(mode="json", exclude={"actor"})
    session.add(AuditEntry(tenant_id=tenant_id, action=event.type, actor=actor, details=details))
    record_event(session, event, tenant_id)
    log.info(event.type, tenant_id=str(tenant_id), actor=actor)


# Reading


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


async def describe(session: AsyncSession, tenant: Tenant) -> TenantRead:
    sso = await repository.sso_settings(session, tenant.id)
    return TenantRead(
        id=tenant.id,
        name=tenant.name,
        slug=tenant.slug,
        status=tenant.status,
        mode=tenant.mode,
        created_at=tenant.created_at,
        status_changed_at=tenant.status_changed_at,
        status_changed_by=tenant.status_changed_by,
        sso=SsoRead.model_validate(sso) if sso is not None else None,
    )


async def locked(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    tenant = await repository.lock(session, tenant_id)
    if tenant is None:
        raise NotFound("no such tenant")
    return tenant


async def changeable(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    """The locked tenant, if it accepts changes: a deactivated one only reactivates."""
    tenant = await locked(session, tenant_id)
    _refuse_if_deactivated(tenant)
    return tenant


def _refuse_if_deactivated(tenant: Tenant) -> None:
    if tenant.status == TenantStatus.DEACTIVATED:
        raise DeactivatedTenant("the tenant is deactivated; reactivate it before changing it")


# Sign-up and status


async def create_tenant(session: AsyncSession, *, name: str, root_email: str, actor: str) -> Tenant:
    tenant = Tenant(
        id=uuid.uuid4(),
        name=name,
        root_email=root_email.lower(),
        status=TenantStatus.ACTIVE,
        mode=TenantMode.IAM_ROLE,
        external_id=new_external_id(),
    )
    tenant.slug = await unique_slug(session, name)
    session.add(tenant)
    await session.flush()

    _record(session, tenant.id, actor, TenantCreated(name=tenant.name, slug=tenant.slug))
    return tenant


async def undo_signup(
    session: AsyncSession, tenant_id: uuid.UUID, *, actor: str, window: timedelta
) -> None:
    """Delete a tenant whose sign-up failed half-way: only if nothing else happened to it."""
    tenant = await locked(session, tenant_id)
    if await repository.audit_actions(session, tenant_id) != [TenantCreated.type]:
        raise Conflict("the tenant has changed since sign-up; it cannot be undone", error="final")
    if utcnow() - tenant.created_at > window:
        raise Conflict("the sign-up is too old to be undone", error="final")

    await repository.delete_tenant(session, tenant_id)
    record_event(session, TenantDeleted(actor=actor), tenant_id)
    log.info(TenantDeleted.type, tenant_id=str(tenant_id), actor=actor)


async def deactivate(session: AsyncSession, tenant_id: uuid.UUID, *, actor: str) -> Tenant:
    tenant = await locked(session, tenant_id)
    if tenant.status == TenantStatus.DEACTIVATED:
        return tenant

    _set_status(tenant, TenantStatus.DEACTIVATED, actor)
    _record(session, tenant.id, actor, TenantDeactivated(actor=actor))
    return tenant


async def reactivate(session: AsyncSession, tenant_id: uuid.UUID, *, actor: str) -> Tenant:
    tenant = await locked(session, tenant_id)
    if tenant.status == TenantStatus.ACTIVE:
        return tenant

    _set_status(tenant, TenantStatus.ACTIVE, actor)
    _record(session, tenant.id, actor, TenantReactivated(actor=actor))
    return tenant


def _set_status(tenant: Tenant, status: TenantStatus, actor: str) -> None:
    tenant.status = status
    tenant.status_changed_at = utcnow()
    tenant.status_changed_by = actor


# SSO


async def connect_sso(
    session: AsyncSession, tenant_id: uuid.UUID, settings: SsoUpdate, *, actor: str
) -> Tenant:
    """Turn SSO on, or change its settings; unchanged settings publish nothing."""
    tenant = await changeable(session, tenant_id)
    current = await repository.sso_settings(session, tenant_id)
    wanted = settings.model_dump()
    if current is not None and _sso_values(current) == wanted:
        return tenant

    if current is None:
        session.add(SsoSettings(tenant_id=tenant_id, connected_by=actor, **wanted))
    else:
        for field, value in wanted.items():
            setattr(current, field, value)
    tenant.mode = TenantMode.SSO
    event = TenantSsoConnected(
        start_url=settings.start_url,
        region=settings.region,
        identity_store_id=settings.identity_store_id,
        actor=actor,
    )
    _record(session, tenant_id, actor, event)
    return tenant


def _sso_values(current: SsoSettings) -> dict[str, Any]:
    return SsoRead.model_validate(current).model_dump()


async def disconnect_sso(session: AsyncSession, tenant_id: uuid.UUID, *, actor: str) -> Tenant:
    """Delete the SSO settings and return to IAM-role mode; a repeat changes nothing."""
    tenant = await changeable(session, tenant_id)
    current = await repository.sso_settings(session, tenant_id)
    if current is None:
        return tenant

    await session.delete(current)
    tenant.mode = TenantMode.IAM_ROLE
    _record(session, tenant_id, actor, TenantSsoDisconnected(actor=actor))
    return tenant


# AWS account links


async def external_ids_for_check(
    session: AsyncSession, tenant_id: uuid.UUID
) -> tuple[str, str | None]:
    """The current and previous external ID, to check a role with before a change."""
    tenant = await get_tenant(session, tenant_id)
    _refuse_if_deactivated(tenant)
    return tenant.external_id, tenant.previous_external_id


async def save_link(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    body: AwsAccountLinkCreate,
    verdict: Verdict,
    *,
    checked_with: str,
    actor: str,
) -> AwsAccountLink:
    """Store a link whose role passed validation with the external ID `checked_with`."""
    tenant = await changeable(session, tenant_id)
    _refuse_if_rotated(tenant, checked_with)
    link = await repository.link(session, tenant_id, body.aws_account_id)
    relinked = link is not None and link.role_arn == body.role_arn
    if link is None:
        link = AwsAccountLink(tenant_id=tenant_id, aws_account_id=body.aws_account_id)
        session.add(link)

    if not relinked:
        link.role_arn = body.role_arn
        link.linked_by = actor
        link.linked_at = utcnow()
    _mark(link, verdict)
    if relinked:
        _record(session, tenant_id, actor, _validated(link, verdict, actor))
    else:
        event = TenantAwsAccountLinked(
            aws_account_id=body.aws_account_id, role_arn=body.role_arn, actor=actor
        )
        _record(session, tenant_id, actor, event)
    return link


async def unlink(session: AsyncSession, tenant_id: uuid.UUID, account: str, *, actor: str) -> None:
    await changeable(session, tenant_id)
    link = await repository.link(session, tenant_id, account)
    if link is None:
        raise NotFound("this AWS account is not linked")

    await session.delete(link)
    _record(
        session, tenant_id, actor, TenantAwsAccountUnlinked(aws_account_id=account, actor=actor)
    )


async def list_links(session: AsyncSession, tenant_id: uuid.UUID) -> Sequence[AwsAccountLink]:
    await get_tenant(session, tenant_id)
    return await repository.links(session, tenant_id)


async def get_link(session: AsyncSession, tenant_id: uuid.UUID, account: str) -> AwsAccountLink:
    await get_tenant(session, tenant_id)
    link = await repository.link(session, tenant_id, account)
    if link is None:
        raise NotFound("this AWS account is not linked")
    return link


async def record_validations(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    verdicts: dict[tuple[str, str], Verdict],
    *,
    checked_with: str,
    actor: str,
) -> list[AwsAccountLink]:
    """Store re-validation results, keyed by (account, role ARN) as they were checked.

    A link unlinked or pointed at another role meanwhile keeps its own state.
    """
    tenant = await changeable(session, tenant_id)
    _refuse_if_rotated(tenant, checked_with)
    updated = []
    for (account, role_arn), verdict in verdicts.items():
        link = await repository.link(session, tenant_id, account)
        if link is None or link.role_arn != role_arn:
            continue
        _mark(link, verdict)
        _record(session, tenant_id, actor, _validated(link, verdict, actor))
        updated.append(link)
    return updated


def _refuse_if_rotated(tenant: Tenant, checked_with: str) -> None:
    if tenant.external_id != checked_with:
        raise Conflict(
            "the external ID was regenerated while the role was being checked; try again",
            error="external_id_changed",
        )


def _mark(link: AwsAccountLink, verdict: Verdict) -> None:
    link.validated_at = utcnow()
    link.validation_result = verdict.outcome.value
    link.validation_detail = verdict.detail


def _validated(link: AwsAccountLink, verdict: Verdict, actor: str) -> TenantAwsAccountValidated:
    return TenantAwsAccountValidated(
        aws_account_id=link.aws_account_id,
        valid=verdict.valid,
        reason=verdict.outcome.value,
        actor=actor,
    )


async def regenerate_external_id(
    session: AsyncSession, tenant_id: uuid.UUID, *, actor: str
) -> Tenant:
    """A new external ID; every link is unverified until it is checked with the new one."""
    tenant = await changeable(session, tenant_id)
    tenant.previous_external_id = tenant.external_id
    tenant.external_id = new_external_id()
    tenant.external_id_created_at = utcnow()
    for link in await repository.links(session, tenant_id):
        link.validation_result = PENDING.outcome.value
        link.validation_detail = PENDING.detail

    _record(session, tenant_id, actor, TenantExternalIdRegenerated(actor=actor))
    return tenant


# Saved views


async def list_views(session: AsyncSession, tenant_id: uuid.UUID) -> Sequence[SavedView]:
    await get_tenant(session, tenant_id)
    return await repository.views(session, tenant_id)


async def create_view(
    session: AsyncSession, tenant_id: uuid.UUID, body: ViewCreate, *, actor: str
) -> SavedView:
    await changeable(session, tenant_id)
    if await repository.view_named(session, tenant_id, body.name) is not None:
        raise Conflict("a saved view with this name exists", error="view_exists")

    view = SavedView(id=uuid.uuid4(), tenant_id=tenant_id, created_by=actor, **body.model_dump())
    session.add(view)
    await session.flush()
    event = TenantViewCreated(
        view_id=view.id,
        name=view.name,
        aws_account_id=view.aws_account_id,
        region=view.region,
        actor=actor,
    )
    _record(session, tenant_id, actor, event)
    return view


async def delete_view(
    session: AsyncSession, tenant_id: uuid.UUID, view_id: uuid.UUID, *, actor: str
) -> None:
    await changeable(session, tenant_id)
    view = await repository.view(session, tenant_id, view_id)
    if view is None:
        raise NotFound("no such saved view")

    await session.delete(view)
    _record(session, tenant_id, actor, TenantViewDeleted(view_id=view_id, actor=actor))


# Audit


async def audit(session: AsyncSession, tenant_id: uuid.UUID, *, limit: int) -> Sequence[AuditEntry]:
    await get_tenant(session, tenant_id)
    return await repository.audit(session, tenant_id, limit=limit)
