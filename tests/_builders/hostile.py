"""The hostile-input corpora: their entries, the bytes each stands for, and a service on a test
broker that takes them through its real subscription (`servicekit.subscriptions.consume`).

Every corpus is a JSON-lines file under `tests/<service>/corpus/`; each entry has an `id`, a
`why` (what it attacks) and an `expect` (the outcome class the test asserts), plus one way of
spelling its bytes (see `payload`). docs/security.md describes the corpora.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

import pytest
import yaml
from _pytest.mark.structures import ParameterSet
from aiokafka.structs import ConsumerRecord
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.kafka.testing import _find_handler
from pydantic import TypeAdapter, ValidationError

from contracts import DeadLetter, MessageDeadLettered, Topic
from servicekit import shell
from servicekit.delivery import DeliveryPolicy
from servicekit.mongo import check_document, check_filter, check_update
from servicekit.signing import SERVICES, WRITER, Signer, SigningSettings

V = TypeVar("V")
Entry = dict[str, Any]
EXPECTED_FIELDS = frozenset({"id", "why", "expect"})
MAX_DETAIL = 200
"""A rejection's detail is a short explanation, never an echo of the hostile input."""


def entries(path: Path) -> list[Entry]:
    """The entries of one corpus file (ids unique, `id` / `why` / `expect` present)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = [json.loads(line) for line in lines if line.strip()]
    ids = [entry["id"] for entry in found]
    assert len(ids) == len(set(ids)), f"{path.name}: duplicate ids"
    for entry in found:
        assert entry.keys() >= EXPECTED_FIELDS, f"{path.name}: {entry.get('id')} lacks a field"
    return found


def corpus(path: Path) -> list[ParameterSet]:
    """Entries as pytest parameters named by their ids."""
    return [pytest.param(entry, id=entry["id"]) for entry in entries(path)]


def _raw(spec: Mapping[str, Any]) -> str:
    """Raw text (possibly not JSON at all) for one value: `text`, or `repeat`:
    `prefix` + `unit` × `times` + `middle` + `then` × `times` + `suffix`."""
    if "repeat" in spec:
        rep = spec["repeat"]
        times = int(rep["times"])
        return "".join(
            (
                str(rep.get("prefix", "")),
                str(rep["unit"]) * times,
                str(rep.get("middle", "")),
                str(rep.get("then", "")) * times,
                str(rep.get("suffix", "")),
            )
        )
    return str(spec["text"])


def _dumps(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate: keep it as a JSON escape
        return json.dumps(value)
    return text


def _walk(root: Any, path: str) -> tuple[Any, str | int]:
    """The container holding `path` (dotted; digits index lists) and the last step."""
    *steps, last = path.split(".")
    node = root
    for step in steps:
        node = node[int(step)] if isinstance(node, list) else node[step]
    return node, int(last) if isinstance(node, list) else last


def payload(entry: Mapping[str, Any], bases: Mapping[str, Any] | None = None) -> bytes:
    """The bytes an entry stands for.

    - `text`: the string, UTF-8 (lone surrogates kept); `base64`: the bytes themselves;
    - `repeat`: `prefix` + `unit` × `times` + `middle` + `then` × `times` + `suffix` (deep
      nesting, huge payloads);
    - `json`: the value, or `base`: a valid event from `bases`, serialised after `set`
      ({dotted path: value}), `drop` ([dotted path]) and `raw` ({dotted path: {"text" |
      "repeat": …}}: raw text put in place of the value, e.g. 5000 nested arrays).
    """
    if "text" in entry:
        return str(entry["text"]).encode("utf-8", "surrogatepass")
    if "base64" in entry:
        return base64.b64decode(str(entry["base64"]))
    if "repeat" in entry:
        return _raw(entry).encode("utf-8", "surrogatepass")
    if "json" in entry:
        document = json.loads(_dumps(entry["json"]))
    else:
        assert bases is not None, f"{entry['id']}: no payload"
        document = json.loads(json.dumps(bases[entry["base"]]))
    for path, value in (entry.get("set") or {}).items():
        node, last = _walk(document, path)
        node[last] = value
    for path in entry.get("drop") or []:
        node, last = _walk(document, path)
        del node[last]
    raws: dict[str, str] = {}
    for index, (path, spec) in enumerate((entry.get("raw") or {}).items()):
        marker = f"@@raw{index}@@"
        node, last = _walk(document, path)
        node[last] = marker
        raws[json.dumps(marker)] = _raw(spec)
    text = _dumps(document)
    for marker, raw in raws.items():
        text = text.replace(marker, raw)
    return text.encode("utf-8", "surrogatepass")


def parsed(adapter: TypeAdapter[V], bodies: Sequence[bytes]) -> list[V]:
    """Those of `bodies` that are `adapter`'s type (a topic also carries the hostile input)."""
    out: list[V] = []
    for body in bodies:
        try:
            out.append(adapter.validate_json(body))
        except ValidationError:
            continue
    return out


_DEAD = TypeAdapter(MessageDeadLettered)
DEV_SIGNERS = {name: Signer.of(name, SigningSettings(dev_keys=True)) for name in SERVICES}
"""Each service's signer under the default (dev-only) keys the apps under test verify with."""


def signed_record(topic: Topic, body: bytes, signer: Signer, key: bytes = b"") -> Any:
    """A consumed record of `body` carrying `signer`'s signature headers."""
    headers = [(k, v.encode()) for k, v in signer.headers(topic.value, key, body).items()]
    return ConsumerRecord(
        topic=topic.value,
        partition=0,
        offset=0,
        timestamp=0,
        timestamp_type=1,
        key=key,
        value=body,
        checksum=None,
        serialized_key_size=len(key),
        serialized_value_size=len(body),
        headers=headers,
    )


class ServiceOnBroker:
    """A service app (in-memory ports) on FastStream's test broker: batches go in through its
    own subscriptions; what it publishes is collected per topic."""

    def __init__(self, app: AsgiFastStream, *, collect: Sequence[Topic]) -> None:
        self.broker = cast(KafkaBroker, app.broker)
        self.published: dict[str, list[bytes]] = defaultdict(list)
        for topic in {*collect, Topic.DLQ}:
            self.broker.subscriber(topic.value)(self._collector(topic.value))
        self._test = TestKafkaBroker(self.broker)

    def _collector(self, topic: str) -> Callable[[KafkaMessage], Any]:
        async def collect(message: KafkaMessage) -> None:
            self.published[topic].append(message.body)

        return collect

    async def __aenter__(self) -> ServiceOnBroker:
        await self._test.__aenter__()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self._test.__aexit__(kind, error, trace)

    async def batch(
        self, topic: Topic, bodies: Sequence[bytes], *, signer: Signer | bool | None = True
    ) -> None:
        """Deliver `bodies` to the service's subscriber of `topic` as one consumed batch, each
        signed as the topic's owner would (`signer=True`), as `signer`, or unsigned (`None`)."""
        if signer is True:
            signer = DEV_SIGNERS.get(WRITER.get(topic, ""))
        if not isinstance(signer, Signer):
            await self.broker.publish_batch(*bodies, topic=topic.value)
            return
        records = [signed_record(topic, body, signer) for body in bodies]
        for subscriber in _find_handler(cast(Any, self.broker.subscribers), topic.value, None):
            if isinstance(subscriber, BatchSubscriber):
                await subscriber.process_message(records)
            else:  # a collector of what the service publishes
                for record in records:
                    await subscriber.process_message(record)

    def events(self, topic: Topic, adapter: TypeAdapter[V]) -> list[V]:
        """What was published on `topic` that parses as `adapter`'s type."""
        return parsed(adapter, self.published[topic.value])

    def dead_letters(self) -> list[DeadLetter]:
        """Dead-letter records the service published."""
        return [event.data for event in self.events(Topic.DLQ, _DEAD)]


def without_retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Services built from here on isolate a failing message at once (the policy's real retries
    sleep seconds between attempts; a hostile entry that makes a handler raise still shows up,
    as a `processing_error` dead letter, and fails its test)."""
    monkeypatch.setattr(shell, "DeliveryPolicy", partial(DeliveryPolicy, max_attempts=1))


def assert_dead_letters(entry: Entry, hostile: bytes, letters: Sequence[DeadLetter]) -> None:
    """The hostile message is dead-lettered with the entry's reason (or not at all, for entries
    handled safely), nothing else of the batch is, and the detail explains without echoing."""
    # Matched by digest: an original over the dead-letter bound is recorded without its bytes.
    digest = hashlib.sha256(hostile).hexdigest()
    mine = [d for d in letters if d.payload_sha256 == digest]
    others = [d for d in letters if d.payload_sha256 != digest]
    assert [(d.reason, d.detail) for d in others] == [], "a good message was dead-lettered"
    if entry["expect"] == "dead_letter":
        assert [d.reason for d in mine] == [entry["reason"]]
        [letter] = mine
        assert letter.detail
        assert len(letter.detail) <= MAX_DETAIL
    else:
        assert [(d.reason, d.detail) for d in mine] == []


class Write:
    """One write a Mongo adapter sent: the filter and the update (or inserted document)."""

    def __init__(self, collection: str, kind: str, query: Any, update: Any) -> None:
        self.collection = collection
        self.kind = kind
        self.query = query
        self.update = update


class _Cursor:
    def sort(self, *_: Any, **__: Any) -> _Cursor:
        return self

    async def to_list(self, *_: Any) -> list[Any]:
        return []


class _Result:
    modified_count = 1
    matched_count = 1


def check_write(write: Write) -> None:
    """An inserted document holds no operator or path; an update's filter and update neither
    (but for our own `$in` over a list of keys, each of which must be plain data)."""
    if write.kind == "insert":
        check_document(write.update)
        return
    if write.query is not None:
        check_filter(write.query, operators=frozenset({"$in"}))
    check_update(write.update)


class RecordingCollection:
    """Stands in for an AsyncCollection: keeps every filter and update it is sent, finds
    nothing. Enough to see exactly what an adapter would write for given input."""

    def __init__(self, name: str, writes: list[Write], database: RecordingDatabase) -> None:
        self.name = name
        self.writes = writes
        self.database = database

    def find(self, query: Any, *_: Any, **__: Any) -> _Cursor:
        self.writes.append(Write(self.name, "find", query, None))
        return _Cursor()

    async def update_one(self, query: Any, update: Any, **_: Any) -> _Result:
        self.writes.append(Write(self.name, "update", query, update))
        return _Result()

    async def update_many(self, query: Any, update: Any, **_: Any) -> _Result:
        self.writes.append(Write(self.name, "update", query, update))
        return _Result()

    async def bulk_write(self, operations: Sequence[Any], **_: Any) -> _Result:
        for op in operations:
            self.writes.append(Write(self.name, "update", op._filter, op._doc))
        return _Result()

    async def insert_many(self, documents: Sequence[Any], **_: Any) -> _Result:
        self.writes.extend(Write(self.name, "insert", None, doc) for doc in documents)
        return _Result()


class RecordingDatabase:
    """`db[name]` gives a recording collection; `writes` lists what all of them were sent."""

    def __init__(self) -> None:
        self.writes: list[Write] = []

    def __getitem__(self, name: str) -> RecordingCollection:
        return RecordingCollection(name, self.writes, self)


def mutated_pack(policies: Path, root: Path, entry: Entry) -> Path:
    """A copy of `policies` under `root` with one file changed as the entry says; its path.

    `file` names the file (relative to the policies folder); the change is `content` (the
    whole file, spelled like a payload), `append`, `prepend`, `replace` ([old, new], the old
    text must be in the shipped file), or `yaml_set` / `yaml_drop` (dotted paths into the
    parsed file, written back as YAML).
    """
    target = root / "policies"
    shutil.copytree(policies, target)
    path = target / entry["file"]
    if "content" in entry:
        path.write_bytes(payload(entry["content"]))
    elif "yaml_set" in entry or "yaml_drop" in entry:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for dotted, value in (entry.get("yaml_set") or {}).items():
            node, last = _walk(document, dotted)
            node[last] = value
        for dotted in entry.get("yaml_drop") or []:
            node, last = _walk(document, dotted)
            del node[last]
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if "replace" in entry:
            old, new = entry["replace"]
            assert old in text, f"{entry['id']}: {old!r} is not in {entry['file']}"
            text = text.replace(old, new, 1)
        text = str(entry.get("prepend", "")) + text + str(entry.get("append", ""))
        path.write_text(text, encoding="utf-8")
    return target


def assert_policy_outcome(entry: Entry, load: Callable[[], object], error: type[Exception]) -> None:
    """`load` (the service's start-up) succeeds, or fails with `error` naming the file and
    every `match` fragment, briefly (never an echo of a huge or exploding document)."""
    if entry["expect"] == "loads":
        load()
        return
    assert entry["expect"] == "policy_error"
    with pytest.raises(error) as failed:
        load()
    message = str(failed.value)
    assert type(failed.value) is error, f"{type(failed.value).__name__}: {message}"
    assert Path(entry["file"]).name in message, message
    for fragment in entry.get("match", []):
        assert fragment in message, message
    assert len(message) < 2000
