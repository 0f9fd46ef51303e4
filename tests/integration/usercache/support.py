"""Events and probes the user cache tests share."""

import uuid
from collections.abc import Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.usercache.models import CachedUser, RoleLimit, TenantState, UserLogin
from shared.events import EVENT_TYPES, Envelope, Event, TenantDeactivated, UserLoggedIn
from shared.inbox import ProcessedEvent
from tests.support.stack import eventually

BASE_TIME = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    """A fixed instant, so tests can state which event is older."""
    return BASE_TIME + timedelta(minutes=minutes)


def envelope(event: Event, tenant_id: uuid.UUID, occurred_at: datetime) -> Envelope:
    return Envelope.wrap(event, tenant_id).model_copy(update={"occurred_at": occurred_at})


def login(
    tenant_id: uuid.UUID,
    user_id: str,
    *,
    minute: int,
    name: str | None = None,
    email: str | None = None,
    source: str = "sso",
    accounts: Sequence[str] = ("111111111111",),
) -> Envelope:
    event = UserLoggedIn(
        user_id=user_id,
        name=name or f"User {user_id}",
        email=email or f"{user_id}@example.com",
        source=source,  # type: ignore[arg-type]
        granted_account_ids=list(accounts),
    )
    return envelope(event, tenant_id, at(minute))


def deactivated(tenant_id: uuid.UUID, minute: int) -> Envelope:
    return envelope(TenantDeactivated(actor="root"), tenant_id, at(minute))


class Topics:
    """The test's own spelling of the shared topic names (its prefix)."""

    def __init__(self, env: dict[str, Any]) -> None:
        self.bootstrap: str = env["kafka_bootstrap_servers"]  # type: ignore[assignment]
        self.prefix: str = env["kafka_topic_prefix"]  # type: ignore[assignment]

    def __getitem__(self, name: str) -> str:
        return self.prefix + name


@asynccontextmanager
async def producer(bootstrap: str):  # type: ignore[no-untyped-def]
    client = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


async def publish(topics: Topics, envelopes: Sequence[Envelope], topic: str | None = None) -> None:
    """Send envelopes keyed by tenant, each to its type's topic unless one is given."""
    async with producer(topics.bootstrap) as client:
        for item in envelopes:
            name = topic or _topic_of(item)
            await client.send(topics[name], item.model_dump_json().encode(), key=item.key)
        await client.flush()


def _topic_of(item: Envelope) -> str:
    return EVENT_TYPES[item.type].topic


async def user_rows(
    sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID
) -> dict[str, CachedUser]:
    async with sessions() as session:
        rows = await session.scalars(select(CachedUser).where(CachedUser.tenant_id == tenant_id))
        return {row.user_id: row for row in rows}


async def count(sessions: async_sessionmaker[AsyncSession], table: Any) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(table)) or 0


async def processed(sessions: async_sessionmaker[AsyncSession]) -> int:
    return await count(sessions, ProcessedEvent)


async def until_processed(sessions: async_sessionmaker[AsyncSession], expected: int) -> int:
    """Wait until `expected` events were claimed (duplicates never are)."""

    async def probe() -> int | None:
        done = await processed(sessions)
        return done if done >= expected else None

    return await eventually(probe)


async def snapshot(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Everything the service shows or decides with, comparable across two databases."""
    async with sessions() as session:
        users = await session.execute(
            select(
                CachedUser.tenant_id,
                CachedUser.user_id,
                CachedUser.name,
                CachedUser.email,
                CachedUser.first_login_at,
                CachedUser.last_login_at,
                CachedUser.login_count,
                CachedUser.granted_account_count,
            ).order_by(CachedUser.tenant_id, CachedUser.user_id)
        )
        limits = await session.execute(
            select(
                RoleLimit.tenant_id, RoleLimit.subject_kind, RoleLimit.subject, RoleLimit.role
            ).order_by(RoleLimit.tenant_id, RoleLimit.subject_kind, RoleLimit.subject)
        )
        states = await session.execute(
            select(TenantState.tenant_id, TenantState.blocked).order_by(TenantState.tenant_id)
        )
        logins = await session.scalar(select(func.count()).select_from(UserLogin))
    return {
        "users": [tuple(row) for row in users],
        "limits": [tuple(row) for row in limits],
        "blocked": {tenant: blocked for tenant, blocked in states if blocked},
        "logins": logins,
    }


async def listed(client: httpx.AsyncClient, tenant_id: uuid.UUID, **params: Any) -> dict[str, Any]:
    response = await client.get(f"/internal/tenants/{tenant_id}/users", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def listed_ids(client: httpx.AsyncClient, tenant_id: uuid.UUID, **params: Any) -> list[str]:
    return [item["user_id"] for item in (await listed(client, tenant_id, **params))["items"]]
