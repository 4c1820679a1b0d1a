"""Reading a topic from the beginning (or from offsets taken earlier), for checks that look at
what really went out. A check that polls should take the topic's end offsets before it acts and
read from them: on a long-lived stack a topic holds every earlier run's records, and rescanning
them on each poll can outlast the poll's whole limit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import PARTITIONS, Topic
from servicekit.kafka import tool_client_kwargs


async def end_offsets(bootstrap: str, topic: Topic) -> dict[int, int]:
    """Partition → the offset the next record on `topic` will get (what `since` takes)."""
    consumer = AIOKafkaConsumer(**tool_client_kwargs(bootstrap), enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic.value, p) for p in range(PARTITIONS[topic])]
        return {tp.partition: offset for tp, offset in (await consumer.end_offsets(parts)).items()}
    finally:
        await consumer.stop()


async def read_all(
    bootstrap: str, topic: Topic, since: Mapping[int, int] | None = None
) -> AsyncIterator[bytes]:
    """Every record value on `topic` up to its current end, from the beginning or from the
    offsets in `since` (no consumer group, no commits)."""
    consumer = AIOKafkaConsumer(**tool_client_kwargs(bootstrap), enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic.value, p) for p in range(PARTITIONS[topic])]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        for part in parts:
            if since and part.partition in since:
                consumer.seek(part, since[part.partition])
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
