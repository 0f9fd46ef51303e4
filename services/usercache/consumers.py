"""What the user cache does with each event type it consumes.

Group `usercache` (USERCACHE_CONSUMER_GROUP), batches of records in one transaction,
offsets committed after the database commit. Handlers run after the event ID was
claimed, so a redelivered event never reaches them twice; an event they cannot read
goes to `usercache.dead-letter` with the reason.

The group also reads its own `usercache.events`: removals and role limits made through
the API are already applied when their events come back (a no-op then), but a new
instance with an empty database rebuilds them from there.
"""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.usercache import repository, service
from services.usercache.models import KnownTenant
from shared.events import (
    Envelope,
    Event,
    InvalidEvent,
    TenantCreated,
    TenantDeactivated,
    TenantReactivated,
    TenantSsoDisconnected,
    UserLoggedIn,
    UserRemoved,
    UserRoleLimited,
)
from shared.inbox import BatchHandler, Handler

# the widths of the columns these land in; longer values could never be stored
MAX_USER_ID = 200
MAX_NAME = 300


async def on_tenant_created(session: AsyncSession, envelope: Envelope, event: Event) -> None:
    assert isinstance(event, TenantCreated)
    _check_text("name", event.name, 200)
    _check_text("slug", event.slug, 63)
    if await repository.get_tenant(session, envelope.tenant_id) is not None:
        return
    session.add(
        KnownTenant(
            id=envelope.tenant_id,
            name=event.name,
            slug=event.slug,
            created_at=envelope.occurred_at,
        )
    )


async def on_tenant_deactivated(session: AsyncSession, envelope: Envelope, _: Event) -> None:
    await repository.set_blocked(session, envelope.tenant_id, True, envelope.occurred_at)


async def on_tenant_reactivated(session: AsyncSession, envelope: Envelope, _: Event) -> None:
    await repository.set_blocked(session, envelope.tenant_id, False, envelope.occurred_at)


async def on_sso_disconnected(session: AsyncSession, envelope: Envelope, _: Event) -> None:
    await service.disconnect_tenant(session, envelope.tenant_id, envelope.occurred_at)


async def on_user_logged_in(session: AsyncSession, envelope: Envelope, event: Event) -> None:
    await on_users_logged_in(session, [(envelope, event)])


async def on_users_logged_in(
    session: AsyncSession, items: Sequence[tuple[Envelope, Event]]
) -> None:
    """A run of logins in one go; password logins are local users, not cached here."""
    for _, event in items:
        assert isinstance(event, UserLoggedIn)
        _check_user_id(event.user_id)
        _check_text("name", event.name, MAX_NAME)
    logins = [
        service.Login(
            event_id=envelope.event_id,
            tenant_id=envelope.tenant_id,
            user_id=event.user_id,
            name=event.name,
            email=event.email,
            granted_account_count=len(event.granted_account_ids),
            occurred_at=envelope.occurred_at,
        )
        for envelope, event in items
        if isinstance(event, UserLoggedIn) and event.source == "sso"
    ]
    if logins:
        await service.record_logins(session, logins)


async def on_user_removed(session: AsyncSession, envelope: Envelope, event: Event) -> None:
    assert isinstance(event, UserRemoved)
    _check_user_id(event.user_id)
    cutoff = service.removal_cutoff(envelope.occurred_at, event.last_login_at)
    await service.apply_removal(session, envelope.tenant_id, event.user_id, cutoff)


async def on_user_role_limited(session: AsyncSession, envelope: Envelope, event: Event) -> None:
    assert isinstance(event, UserRoleLimited)
    if event.user_id is not None:
        _check_user_id(event.user_id)
    await service.apply_role_limit(
        session,
        envelope.tenant_id,
        user_id=event.user_id,
        email=event.email,
        role=event.role,
        at=envelope.occurred_at,
    )


def _check_user_id(user_id: str) -> None:
    if not user_id:
        raise InvalidEvent("user_id is empty")
    _check_text("user_id", user_id, MAX_USER_ID)


def _check_text(field: str, value: str, max_length: int) -> None:
    """Refuse what the database would refuse: the transaction would fail on every retry,
    and a record that can never commit would hold its partition forever."""
    if len(value) > max_length:
        raise InvalidEvent(f"{field} longer than {max_length} characters")
    if "\x00" in value:
        raise InvalidEvent(f"{field} contains a NUL character")


HANDLERS: dict[str, Handler] = {
    TenantCreated.type: on_tenant_created,
    TenantDeactivated.type: on_tenant_deactivated,
    TenantReactivated.type: on_tenant_reactivated,
    TenantSsoDisconnected.type: on_sso_disconnected,
    UserLoggedIn.type: on_user_logged_in,
    UserRemoved.type: on_user_removed,
    UserRoleLimited.type: on_user_role_limited,
}

BATCH_HANDLERS: dict[str, BatchHandler] = {
    UserLoggedIn.type: on_users_logged_in,
}
