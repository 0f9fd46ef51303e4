"""Revision 0002 upgrades a database that already holds tenants, on both backends."""

import asyncio
import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from services.tenants.app import MIGRATIONS
from shared.db import create_engine


def _upgrade(database_url: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    command.upgrade(config, revision)


async def _execute(database_url: str, statement: str, **params: object) -> list[tuple]:  # type: ignore[type-arg]
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
async def empty_database(request, new_database, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'tenants.db'}"
    return await new_database()


async def test_existing_tenants_get_an_external_id_of_their_own(empty_database: str) -> None:
    await asyncio.to_thread(_upgrade, empty_database, "0001")
    for name in ("old-one", "old-two"):
        await _execute(
            empty_database,
            "INSERT INTO tenants (id, name, slug, root_email, status, mode, created_at, updated_at)"
            " VALUES (:id, :name, :name, 'root@example.com', 'active', 'iam_role',"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            id=uuid.uuid4().hex if "sqlite" in empty_database else uuid.uuid4(),
            name=name,
        )

    await asyncio.to_thread(_upgrade, empty_database, "head")

    rows = await _execute(empty_database, "SELECT external_id FROM tenants")
    external_ids = [row[0] for row in rows]
    assert len(external_ids) == 2
    assert len(set(external_ids)) == 2
    assert all(len(external_id) >= 32 for external_id in external_ids)
