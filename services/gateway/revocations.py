"""What the gateway has heard about tenants and users that live sessions must obey at once.

Auth stays the source of truth for a session; this map only closes the window between an
event and the next session check by auth. Each entry keeps the time of the event that set
it, so a replayed or out-of-date event never undoes a newer one (applying an event twice
changes nothing). It holds one entry per deactivated or disconnected tenant and per role
limit, and is rebuilt from the topics when the process starts.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from shared.events import (
    Envelope,
    Event,
    TenantDeactivated,
    TenantDeleted,
    TenantReactivated,
    TenantSsoConnected,
    TenantSsoDisconnected,
    UserRoleLimited,
)

ROLE_RANK = {"viewer": 0, "author": 1, "admin": 2}


@dataclass
class Mark:
    on: bool
    at: datetime


@dataclass
class Revocations:
    """Tenant flags and role caps by tenant; `on_change` hears which tenant changed."""

    deactivated: dict[uuid.UUID, Mark] = field(default_factory=dict)
    sso_off: dict[uuid.UUID, Mark] = field(default_factory=dict)
    caps: dict[tuple[uuid.UUID, str], tuple[str, datetime]] = field(default_factory=dict)
    on_change: Callable[[uuid.UUID], None] | None = None

    def apply(self, envelope: Envelope, event: Event) -> None:
        tenant, at = envelope.tenant_id, envelope.occurred_at
        match event:
            case TenantDeactivated() | TenantDeleted():
                _set(self.deactivated, tenant, True, at)
            case TenantReactivated():
                _set(self.deactivated, tenant, False, at)
            case TenantSsoDisconnected():
                _set(self.sso_off, tenant, True, at)
                self._drop_caps(tenant, at)
            case TenantSsoConnected():
                _set(self.sso_off, tenant, False, at)
            case UserRoleLimited():
                self._cap(tenant, event, at)
            case _:
                return
        if self.on_change is not None:
            self.on_change(tenant)

    def refuses(self, tenant_id: uuid.UUID, *, source: str, is_root: bool) -> str | None:
        """Why a session of this tenant may no longer be used, or None."""
        mark = self.deactivated.get(tenant_id)
        # The root user keeps a session so that someone can still reactivate the account.
        if mark is not None and mark.on and not is_root:
            return "this Cloudivize account has been deactivated"
        mark = self.sso_off.get(tenant_id)
        if mark is not None and mark.on and source == "sso":
            return "single sign-on has been disconnected from this Cloudivize account"
        return None

    def capped_role(
        self, tenant_id: uuid.UUID, role: str, *, user_id: str, email: str | None
    ) -> str:
        """The role after any limit an admin set for this user (a limit never raises one)."""
        keys = [f"id:{user_id}"] + ([f"email:{email.lower()}"] if email else [])
        for key in keys:
            cap = self.caps.get((tenant_id, key))
            if cap is not None and ROLE_RANK[cap[0]] < ROLE_RANK[role]:
                role = cap[0]
        return role

    def _cap(self, tenant: uuid.UUID, event: UserRoleLimited, at: datetime) -> None:
        keys = ([f"id:{event.user_id}"] if event.user_id else []) + (
            [f"email:{event.email.lower()}"] if event.email else []
        )
        for key in keys:
            current = self.caps.get((tenant, key))
            if current is None or current[1] <= at:
                self.caps[(tenant, key)] = (event.role, at)

    def _drop_caps(self, tenant: uuid.UUID, at: datetime) -> None:
        # Disconnecting SSO deletes every role limit along with the cached users.
        for key in [key for key, (_, set_at) in self.caps.items() if key[0] == tenant]:
            if self.caps[key][1] <= at:
                del self.caps[key]


def _set(marks: dict[uuid.UUID, Mark], tenant: uuid.UUID, on: bool, at: datetime) -> None:
    current = marks.get(tenant)
    if current is None or current.at <= at:
        marks[tenant] = Mark(on, at)
