"""What a case document keeps packed: the parts only the SLA reads, and only whole (ADR 0023).

The local FerretDB decodes every row it reads, element by element, before it filters or projects:
its cost follows the number of BSON elements, not the bytes (bench/doc_shape.py: a clock sheet as
nested documents costs 5–7× more per read and compare-and-set than the same data as one binary).
So a clock entry keeps plain only what other readers rely on (the `CASE_SHEETS` read model:
key, clock, severity, occurrence, status, times, thresholds passed, whether it is paused) and
packs the rest (thresholds, pause base, lease, versions, counters) into one BSON binary `x`; a
log entry keeps its `id` plain (the compare-and-set's check reads `log.id`) and packs the rest
into one JSON *text* `x`: its events carry staff's free text (reasons, details), and the privacy
erasure (ADR 0017) replaces a person's identifiers in every text of the case, which it cannot do
inside a binary. Entries stored before this (no `x`) read as they are.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import bson
import orjson
from bson.codec_options import CodecOptions

from servicekit.mongo import Document

PACKED = "x"
CLOCK_PLAIN = (
    "key",
    "clock",
    "severity",
    "occurrence",
    "status",
    "started_at",
    "due_at",
    "stopped_at",
    "passed",
)
"""The clock entry's fields of the `CASE_SHEETS` read model, besides `pause_base`."""
_DECODE: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True, tzinfo=UTC)


def pack_clock(doc: Document) -> Document:
    """A clock entry as stored: read-model fields plain, `pause_base` reduced to its due time
    (readers ask only whether the clock is paused), the rest in `x`."""
    out = {name: doc[name] for name in CLOCK_PLAIN if name in doc}
    out[PACKED] = bson.encode({k: v for k, v in doc.items() if k not in out})
    base = doc.get("pause_base")
    out["pause_base"] = {"due_at": base["due_at"]} if base else None
    return out


def unpack_clock(doc: Document) -> Document:
    """A stored clock entry back as `clock_doc` wrote it."""
    raw = doc.get(PACKED)
    if raw is None:
        return doc  # stored before ADR 0023: every field plain
    rest = bson.decode(bytes(raw), codec_options=_DECODE)
    return {**{k: v for k, v in doc.items() if k != PACKED}, **rest}


def pack_log(doc: Document) -> Document:
    """A log entry as stored: its id plain, its time and events (JSON already) as JSON text."""
    rest = {"at": doc["at"].isoformat(), "events": doc["events"]}
    return {"id": doc["id"], PACKED: json.dumps(rest, ensure_ascii=False, separators=(",", ":"))}


def unpack_log(doc: Document) -> Document:
    """A stored log entry back as `log_doc` wrote it."""
    raw = doc.get(PACKED)
    if raw is None:
        return doc  # stored before ADR 0023: every field plain
    rest = json.loads(raw)
    return {"id": doc["id"], "at": datetime.fromisoformat(rest["at"]), "events": rest["events"]}


def _time(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _thresholds(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for threshold in raw:
        threshold["at"] = _time(threshold["at"])
    return raw


def _entry(doc: dict[str, Any]) -> Document:
    """A decoded entry's times back as datetimes (entry, thresholds, pause base, lease)."""
    for key in ("started_at", "due_at", "stopped_at"):
        if key in doc:
            doc[key] = _time(doc[key])
    _thresholds(doc.get("thresholds") or [])
    if base := doc.get("pause_base"):
        base["due_at"] = _time(base["due_at"])
        _thresholds(base.get("thresholds") or [])
    if lease := doc.get("lease"):
        lease["until"] = _time(lease["until"])
    return doc


def pack_sheet(docs: Sequence[Document]) -> str:
    """The whole clock sheet as stored (`CASE_SHEETS` v2, ADR 0028): its entries, as `clock_doc`
    writes them, in one JSON text — one element for the server to decode, not ~12 per entry.
    orjson writes aware times exactly as `isoformat` does, in C (json called Python per time)."""
    return orjson.dumps(list(docs)).decode()


def unpack_sheet(stored: Any) -> list[Document]:
    """A stored sheet back as `clock_doc` wrote its entries: the JSON text, or the list of entry
    documents stored before (packed per entry by ADR 0023, or plain)."""
    if isinstance(stored, str):
        return [_entry(doc) for doc in orjson.loads(stored)]
    return [unpack_clock(c) for c in stored or ()]
