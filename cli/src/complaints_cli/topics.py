"""Reading a whole topic from the beginning, for checks that look at what really went out."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import PARTITIONS, Topic
from servicekit.kafka import tool_client_kwargs


async def read_all(bootstrap: str, topic: Topic) -> AsyncIterator[bytes]:
    """Every record value on `topic` up to its current end (no consumer group, no commits)."""
    consumer = AIOKafkaConsumer(**tool_client_kwargs(bootstrap), enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic.value, p) for p in range(PARTITIONS[topic])]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)

        async def behind() -> bool:
            return any([await consumer.position(p) < ends[p] for p in parts])

        while await behind():
            for records in (await consumer.getmany(timeout_ms=1000, max_records=5000)).values():
                for record in records:
                    if record.value is not None:
                        yield record.value
    finally:
        await consumer.stop()
