from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from devstack.infra import kafka
from devstack.infra.procs import free_ports
from shared.kafka import ensure_topics


async def test_a_message_produced_to_the_broker_is_consumed_back(
    kafka_bootstrap_servers: str, unique_topic: str, topic_prefix: str
) -> None:
    await ensure_topics(kafka_bootstrap_servers, [unique_topic], partitions=2)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
    consumer = AIOKafkaConsumer(
        unique_topic,
        bootstrap_servers=kafka_bootstrap_servers,
        group_id=f"{topic_prefix}-group",
        auto_offset_reset="earliest",
    )
    await producer.start()
    await consumer.start()

    try:
        await producer.send_and_wait(unique_topic, b"hello", key=b"tenant-1")
        batches = await consumer.getmany(timeout_ms=20_000, max_records=1)
    finally:
        await producer.stop()
        await consumer.stop()

    records = [record for batch in batches.values() for record in batch]
    assert [(r.key, r.value) for r in records] == [(b"tenant-1", b"hello")]


async def test_ensure_topics_creates_missing_topics_with_the_partition_count(
    kafka_bootstrap_servers: str, topic_prefix: str
) -> None:
    names = [f"{topic_prefix}.a", f"{topic_prefix}.b"]

    await ensure_topics(kafka_bootstrap_servers, names, partitions=3)
    await ensure_topics(kafka_bootstrap_servers, names, partitions=3)

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
    await producer.start()
    try:
        counts = [len(await producer.partitions_for(name)) for name in names]
    finally:
        await producer.stop()
    assert counts == [3, 3]


def test_storage_formats_with_a_cluster_id_that_starts_with_a_dash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    jars = kafka.ensure_jars()
    config = kafka.write_config(tmp_path, *free_ports(2))

    kafka.format_storage(jars, tmp_path, config, cluster_id="-" + kafka.new_cluster_id()[1:])

    assert (tmp_path / "logs" / "meta.properties").exists()
