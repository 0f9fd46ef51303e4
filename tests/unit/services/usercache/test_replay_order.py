"""The cached state depends on which events happened, not on the order they arrive in.

Run on the embedded SQLite database (the `make run` default), through the same handlers
the consumer calls, so the upserts are checked on that dialect too.
"""

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from services.usercache.app import MIGRATIONS
from services.usercache.consumers import HANDLERS, on_users_logged_in
from services.usercache.models import CachedUser, RoleLimit, TenantState
from shared import db
from shared.events import (
    Envelope,
    Event,
    TenantDeactivated,
    TenantReactivated,
    TenantSsoDisconnected,
    UserLoggedIn,
    UserRemoved,
    UserRoleLimited,
)
from shared.migrations import upgrade

T0 = datetime(2026, 3, 1, tzinfo=UTC)
KEPT, GONE = uuid.UUID(int=1), uuid.UUID(int=2)


def _at(event: Event, tenant: uuid.UUID, minute: int) -> Envelope:
    return Envelope.wrap(event, tenant).model_copy(
        update={"occurred_at": T0 + timedelta(minutes=minute)}
    )


def _login(tenant: uuid.UUID, user: str, minute: int, name: str) -> Envelope:
    event = UserLoggedIn(
        user_id=user, name=name, email=f"{user}@example.com", source="sso", granted_account_ids=[]
    )
    return _at(event, tenant, minute)


HISTORY = [
    _login(KEPT, "a", 0, "A0"),
    _login(KEPT, "a", 10, "A1"),
    _at(UserRemoved(user_id="a"), KEPT, 15),
    _login(KEPT, "a", 20, "A2"),
    _login(KEPT, "a", 25, "A3"),
    _login(KEPT, "b", 1, "B0"),
    _at(UserRemoved(user_id="b"), KEPT, 2),
    _at(UserRoleLimited(user_id="b", email=None, role="viewer"), KEPT, 3),
    _at(UserRoleLimited(user_id="b", email=None, role="author"), KEPT, 4),
    _at(UserRoleLimited(user_id=None, email="c@example.com", role="viewer"), KEPT, 5),
    _login(KEPT, "c", 30, "C0"),
    _at(TenantDeactivated(actor="root"), KEPT, 40),
    _at(TenantReactivated(actor="root"), KEPT, 41),
    _at(TenantDeactivated(actor="root"), KEPT, 42),
    _login(GONE, "x", 0, "X0"),
    _at(UserRoleLimited(user_id="x", email=None, role="viewer"), GONE, 1),
    _at(TenantSsoDisconnected(actor="root"), GONE, 5),
    _login(GONE, "y", 9, "Y0"),
]


async def _state_after(events: list[Envelope], path: Path, batch: bool) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade, MIGRATIONS, url)
    engine = db.create_engine(url)
    sessions = db.session_factory(engine)
    try:
        for envelope in events:
            async with db.transaction(sessions) as session:
                if batch and envelope.type == UserLoggedIn.type:
                    await on_users_logged_in(session, [(envelope, envelope.event())])
                else:
                    await HANDLERS[envelope.type](session, envelope, envelope.event())
        async with sessions() as session:
            users = (
                await session.execute(select(CachedUser).order_by(CachedUser.user_id))
            ).scalars()
            limits = await session.execute(
                select(RoleLimit.subject, RoleLimit.role).order_by(RoleLimit.subject)
            )
            states = await session.execute(select(TenantState.tenant_id, TenantState.blocked))
            return {
                "users": [
                    (u.user_id, u.name, u.first_login_at, u.last_login_at, u.login_count)
                    for u in users
                ],
                "limits": [tuple(row) for row in limits],
                "blocked": sorted(str(t) for t, blocked in states if blocked),
            }
    finally:
        await engine.dispose()


async def test_the_history_in_order_gives_the_expected_state(tmp_path: Path) -> None:
    state = await _state_after(HISTORY, tmp_path / "in-order.db", batch=False)

    minute = lambda m: T0 + timedelta(minutes=m)  # noqa: E731
    assert state["users"] == [
        ("a", "A3", minute(20), minute(25), 2),
        ("c", "C0", minute(30), minute(30), 1),
        ("y", "Y0", minute(9), minute(9), 1),
    ]
    assert state["limits"] == [("b", "author"), ("c@example.com", "viewer")]
    assert state["blocked"] == [str(KEPT)]


async def test_any_arrival_order_gives_the_same_state(tmp_path: Path) -> None:
    expected = await _state_after(HISTORY, tmp_path / "in-order.db", batch=False)
    shuffler = random.Random(20261203)

    for attempt in range(8):
        shuffled = shuffler.sample(HISTORY, len(HISTORY))
        state = await _state_after(shuffled, tmp_path / f"shuffled-{attempt}.db", batch=True)
        assert state == expected, [envelope.type for envelope in shuffled]


async def test_every_event_delivered_twice_gives_the_same_state(tmp_path: Path) -> None:
    expected = await _state_after(HISTORY, tmp_path / "once.db", batch=False)
    # handlers see repeats only under a new event ID (the inbox drops same-ID repeats),
    # i.e. the same fact published twice: that must change nothing either
    repeated = [
        copy
        for envelope in HISTORY
        for copy in (envelope, envelope.model_copy(update={"event_id": uuid.uuid4()}))
    ]

    state = await _state_after(repeated, tmp_path / "twice.db", batch=False)

    assert state["limits"] == expected["limits"]
    assert state["blocked"] == expected["blocked"]
    assert [row[:4] for row in state["users"]] == [row[:4] for row in expected["users"]]
