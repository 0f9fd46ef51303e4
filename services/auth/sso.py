"""SSO login through the OAuth device authorization grant of IAM Identity Center.

`start` registers Cloudivize with the tenant's SSO OIDC (once per tenant and region)
and starts a device authorization; the device code stays in this service. `complete`
makes at most one CreateToken call per click. Once AWS issues a token, the user's
grants and identity are read from the portal API and a session is opened, after the
tenants service confirms, under the tenant lock, that the tenant may still sign in.
"""

import hmac
import math
import secrets
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.auth import discovery, repository, sessions
from services.auth.aws import (
    ClientRegistration,
    ClientRejected,
    DeviceDenied,
    DeviceExpired,
    DevicePending,
    DeviceSlowDown,
    SsoTokenInvalid,
)
from services.auth.crypto import digest
from services.auth.deps import AuthDeps
from services.auth.errors import (
    AccessDenied,
    AttemptExpired,
    AuthorizationPending,
    TenantRefused,
    TooManyAttempts,
)
from services.auth.models import DeviceAttempt, Session, SsoClient
from services.auth.schemas import SsoStarted
from services.auth.tenants import Tenant
from shared.db import utcnow
from shared.errors import AppError, Forbidden, NotFound
from shared.logging import get_logger

log = get_logger(__name__)

UnitOfWork = Callable[[], AbstractAsyncContextManager[AsyncSession]]

# RFC 8628: a client told to slow down adds five seconds to its polling interval.
SLOW_DOWN_STEP = 5
# Spent and expired attempts are kept this long so a reused ID gets a clear answer.
ATTEMPT_MEMORY = timedelta(hours=1)


def check_tenant(tenant: Tenant) -> None:
    if not (tenant.active and tenant.sso_ready):
        log.info(
            "sso.tenant_refused", tenant_id=str(tenant.id), status=tenant.status, mode=tenant.mode
        )
    if not tenant.active:
        raise TenantRefused("this Cloudivize account is deactivated", error="deactivated")
    if not tenant.sso_ready:
        raise TenantRefused("this Cloudivize account does not use AWS SSO", error="not_sso")


async def start(uow: UnitOfWork, deps: AuthDeps, slug: str, browser_binding: str) -> SsoStarted:
    tenant = await deps.tenants.by_slug(slug)
    check_tenant(tenant)
    assert tenant.sso is not None

    client_row, client = await _client_for(uow, deps, tenant)
    try:
        device = await deps.aws.start_device_authorization(
            tenant.sso.region, client, tenant.sso.start_url
        )
    except ClientRejected:
        # AWS dropped the registration before its announced expiry: register anew, once.
        log.warning("sso.client.rejected", tenant_id=str(tenant.id))
        client_row, client = await _client_for(uow, deps, tenant, reuse=False)
        device = await deps.aws.start_device_authorization(
            tenant.sso.region, client, tenant.sso.start_url
        )

    attempt_id = secrets.token_urlsafe(32)
    now = utcnow()
    async with uow() as db:
        await repository.forget_stale_attempts(db, now - ATTEMPT_MEMORY)
        db.add(
            DeviceAttempt(
                attempt_key=digest(attempt_id),
                tenant_id=tenant.id,
                browser_key=digest(browser_binding),
                sso_client_id=client_row,
                region=tenant.sso.region,
                device_code=deps.box.seal(device.device_code),
                state="pending",
                interval=device.interval,
                next_poll_at=now,
                expires_at=now + timedelta(seconds=device.expires_in),
            )
        )
    log.info("sso.attempt.started", tenant_id=str(tenant.id))
    return SsoStarted(
        attempt_id=attempt_id,
        user_code=device.user_code,
        verification_uri_complete=device.verification_uri_complete,
        expires_in=device.expires_in,
        interval=device.interval,
    )


async def _client_for(
    uow: UnitOfWork, deps: AuthDeps, tenant: Tenant, *, reuse: bool = True
) -> tuple[uuid.UUID, ClientRegistration]:
    """The tenant's client registration for its region, registered when none is fresh."""
    assert tenant.sso is not None
    region = tenant.sso.region
    renew_before = timedelta(seconds=deps.settings.sso_client_renew_before_seconds)
    async with uow() as db:
        row = await repository.usable_client(db, tenant.id, region, utcnow() + renew_before)
        if row is not None and reuse:
            return row.id, _registration(deps, row)

    registration = await deps.aws.register_client(region, deps.settings.sso_client_name)
    async with uow() as db:
        row = SsoClient(
            tenant_id=tenant.id,
            region=region,
            client_id=registration.client_id,
            client_secret=deps.box.seal(registration.client_secret),
            expires_at=registration.expires_at,
        )
        db.add(row)
        await db.flush()
    log.info("sso.client.registered", tenant_id=str(tenant.id), region=region)
    return row.id, registration


def _registration(deps: AuthDeps, row: SsoClient) -> ClientRegistration:
    return ClientRegistration(row.client_id, deps.box.open(row.client_secret), row.expires_at)


@dataclass(frozen=True)
class Approved:
    tenant: Tenant
    tokens: dict[str, Any]
    region: str


async def complete(
    uow: UnitOfWork, deps: AuthDeps, slug: str, attempt_id: str, browser_binding: str
) -> tuple[str, Session]:
    tenant = await deps.tenants.by_slug(slug)
    check_tenant(tenant)

    outcome: AppError | Approved
    async with uow() as db:
        outcome = await _redeem(db, deps, tenant, attempt_id, browser_binding)
    # A pending, slowed, expired or denied attempt was recorded above; now it is reported.
    if isinstance(outcome, AppError):
        raise outcome

    return await _sign_in(uow, deps, outcome, attempt_id)


async def _redeem(
    db: AsyncSession, deps: AuthDeps, tenant: Tenant, attempt_id: str, browser_binding: str
) -> AppError | Approved:
    attempt = await repository.attempt_for_update(db, digest(attempt_id))
    if attempt is None or attempt.tenant_id != tenant.id:
        log.info("sso.attempt.unknown", tenant_id=str(tenant.id))
        raise NotFound("this sign-in attempt is unknown; start again", error="unknown_attempt")
    if not hmac.compare_digest(attempt.browser_key, digest(browser_binding)):
        log.warning("sso.attempt.foreign_browser", tenant_id=str(tenant.id))
        raise Forbidden(
            "this sign-in was started in another browser; start again here",
            error="foreign_attempt",
        )
    if attempt.state == "used":
        log.info("sso.attempt.reused", tenant_id=str(tenant.id))
        raise AttemptExpired("this sign-in attempt was already used; start again", error="used")
    if attempt.state == "pending":
        return await _poll(db, deps, tenant, attempt)
    return _settled(deps, tenant, attempt)


def _settled(deps: AuthDeps, tenant: Tenant, attempt: DeviceAttempt) -> AppError | Approved:
    if attempt.state == "denied":
        return AccessDenied("access was denied on the AWS page; start again to retry")
    if attempt.state == "approved" and attempt.tokens is not None:
        return Approved(tenant, deps.box.open_json(attempt.tokens), attempt.region)
    return AttemptExpired("the approval request expired; start again")


async def _poll(
    db: AsyncSession, deps: AuthDeps, tenant: Tenant, attempt: DeviceAttempt
) -> AppError | Approved:
    now = utcnow()
    if attempt.expires_at <= now:
        attempt.state = "expired"
        return AttemptExpired("the approval request expired; start again")
    if now < attempt.next_poll_at:
        return _slow_down(attempt, now)

    client_row = await repository.sso_client(db, attempt.sso_client_id)
    if client_row is None:
        attempt.state = "expired"
        return AttemptExpired("the approval request expired; start again")
    device_code = deps.box.open(attempt.device_code)
    try:
        tokens = await deps.aws.redeem_device_code(
            attempt.region, _registration(deps, client_row), device_code
        )
    except DevicePending:
        attempt.next_poll_at = now + timedelta(seconds=attempt.interval)
        log.info("sso.token.pending", tenant_id=str(attempt.tenant_id))
        return AuthorizationPending("approve access in the other tab first, then continue")
    except DeviceSlowDown:
        attempt.interval += SLOW_DOWN_STEP
        attempt.next_poll_at = now + timedelta(seconds=attempt.interval)
        log.info("sso.token.slow_down", tenant_id=str(attempt.tenant_id), interval=attempt.interval)
        return _slow_down(attempt, now)
    except DeviceExpired:
        attempt.state = "expired"
        log.info("sso.token.expired", tenant_id=str(attempt.tenant_id))
        return AttemptExpired("the approval request expired; start again")
    except DeviceDenied:
        attempt.state = "denied"
        log.info("sso.token.denied", tenant_id=str(attempt.tenant_id))
        return AccessDenied("access was denied on the AWS page; start again to retry")

    attempt.state = "approved"
    attempt.tokens = deps.box.seal_json(tokens)
    log.info("sso.token.issued", tenant_id=str(attempt.tenant_id))
    return Approved(tenant, tokens, attempt.region)


def _slow_down(attempt: DeviceAttempt, now: datetime) -> AppError:
    wait = max(1, math.ceil((attempt.next_poll_at - now).total_seconds()))
    return TooManyAttempts(
        f"AWS asks to wait {wait} seconds between checks", retry_after=wait, error="slow_down"
    )


async def _sign_in(
    uow: UnitOfWork, deps: AuthDeps, approved: Approved, attempt_id: str
) -> tuple[str, Session]:
    tenant = approved.tenant
    assert tenant.sso is not None
    access_token = approved.tokens["access_token"]
    try:
        granted = await discovery.grants(deps.aws, approved.region, access_token)
        external_id = (
            await deps.tenants.external_id(tenant.id) if tenant.sso.management_role_arn else None
        )
        profile = await discovery.profile(deps.aws, tenant, access_token, granted, external_id)
    except SsoTokenInvalid:
        raise AttemptExpired("AWS no longer accepts this approval; start again") from None
    if profile is None:
        raise Forbidden(
            "no AWS account is assigned to you in IAM Identity Center; ask your administrator",
            error="no_access",
        )

    async with uow() as db:
        await repository.lock_tenant(db, tenant.id)
        attempt = await repository.attempt_for_update(db, digest(attempt_id))
        if attempt is None or attempt.state != "approved":
            raise AttemptExpired("this sign-in attempt was already used; start again", error="used")
        # The decisive check: the current truth, read while no revocation can interleave.
        current = await deps.tenants.get(tenant.id)
        check_tenant(current)

        attempt.state, attempt.tokens = "used", None
        sign_in = sessions.SignIn(
            tenant=current,
            user_id=profile.user_id,
            name=profile.name,
            email=profile.email,
            role=await sessions.role_for(db, current, profile.user_id, profile.email),
            is_root=False,
            source="sso",
            profile_source=profile.source,
            granted_accounts=granted,
            sso=sessions.SsoLink(attempt.sso_client_id, approved.region, approved.tokens),
        )
        return await sessions.open_session(db, deps, sign_in)
