"""A user cache process killed with SIGKILL mid-backlog loses nothing and repeats nothing."""

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from devstack.infra import procs
from services.usercache.models import CachedUser, UserLogin
from shared import db, kafka
from shared.inbox import ProcessedEvent
from shared.settings import normalize_database_url
from tests.integration.usercache.support import login, producer
from tests.support.stack import eventually

BACKLOG = 4000
PARTWAY = 100  # several batches committed, most of the backlog still ahead
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    """Every service process the test starts is killed at teardown, whatever happened."""
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        procs.stop(proc, sig=signal.SIGKILL, grace=5)


def _start(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as output:
        return procs.spawn(
            [sys.executable, "-m", "services.usercache"], output=output, env=env, cwd=REPO
        )


async def _counts(engine) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    """(cached users, their summed logins, login rows, claimed events); zeros before migration."""
    try:
        async with engine.connect() as connection:
            users, logins = (
                await connection.execute(
                    select(func.count(), func.coalesce(func.sum(CachedUser.login_count), 0))
                )
            ).one()
            rows = await connection.scalar(select(func.count()).select_from(UserLogin))
            claimed = await connection.scalar(select(func.count()).select_from(ProcessedEvent))
    except DBAPIError:
        return 0, 0, 0, 0
    return users, logins, rows or 0, claimed or 0


async def test_kill_9_mid_backlog_then_restart_applies_every_event_exactly_once(
    new_database, service_env, processes, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    bootstrap = service_env["kafka_bootstrap_servers"]
    prefix = service_env["kafka_topic_prefix"]
    database_url = await new_database()
    await kafka.ensure_topics(bootstrap, [f"{prefix}auth.events"], partitions=3)
    tenant = uuid.uuid4()
    async with producer(bootstrap) as client:
        for n in range(BACKLOG):
            item = login(tenant, f"user-{n:05d}", minute=n)
            await client.send(f"{prefix}auth.events", item.model_dump_json().encode(), key=item.key)
        await client.flush()
    env = {
        **os.environ,
        "USERCACHE_DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "KAFKA_TOPIC_PREFIX": prefix,
        "USERCACHE_PORT": str(procs.free_port()),
        "USERCACHE_CONSUMER_BATCH_SIZE": "25",
        "LOG_LEVEL": "WARNING",
    }
    engine = db.create_engine(normalize_database_url(database_url))
    log = tmp_path / "usercache.log"
    try:
        first = _start(env, log)
        processes.append(first)

        async def partly_done() -> int | None:
            assert first.poll() is None, procs.tail(log)
            users = (await _counts(engine))[0]
            return users if users >= PARTWAY else None

        seen = await eventually(partly_done, attempts=3000, pause=0.01)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        at_kill = await _counts(engine)

        env["USERCACHE_PORT"] = str(procs.free_port())
        processes.append(_start(env, log))

        async def all_done() -> tuple[int, int, int, int] | None:
            counts = await _counts(engine)
            return counts if counts[0] >= BACKLOG else None

        await eventually(all_done, attempts=600, pause=0.2)
        await asyncio.sleep(1)  # a duplicate applied late would show up here
        final = await _counts(engine)
    finally:
        await engine.dispose()

    assert PARTWAY <= seen < BACKLOG, "the first process was not caught mid-backlog"
    assert at_kill[0] < BACKLOG
    assert first.returncode == -signal.SIGKILL
    assert final == (BACKLOG, BACKLOG, BACKLOG, BACKLOG)
