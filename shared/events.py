"""The event envelope and the typed events that cross service lines on Kafka.

Every message on a `*.events` topic is an `Envelope` serialized as JSON, keyed by its
tenant ID so that one tenant's events stay in order. Payloads are small typed classes
named in the past tense; `EVENT_TYPES` maps each wire type to its class.
"""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

TENANTS_TOPIC = "tenants.events"
AUTH_TOPIC = "auth.events"
USERCACHE_TOPIC = "usercache.events"


def dead_letter_topic(group: str) -> str:
    """Each consumer group parks what it cannot process on a topic of its own."""
    return f"{group}.dead-letter"


# Addresses are validated fully where they enter the system; on the wire a shape check is
# enough, and full validation cost as much as the rest of consuming a login event.
WireEmail = Annotated[str, StringConstraints(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class InvalidEvent(ValueError):
    """A message that no version of this code can process; it belongs on the dead-letter topic."""


class Event(BaseModel):
    """Base of every payload: the wire type, its version and the topic it travels on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ClassVar[str]
    version: ClassVar[int] = 1
    topic: ClassVar[str]


class TenantEvent(Event):
    topic: ClassVar[str] = TENANTS_TOPIC


class TenantCreated(TenantEvent):
    type: ClassVar[str] = "tenant.created"
    name: str
    slug: str


class TenantDeactivated(TenantEvent):
    type: ClassVar[str] = "tenant.deactivated"
    actor: str


class TenantReactivated(TenantEvent):
    type: ClassVar[str] = "tenant.reactivated"
    actor: str


class TenantSsoConnected(TenantEvent):
    type: ClassVar[str] = "tenant.sso_connected"
    start_url: str
    region: str
    identity_store_id: str | None = None
    actor: str | None = None


class TenantSsoDisconnected(TenantEvent):
    type: ClassVar[str] = "tenant.sso_disconnected"
    actor: str


class TenantAwsAccountLinked(TenantEvent):
    type: ClassVar[str] = "tenant.aws_account_linked"
    aws_account_id: str = Field(pattern=r"^\d{12}$")
    role_arn: str
    actor: str | None = None


class TenantAwsAccountUnlinked(TenantEvent):
    type: ClassVar[str] = "tenant.aws_account_unlinked"
    aws_account_id: str = Field(pattern=r"^\d{12}$")
    actor: str | None = None


class TenantAwsAccountValidated(TenantEvent):
    """A linked account's role was checked again; `reason` says why it failed, if it did."""

    type: ClassVar[str] = "tenant.aws_account_validated"
    aws_account_id: str = Field(pattern=r"^\d{12}$")
    valid: bool
    reason: str
    actor: str | None = None


class TenantExternalIdRegenerated(TenantEvent):
    """The tenant's external ID changed; the ID itself never travels on the bus."""

    type: ClassVar[str] = "tenant.external_id_regenerated"
    actor: str


class TenantViewCreated(TenantEvent):
    type: ClassVar[str] = "tenant.view_created"
    view_id: uuid.UUID
    name: str
    aws_account_id: str = Field(pattern=r"^\d{12}$")
    region: str
    actor: str


class TenantViewDeleted(TenantEvent):
    type: ClassVar[str] = "tenant.view_deleted"
    view_id: uuid.UUID
    actor: str


class TenantDeleted(TenantEvent):
    """A sign-up was undone because its root user could not be created."""

    type: ClassVar[str] = "tenant.deleted"
    actor: str


class UserLoggedIn(Event):
    topic: ClassVar[str] = AUTH_TOPIC
    type: ClassVar[str] = "user.logged_in"
    user_id: str
    name: str
    email: WireEmail | None
    source: Literal["sso", "password"]
    granted_account_ids: list[str]
    # where name and email came from: the Identity Store, or derived from the SSO user
    # name when the directory could not be read (None from senders that predate it)
    profile_source: Literal["identity_store", "user_name", "local"] | None = None


class UserRoleLimited(Event):
    topic: ClassVar[str] = USERCACHE_TOPIC
    type: ClassVar[str] = "user.role_limited"
    user_id: str | None
    email: WireEmail | None
    role: Literal["viewer", "author"]


class UserRemoved(Event):
    topic: ClassVar[str] = USERCACHE_TOPIC
    type: ClassVar[str] = "user.removed"
    user_id: str
    # the newest login the removal forgets, when it is stamped later than the removal
    # itself (another service's clock running ahead); None means occurred_at covers it
    last_login_at: datetime | None = None


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        TenantCreated,
        TenantDeactivated,
        TenantReactivated,
        TenantSsoConnected,
        TenantSsoDisconnected,
        TenantAwsAccountLinked,
        TenantAwsAccountUnlinked,
        TenantAwsAccountValidated,
        TenantExternalIdRegenerated,
        TenantViewCreated,
        TenantViewDeleted,
        TenantDeleted,
        UserLoggedIn,
        UserRoleLimited,
        UserRemoved,
    )
}


class Envelope(BaseModel):
    """What travels on the wire: identity, type and version, time, tenant, payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    type: str
    version: int = Field(ge=1)
    occurred_at: datetime
    tenant_id: uuid.UUID
    payload: dict[str, Any]

    @classmethod
    def wrap(cls, event: Event, tenant_id: uuid.UUID) -> "Envelope":
        return cls(
            event_id=uuid.uuid4(),
            type=event.type,
            version=event.version,
            occurred_at=datetime.now(UTC),
            tenant_id=tenant_id,
            payload=event.model_dump(mode="json"),
        )

    def event(self) -> Event:
        """The typed payload, or `InvalidEvent` saying why this code cannot read it."""
        event_cls = EVENT_TYPES.get(self.type)
        if event_cls is None:
            raise InvalidEvent(f"unknown event type {self.type!r}")
        if self.version != event_cls.version:
            raise InvalidEvent(f"{self.type} version {self.version} is not supported")
        try:
            return event_cls.model_validate(self.payload)
        except ValidationError as error:
            raise InvalidEvent(f"{self.type} payload invalid: {_first_problem(error)}") from None

    @property
    def key(self) -> bytes:
        return str(self.tenant_id).encode()


def parse_envelope(raw: bytes, key: bytes | None = None) -> Envelope:
    """Decode one Kafka message, checking that its key is the tenant it speaks of."""
    try:
        envelope = Envelope.model_validate_json(raw)
    except ValidationError as error:
        raise InvalidEvent(f"not an event envelope: {_first_problem(error)}") from None
    if key is not None and key != envelope.key:
        raise InvalidEvent("message key does not match the envelope's tenant_id")
    return envelope


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "message"
    return f"{where}: {problem['msg']}"
