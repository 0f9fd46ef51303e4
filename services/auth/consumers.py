"""What auth does with the events it consumes (group `auth`, acked after commit).

Tenant deactivation and SSO disconnection end the tenant's sessions; role limits cap
the roles of live SSO sessions and of later logins. Every handler is safe to replay.
An event that cannot be parsed goes to `auth.dead-letter` (see shared.inbox).
"""

from sqlalchemy.ext.asyncio import AsyncSession

from services.auth import repository, sessions
from services.auth.deps import AuthDeps
from shared.events import (
    Envelope,
    Event,
    TenantAwsAccountLinked,
    TenantAwsAccountUnlinked,
    TenantDeactivated,
    TenantSsoDisconnected,
    UserRoleLimited,
)
from shared.inbox import Handler
from shared.logging import get_logger

log = get_logger(__name__)

GROUP = "auth"


def handlers(deps: AuthDeps) -> dict[str, Handler]:
    async def on_tenant_deactivated(db: AsyncSession, envelope: Envelope, event: Event) -> None:
        count = await sessions.end_tenant_sessions(db, deps, envelope.tenant_id, "deactivated")
        log.info("tenant.sessions_revoked", tenant_id=str(envelope.tenant_id), sessions=count)

    async def on_sso_disconnected(db: AsyncSession, envelope: Envelope, event: Event) -> None:
        count = await sessions.end_tenant_sessions(db, deps, envelope.tenant_id, "sso_disconnected")
        await repository.forget_sso_state(db, envelope.tenant_id)
        log.info("tenant.sessions_revoked", tenant_id=str(envelope.tenant_id), sessions=count)

    async def on_links_changed(db: AsyncSession, envelope: Envelope, event: Event) -> None:
        # A password session's accounts are the tenant's links: an unlinked account must
        # not stay usable until the periodic refresh.
        count = await repository.refresh_password_sessions_soon(db, envelope.tenant_id)
        log.info("tenant.sessions_rescoped", tenant_id=str(envelope.tenant_id), sessions=count)

    async def on_role_limited(db: AsyncSession, envelope: Envelope, event: Event) -> None:
        assert isinstance(event, UserRoleLimited)
        email = event.email.lower() if event.email else None
        subjects = ([f"user:{event.user_id}"] if event.user_id else []) + (
            [f"email:{email}"] if email else []
        )
        for subject in subjects:
            await repository.put_role_limit(
                db, envelope.tenant_id, subject, event.role, envelope.occurred_at
            )
        await repository.cap_session_roles(
            db, envelope.tenant_id, user_id=event.user_id, email=email, role=event.role
        )

    return {
        TenantDeactivated.type: on_tenant_deactivated,
        TenantSsoDisconnected.type: on_sso_disconnected,
        UserRoleLimited.type: on_role_limited,
        TenantAwsAccountLinked.type: on_links_changed,
        TenantAwsAccountUnlinked.type: on_links_changed,
    }
