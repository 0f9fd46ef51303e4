"""What the user cache does with each event type it consumes.

Every handler runs inside the consumer's transaction, after the event ID was claimed,
so a redelivered event never reaches it twice.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from services.usercache import repository
from services.usercache.models import KnownTenant
from shared.events import Envelope, Event, TenantCreated
from shared.inbox import Handler

GROUP = "usercache"


async def on_tenant_created(session: AsyncSession, envelope: Envelope, event: Event) -> None:
    assert isinstance(event, TenantCreated)
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


HANDLERS: dict[str, Handler] = {
    TenantCreated.type: on_tenant_created,
}
