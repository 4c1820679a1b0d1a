"""How a downstream team reads a topic: the kcat and aiokafka examples of its page."""

from __future__ import annotations

from complaints_cli.catalogue_facts import LOCAL_BOOTSTRAP
from contracts import MESSAGES_FOR_TOPIC, RawComplaintSubmitted, Topic
from contracts.schemas import schema_name


def kcat_block(topic: Topic) -> str:
    """Shell commands that read the topic with kcat."""
    lines = [
        "```sh",
        "# follow the topic in your own consumer group (kcat commits the offsets)",
        f"kcat -b {LOCAL_BOOTSTRAP} -G my-team-reader -X auto.offset.reset=earliest \\",
        f"     -f 'key=%k partition=%p offset=%o headers=%h\\n%s\\n' {topic.value}",
        "",
        "# peek at the last 3 messages of every partition, then exit (no group, nothing committed)",
        f"kcat -b {LOCAL_BOOTSTRAP} -C -t {topic.value} -o -3 -e -J",
    ]
    types = [schema_name(m) for m in MESSAGES_FOR_TOPIC[topic] if m is not RawComplaintSubmitted]
    if len(types) > 1:
        lines += [
            "",
            "# one event type only (the rest of the topic skipped)",
            f"kcat -b {LOCAL_BOOTSTRAP} -C -t {topic.value} -o beginning -e -u \\",
            f"  | jq -c 'select(.type == \"{types[-1]}\")'",
        ]
    return "\n".join([*lines, "```"])


AIOKAFKA_TEMPLATE = """\
import asyncio
import json

from aiokafka import AIOKafkaConsumer


async def main() -> None:
    consumer = AIOKafkaConsumer(
        "{topic}",
        bootstrap_servers="{bootstrap}",
        group_id="my-team-reader",  # your own group, never one of the pipeline's
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        async for record in consumer:
{handle}
            await consumer.commit()  # after your work is stored
    finally:
        await consumer.stop()


asyncio.run(main())
"""


def aiokafka_block(topic: Topic) -> str:
    """A complete Python consumer of the topic with aiokafka."""
    models = [m for m in MESSAGES_FOR_TOPIC[topic] if m is not RawComplaintSubmitted]
    if not models:
        handle = ["message = json.loads(record.value)  # a channel format: see the schema"]
    else:
        handle = ["event = json.loads(record.value)"]
        for i, model in enumerate(models):
            handle += [
                f'{"if" if i == 0 else "elif"} event["type"] == "{schema_name(model)}":',
                f'    ...  # {model.__name__}; dedupe on event["id"] (at least once)',
            ]
        handle.append("# other types: ignore them (new ones may come to this topic)")
    code = AIOKAFKA_TEMPLATE.format(
        topic=topic.value,
        bootstrap=LOCAL_BOOTSTRAP,
        handle="\n".join(" " * 12 + line for line in handle),
    )
    return f"```python\n{code}```"
