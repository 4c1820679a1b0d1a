"""The Markdown catalogue: `docs/topics.md` and one page per topic in `docs/topics/`."""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Sequence

from pydantic import BaseModel

from complaints_cli.catalogue_facts import (
    ASYNCAPI_DIR,
    CAUTIONS,
    EXAMPLES,
    GENERATED,
    GENERATED_END,
    LOCAL_BOOTSTRAP,
    NOTES,
    SCHEMA_DIR,
    SERVICES,
    ServiceEntry,
    producers,
)
from complaints_cli.subscribe_examples import aiokafka_block, kcat_block
from contracts import COMPACTED, MESSAGES_FOR_TOPIC, PARTITIONS, RETENTION_DAYS, Topic
from contracts.schemas import schema_name
from servicekit.asyncapi import COMPLAINT_KEY, KEYS, Subscription, topic_of


def topic_summaries() -> dict[Topic, str]:
    """Each topic's attribute docstring in `contracts.topics` (what travels on it)."""
    tree = ast.parse(inspect.getsource(sys.modules[Topic.__module__]))
    found: dict[Topic, str] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.ClassDef) and node.name == Topic.__name__):
            continue
        for prev, doc in zip(node.body, node.body[1:], strict=False):
            if (
                isinstance(prev, ast.Assign)
                and isinstance(prev.targets[0], ast.Name)
                and isinstance(doc, ast.Expr)
                and isinstance(doc.value, ast.Constant)
            ):
                found[Topic[prev.targets[0].id]] = str(doc.value.value).strip()
    return found


def first_paragraph(model: type[BaseModel]) -> str:
    """The first paragraph of a model's docstring, on one line."""
    text = inspect.getdoc(model) or ""
    return " ".join(text.split("\n\n")[0].split())


def example(model: type[BaseModel]) -> str:
    """The golden example payload of a model, as committed."""
    return (EXAMPLES / f"{schema_name(model)}.json").read_text(encoding="utf-8").strip()


def _producer_text(topic: Topic, entries: Sequence[ServiceEntry]) -> str:
    names: dict[str, list[str]] = {}
    for who, model in producers(topic, entries):
        label = f"**{who}**" if who in SERVICES else who
        names.setdefault(label, []).append(f"`{schema_name(model)}`")
    return "; ".join(f"{who} ({', '.join(types)})" for who, types in names.items())


def _consumer_text(subs: Sequence[Subscription]) -> str:
    return "; ".join(f"**{s.service}** (group `{s.group}`)" for s in subs) or "none in the pipeline"


def _days(topic: Topic) -> str:
    if topic in COMPACTED:
        return "compacted: the latest record per complaint, kept for good"
    return f"{RETENTION_DAYS[topic]} days"


def _event_section(
    model: type[BaseModel], depth: str, entries: Sequence[ServiceEntry]
) -> list[str]:
    name = schema_name(model)
    makers = [who for who, m in producers(topic_of(model), entries) if m is model]
    return [
        f"### `{name}` — {model.__name__}",
        "",
        first_paragraph(model),
        "",
        f"- Schema: [`{SCHEMA_DIR / f'{name}.json'}`]({depth}{SCHEMA_DIR}/{name}.json)",
        f"- Produced by: {', '.join(makers)}",
        "",
        "Example:",
        "",
        "```json",
        example(model),
        "```",
        "",
    ]


def topic_page(topic: Topic, entries: Sequence[ServiceEntry]) -> str:
    """The page of one topic: key, schemas, partitions, retention, who writes and reads it."""
    subs = [s for e in entries for s in e.subscriptions if s.topic is topic]  # in pipeline order
    depth = "../../"
    raw = topic is Topic.RAW
    wire = (
        "plain JSON (`content-type: application/json`), one message per complaint"
        if raw
        else "CloudEvents 1.0, structured JSON (`content-type: application/cloudevents+json`);"
        " the header `ce_type` repeats the event type"
    )
    handlers = [f"- **{s.service}**, group `{s.group}`: {s.description}" for s in subs]
    asyncapi = sorted(
        {s.service for s in subs} | {who for who, _ in producers(topic, entries)} & set(SERVICES)
    )
    lines = [
        f"# `{topic.value}`",
        "",
        GENERATED + GENERATED_END,
        "",
        topic_summaries()[topic],
        "",
        *([f"> **Restricted.** {CAUTIONS[topic]}", ""] if topic in CAUTIONS else []),
        *([f"> **Reading it.** {NOTES[topic]}", ""] if topic in NOTES else []),
        "| | |",
        "|---|---|",
        f"| Key | {KEYS.get(topic, COMPLAINT_KEY)} |",
        f"| Value | {wire} |",
        f"| Partitions | {PARTITIONS[topic]} |",
        f"| Retention | {_days(topic)} |",
        f"| Producers | {_producer_text(topic, entries)} |",
        f"| Consumers | {_consumer_text(subs)} |",
        "",
        "## Consumers in the pipeline",
        "",
        *(handlers or ["None: this topic is for downstream systems and operators."]),
        "",
        "## Messages",
        "",
    ]
    for model in MESSAGES_FOR_TOPIC[topic]:
        lines += _event_section(model, depth, entries)
    lines += [
        "## Subscribing",
        "",
        f"Examples use the local stack's broker `{LOCAL_BOOTSTRAP}`; use your cluster's bootstrap"
        " servers and credentials elsewhere. Read in your own consumer group. Delivery is at least"
        " once: dedupe on the event `id`, and ignore fields and event types you do not know.",
        "",
        "With [kcat](https://github.com/edenhill/kcat) (Debian package `kcat`):",
        "",
        kcat_block(topic),
        "",
        "With [aiokafka](https://aiokafka.readthedocs.io/):",
        "",
        aiokafka_block(topic),
        "",
        "AsyncAPI: " + ", ".join(f"[{s}]({depth}{ASYNCAPI_DIR}/{s}.json)" for s in asyncapi) + ".",
        "",
    ]
    return "\n".join(lines)


def _outside(topic: Topic, entries: Sequence[ServiceEntry]) -> bool:
    return any(who not in SERVICES for who, _ in producers(topic, entries))


def index_page(entries: Sequence[ServiceEntry]) -> str:
    """`docs/topics.md`: every topic in one table, the conventions, where the documents are."""
    subs = [s for entry in entries for s in entry.subscriptions]
    rows = [
        f"| [`{t.value}`](topics/{t.value}.md) | {topic_summaries()[t]} | "
        + ", ".join(f"`{schema_name(m)}`" for m in MESSAGES_FOR_TOPIC[t])
        + f" | {PARTITIONS[t]} | {_days(t)} | "
        + ", ".join(dict.fromkeys(who for who, _ in producers(t, entries) if who in SERVICES))
        + (" + outside systems" if _outside(t, entries) else "")
        + " | "
        + (", ".join(sorted({s.group for s in subs if s.topic is t})) or "—")
        + " |"
        for t in Topic
    ]
    services = [
        f"- **{e.service}** — {e.description} "
        f"[`{ASYNCAPI_DIR}/{e.service}.json`](../{ASYNCAPI_DIR}/{e.service}.json)"
        for e in entries
    ]
    return "\n".join(
        [
            "# Topic catalogue",
            "",
            GENERATED + GENERATED_END,
            "",
            "What the pipeline publishes on Kafka, for the teams that subscribe to it. Every topic"
            " carries one event family; its name ends in the major version (`.v1`), and a breaking"
            " change would get a new topic. Within a version, fields are only added: read"
            " tolerantly. Events are CloudEvents 1.0 in structured JSON; the message key is the"
            " complaint id, so all events of one complaint arrive in order on one partition."
            " Delivery is at least once: dedupe on the event `id`, which is the same whenever the"
            " same cause is published again.",
            "",
            "| Topic | What | Event types | Partitions | Retention | Producers | Groups |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            "## Documents",
            "",
            "- JSON Schema of every message: [`shared/schemas/`](../shared/schemas/)"
            " (`make schemas`).",
            "- AsyncAPI 3.0 per service, generated by FastStream from its app"
            " (`python -m <service>.docs` prints it):",
            *(f"  {line}" for line in services),
            "- Golden example payloads: [`shared/src/contracts/examples/`]"
            "(../shared/src/contracts/examples/).",
            "",
            "Regenerate after changing a contract, a subscription or a producer:"
            " `complaints catalogue --write`. `tests/ops/test_catalogue.py` fails while the"
            " committed catalogue differs from what the code says.",
            "",
        ]
    )
