from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import db
from shared.inbox import ProcessedEvent
from shared.outbox import OutboxMessage


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """An embedded SQLite database holding the outbox and processed-events tables."""
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path}/unit.db")
    async with engine.begin() as connection:
        await connection.run_sync(
            db.SharedBase.metadata.create_all,
            tables=[OutboxMessage.__table__, ProcessedEvent.__table__],
        )
    yield db.session_factory(engine)
    await engine.dispose()
