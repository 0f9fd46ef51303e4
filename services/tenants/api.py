"""The tenants service's internal HTTP API, called by the gateway and auth.

The gateway decides who may do what; this service checks it again where the signed
identity names a user (admins change settings, authors change views, only root
disconnects SSO), and never answers about a tenant other than the caller's.
"""

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from services.tenants import linking, service, templates, validators
from services.tenants.aws import RoleValidator
from services.tenants.schemas import (
    AuditEntryRead,
    AwsAccountLinkCreate,
    AwsAccountLinkRead,
    AwsLinkSetup,
    SsoUpdate,
    TenantCreate,
    TenantRead,
    ViewCreate,
    ViewRead,
)
from services.tenants.settings import TenantsSettings
from shared.errors import Conflict, Forbidden, NotFound
from shared.identity import Identity, IdentityDep
from shared.service import SessionsDep, UnitOfWorkDep

router = APIRouter(prefix="/internal/tenants", tags=["tenants"])


def _own_tenant(tenant_id: uuid.UUID, identity: IdentityDep) -> uuid.UUID:
    # A caller acting for one tenant learns nothing about another, not even that it exists.
    if identity.tenant_id is not None and identity.tenant_id != tenant_id:
        raise NotFound("no such tenant")
    return tenant_id


def _admin(identity: IdentityDep) -> Identity:
    if identity.role is not None and identity.role != "admin":
        raise Forbidden("only an admin may change account settings")
    return identity


def _author(identity: IdentityDep) -> Identity:
    if identity.role is not None and identity.role not in ("admin", "author"):
        raise Forbidden("viewers cannot change saved views")
    return identity


def _root(identity: IdentityDep) -> Identity:
    if identity.user_id is not None and not identity.is_root:
        raise Forbidden("only the root user may disconnect SSO")
    return identity


def _settings(request: Request) -> TenantsSettings:
    return request.app.state.runtime.settings


def _validator(request: Request) -> RoleValidator:
    return request.app.state.role_validator


TenantId = Annotated[uuid.UUID, Depends(_own_tenant)]
AdminDep = Annotated[Identity, Depends(_admin)]
AuthorDep = Annotated[Identity, Depends(_author)]
RootDep = Annotated[Identity, Depends(_root)]
SettingsDep = Annotated[TenantsSettings, Depends(_settings)]
ValidatorDep = Annotated[RoleValidator, Depends(_validator)]
AccountId = Annotated[str, Path(pattern=r"^\d{12}$", description="A 12-digit AWS account ID.")]


class ExternalIdRegenerated(BaseModel):
    setup: AwsLinkSetup
    accounts: list[AwsAccountLinkRead]


# Tenants


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_tenant(
    body: TenantCreate, identity: IdentityDep, uow: UnitOfWorkDep
) -> TenantRead:
    """Create a tenant, active and in IAM-role mode, and announce it with `tenant.created`."""
    try:
        async with uow as session:
            tenant = await service.create_tenant(
                session, name=body.name, root_email=body.root_email, actor=identity.actor
            )
            return await service.describe(session, tenant)
    except IntegrityError:
        # Two sign-ups raced for the same slug; the loser asks the caller to retry.
        raise Conflict("a tenant with this name was created at the same moment; retry") from None


@router.get("/by-slug/{slug}")
async def get_tenant_by_slug(slug: str, identity: IdentityDep, sessions: SessionsDep) -> TenantRead:
    """One tenant, found by its URL slug."""
    async with sessions() as session:
        tenant = await service.get_tenant_by_slug(session, slug)
        _own_tenant(tenant.id, identity)
        return await service.describe(session, tenant)


@router.get("/{tenant_id}")
async def get_tenant(tenant_id: TenantId, sessions: SessionsDep) -> TenantRead:
    """One tenant's current state: status and mode are the source of truth."""
    async with sessions() as session:
        return await service.describe(session, await service.get_tenant(session, tenant_id))


@router.delete("/{tenant_id}/signup", status_code=status.HTTP_204_NO_CONTENT)
async def undo_signup(
    tenant_id: TenantId, identity: IdentityDep, uow: UnitOfWorkDep, settings: SettingsDep
) -> Response:
    """Undo a sign-up whose root user could not be created (publishes `tenant.deleted`)."""
    window = timedelta(seconds=settings.signup_undo_window_seconds)
    async with uow as session:
        await service.undo_signup(session, tenant_id, actor=identity.actor, window=window)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{tenant_id}/deactivate")
async def deactivate(tenant_id: TenantId, identity: AdminDep, uow: UnitOfWorkDep) -> TenantRead:
    """Deactivate the tenant: its users cannot log in and it refuses changes."""
    async with uow as session:
        tenant = await service.deactivate(session, tenant_id, actor=identity.actor)
        return await service.describe(session, tenant)


@router.post("/{tenant_id}/reactivate")
async def reactivate(tenant_id: TenantId, identity: AdminDep, uow: UnitOfWorkDep) -> TenantRead:
    """Reactivate a deactivated tenant."""
    async with uow as session:
        tenant = await service.reactivate(session, tenant_id, actor=identity.actor)
        return await service.describe(session, tenant)


# SSO


@router.put("/{tenant_id}/sso")
async def connect_sso(
    tenant_id: TenantId,
    body: SsoUpdate,
    identity: AdminDep,
    uow: UnitOfWorkDep,
) -> TenantRead:
    """Turn SSO on (or change its settings); publishes `tenant.sso_connected`."""
    body = _checked_start_url(body)
    async with uow as session:
        tenant = await service.connect_sso(session, tenant_id, body, actor=identity.actor)
        return await service.describe(session, tenant)


def _checked_start_url(body: SsoUpdate) -> SsoUpdate:
    # Checked against the region too, so after the schema has validated the region.
    try:
        url = validators.start_url(body.start_url, body.region)
    except ValueError as error:
        problem = {"loc": ("body", "start_url"), "msg": str(error), "type": "value_error"}
        raise RequestValidationError([problem]) from None
    return body.model_copy(update={"start_url": url})


@router.delete("/{tenant_id}/sso")
async def disconnect_sso(tenant_id: TenantId, identity: RootDep, uow: UnitOfWorkDep) -> TenantRead:
    """Delete the SSO settings and return to IAM-role mode; repeating it changes nothing."""
    async with uow as session:
        tenant = await service.disconnect_sso(session, tenant_id, actor=identity.actor)
        return await service.describe(session, tenant)


# AWS account links


@router.get("/{tenant_id}/aws-link")
async def aws_link_setup(
    tenant_id: TenantId, _: AdminDep, sessions: SessionsDep, settings: SettingsDep
) -> AwsLinkSetup:
    """What a customer needs to create the role: principal, external ID, template, link."""
    async with sessions() as session:
        tenant = await service.get_tenant(session, tenant_id)
    return _setup(tenant.external_id, settings)


def _setup(external_id: str, settings: TenantsSettings) -> AwsLinkSetup:
    principal = settings.cloudivize_principal_arn
    return AwsLinkSetup(
        principal_arn=principal,
        external_id=external_id,
        template=templates.render(principal, external_id),
        template_url=settings.template_url,
        quick_create_url=templates.quick_create_url(
            settings.template_url, external_id, settings.aws_region
        ),
    )


@router.post("/{tenant_id}/aws-link/external-id")
async def regenerate_external_id(
    tenant_id: TenantId,
    identity: AdminDep,
    sessions: SessionsDep,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    validator: ValidatorDep,
) -> ExternalIdRegenerated:
    """Replace the external ID and check every linked account's role with the new one."""
    tenant, links = await linking.regenerate_external_id(
        sessions, uow, validator, tenant_id, identity.actor
    )
    return ExternalIdRegenerated(
        setup=_setup(tenant.external_id, settings),
        accounts=[AwsAccountLinkRead.model_validate(link) for link in links],
    )


@router.get("/{tenant_id}/aws-accounts")
async def list_aws_accounts(tenant_id: TenantId, sessions: SessionsDep) -> list[AwsAccountLinkRead]:
    """Linked AWS accounts with the time and result of their last validation."""
    async with sessions() as session:
        links = await service.list_links(session, tenant_id)
    return [AwsAccountLinkRead.model_validate(link) for link in links]


@router.post("/{tenant_id}/aws-accounts", status_code=status.HTTP_201_CREATED)
async def link_aws_account(
    tenant_id: TenantId,
    body: AwsAccountLinkCreate,
    identity: AdminDep,
    sessions: SessionsDep,
    uow: UnitOfWorkDep,
    validator: ValidatorDep,
) -> AwsAccountLinkRead:
    """Link an AWS account once its role trusts Cloudivize, and only with the external ID."""
    link = await linking.link_account(sessions, uow, validator, tenant_id, body, identity.actor)
    return AwsAccountLinkRead.model_validate(link)


@router.delete("/{tenant_id}/aws-accounts/{aws_account_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unlink_aws_account(
    tenant_id: TenantId, aws_account_id: AccountId, identity: AdminDep, uow: UnitOfWorkDep
) -> Response:
    """Unlink an AWS account; Cloudivize stops using its role."""
    async with uow as session:
        await service.unlink(session, tenant_id, aws_account_id, actor=identity.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{tenant_id}/aws-accounts/{aws_account_id}/validate")
async def validate_aws_account(
    tenant_id: TenantId,
    aws_account_id: AccountId,
    identity: AdminDep,
    sessions: SessionsDep,
    uow: UnitOfWorkDep,
    validator: ValidatorDep,
) -> AwsAccountLinkRead:
    """Check a linked account's role again and record the result, good or bad."""
    link = await linking.revalidate(
        sessions, uow, validator, tenant_id, aws_account_id, identity.actor
    )
    return AwsAccountLinkRead.model_validate(link)


# Saved views


@router.get("/{tenant_id}/views")
async def list_views(tenant_id: TenantId, sessions: SessionsDep) -> list[ViewRead]:
    """The tenant's saved diagram views, by name."""
    async with sessions() as session:
        views = await service.list_views(session, tenant_id)
    return [ViewRead.model_validate(view) for view in views]


@router.post("/{tenant_id}/views", status_code=status.HTTP_201_CREATED)
async def create_view(
    tenant_id: TenantId, body: ViewCreate, identity: AuthorDep, uow: UnitOfWorkDep
) -> ViewRead:
    """Save a diagram view: a name, an AWS account and a region."""
    async with uow as session:
        view = await service.create_view(session, tenant_id, body, actor=identity.actor)
    return ViewRead.model_validate(view)


@router.delete("/{tenant_id}/views/{view_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_view(
    tenant_id: TenantId, view_id: uuid.UUID, identity: AuthorDep, uow: UnitOfWorkDep
) -> Response:
    """Delete a saved view."""
    async with uow as session:
        await service.delete_view(session, tenant_id, view_id, actor=identity.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Audit


@router.get("/{tenant_id}/audit")
async def audit(
    tenant_id: TenantId,
    sessions: SessionsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEntryRead]:
    """Every change to the tenant, who made it and when, newest first."""
    async with sessions() as session:
        entries = await service.audit(session, tenant_id, limit=limit)
    return [AuditEntryRead.model_validate(entry) for entry in entries]
