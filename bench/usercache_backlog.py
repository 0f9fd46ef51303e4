"""How fast the user cache absorbs a backlog of `user.logged_in`, beside a bare consumer.

    .venv/bin/python -m bench.usercache_backlog --events 20000

Both drain the same topic in the same run, each under a consumer group of its own: first
a bare aiokafka consumer that only counts records, then the user cache service (batch
transactions against PostgreSQL, event claims, the login upserts). Each rate counts from
the first record seen to the last one done, so neither includes the group join.

Infrastructure comes from KAFKA_BOOTSTRAP_SERVERS and TEST_DATABASE_URL when set, else
devstack starts a broker and a PostgreSQL server for the run.
"""

import argparse
import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import func, select

from devstack.infra import discover, postgres
from services.usercache.app import build_app
from services.usercache.settings import UsercacheSettings
from shared import kafka
from shared.events import AUTH_TOPIC, Envelope, UserLoggedIn
from shared.inbox import ProcessedEvent

POLL = 0.02


@dataclass(frozen=True)
class Run:
    bootstrap: str
    admin_url: str
    prefix: str
    events: int
    batch_size: int
    partitions: int

    @property
    def topic(self) -> str:
        return self.prefix + AUTH_TOPIC


def backlog(count: int, tenants: int = 20) -> Iterator[Envelope]:
    """Logins of count/2 users, each twice: half are first logins, half refreshes."""
    tenant_ids = [uuid.uuid4() for _ in range(tenants)]
    users = max(count // 2, 1)
    for n in range(count):
        user = n % users
        event = UserLoggedIn(
            user_id=f"user-{user}",
            name=f"User {user}",
            email=f"user{user}@example.com",
            source="sso",
            granted_account_ids=["111111111111", "222222222222"],
        )
        yield Envelope.wrap(event, tenant_ids[user % tenants])


async def produce(run: Run) -> None:
    await kafka.ensure_topics(run.bootstrap, [run.topic], partitions=run.partitions)
    producer = AIOKafkaProducer(bootstrap_servers=run.bootstrap, linger_ms=20)
    await producer.start()
    try:
        for envelope in backlog(run.events):
            await producer.send(run.topic, envelope.model_dump_json().encode(), key=envelope.key)
        await producer.flush()
    finally:
        await producer.stop()


async def drain_bare(run: Run) -> float:
    """Events per second a consumer that does nothing with them reaches."""
    consumer = AIOKafkaConsumer(
        run.topic,
        bootstrap_servers=run.bootstrap,
        group_id=f"{run.prefix}bare",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen, first = 0, 0.0
    try:
        while seen < run.events:
            batch = await consumer.getmany(timeout_ms=200, max_records=run.batch_size)
            if batch and not first:
                first = time.perf_counter()
            seen += sum(len(records) for records in batch.values())
            if batch:
                await consumer.commit()
        return run.events / (time.perf_counter() - first)
    finally:
        await consumer.stop()


async def drain_service(run: Run) -> float:
    """Events per second the user cache applies, measured on its processed-events table."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    database_url = await postgres.create_database(run.admin_url, name)
    try:
        settings = UsercacheSettings(
            database_url=database_url,
            kafka_bootstrap_servers=run.bootstrap,
            kafka_topic_prefix=run.prefix,
            consumer_batch_size=run.batch_size,
            log_level="WARNING",
        )
        app = build_app(settings)
        async with app.router.lifespan_context(app):
            return await _rate(app.state.runtime.sessions, run.events)
    finally:
        await postgres.drop_database(run.admin_url, name)


async def _rate(sessions, events: int) -> float:  # type: ignore[no-untyped-def]
    first = 0.0
    while True:
        async with sessions() as session:
            done = await session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0
        now = time.perf_counter()
        if done and not first:
            first, first_done = now, done
        if done >= events:
            # the records done before the first poll saw any are not in the interval
            return (done - first_done) / (now - first) if now > first else float("nan")
        await asyncio.sleep(POLL)


async def delete_topics(run: Run) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=run.bootstrap)
    await admin.start()
    try:
        names = [name for name in await admin.list_topics() if name.startswith(run.prefix)]
        with contextlib.suppress(Exception):
            await admin.delete_topics(names)
    finally:
        await admin.close()


async def bench(run: Run) -> None:
    await produce(run)
    print(f"backlog: {run.events} user.logged_in on {run.partitions} partitions")
    try:
        bare = await drain_bare(run)
        print(f"bare aiokafka consumer: {bare:10.0f} events/s")
        service = await drain_service(run)
        print(f"user cache service:     {service:10.0f} events/s")
        print(f"ratio service/bare:     {service / bare:10.3f}")
    finally:
        await delete_topics(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--partitions", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    with discover.kafka_bootstrap_servers() as bootstrap, discover.postgres_admin_url() as admin:
        run = Run(
            bootstrap=bootstrap,
            admin_url=admin,
            prefix=f"bench-{uuid.uuid4().hex[:8]}.",
            events=args.events,
            batch_size=args.batch_size,
            partitions=args.partitions,
        )
        asyncio.run(bench(run))


if __name__ == "__main__":
    main()
