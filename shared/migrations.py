"""Alembic, run by each service at start, and table helpers its migrations share.

A service's `migrations/env.py` calls `run_env(Base.metadata)`; its app calls
`upgrade(script_location, database_url)` before serving. On PostgreSQL an advisory lock
keeps two replicas from migrating at once.
"""

import asyncio
import zlib
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from shared.db import UtcDateTime, create_engine


def upgrade(script_location: Path, database_url: str) -> None:
    """Bring the database to the newest revision (blocking; run it in a thread)."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["database_url"] = database_url
    command.upgrade(config, "head")


def run_env(target_metadata: MetaData) -> None:
    """The body of every service's `env.py`: online migrations over the async engine."""
    url = context.config.attributes["database_url"]
    asyncio.run(_migrate(url, target_metadata))


async def _migrate(url: str, target_metadata: MetaData) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_migrate_sync, target_metadata)
            await connection.commit()
    finally:
        await engine.dispose()


def _migrate_sync(connection: Connection, target_metadata: MetaData) -> None:
    if connection.dialect.name == "postgresql":
        lock_id = zlib.crc32(str(context.config.get_main_option("script_location")).encode())
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def create_outbox_table() -> None:
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_outbox_unsent", "outbox", ["sent_at", "id"])


def create_processed_events_table() -> None:
    op.create_table(
        "processed_events",
        sa.Column("consumer_group", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.Uuid(), primary_key=True),
        sa.Column("processed_at", UtcDateTime(), nullable=False),
    )
