"""Run service apps inside the test process, against the real broker and databases."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI

from shared.identity import Identity, headers_for
from shared.settings import DEVELOPMENT_SIGNING_KEY

T = TypeVar("T")


class SignedCalls(httpx.Auth):
    """Signs each request as a Cloudivize service would, with a fresh short-lived token."""

    def __init__(self, identity: Identity, key: str = DEVELOPMENT_SIGNING_KEY) -> None:
        self.identity = identity
        self.key = key

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        request.headers.update(headers_for(self.identity, self.key))
        yield request


@asynccontextmanager
async def serving(
    app: FastAPI, identity: Identity | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """Start an app's lifespan (migrations, broker, relay) and talk to it over ASGI."""
    auth = SignedCalls(identity or Identity(caller="tests"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://service", auth=auth
        ) as client:
            yield client


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, attempts: int = 150, pause: float = 0.2
) -> T:
    """Poll until `probe` returns something truthy; fail with the last answer otherwise."""
    last: Any = None
    for _ in range(attempts):
        last = await probe()
        if last:
            return last
        await asyncio.sleep(pause)
    raise AssertionError(f"condition not met after {attempts} attempts; last answer: {last!r}")


async def produce(
    bootstrap: str, topic: str, value: bytes, key: bytes | None, partition: int | None = None
) -> tuple[int, int]:
    """Send one raw record; returns its (partition, offset)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        metadata = await producer.send_and_wait(topic, value, key=key, partition=partition)
    finally:
        await producer.stop()
    return metadata.partition, metadata.offset


async def read_all(bootstrap: str, topic: str, *, until: Callable[[list[Any]], bool]) -> list[Any]:
    """Read a topic from the beginning until `until(records)` holds (bounded)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + 30
        while not until(records) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for partition_records in batch.values():
                records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


async def partitions_of(bootstrap: str, topic: str) -> list[int]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        partitions = sorted(await producer.partitions_for(topic))
    finally:
        await producer.stop()
    assert partitions, f"topic {topic} has no partitions"
    return partitions


async def committed_offset(bootstrap: str, group: str, topic: str, partition: int) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    metadata = offsets.get(TopicPartition(topic, partition))
    return metadata.offset if metadata is not None else -1
