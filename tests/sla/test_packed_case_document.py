"""The packed parts of a stored case (ADR 0023, 0025): round trip, older forms, the read model."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import bson
from bson.codec_options import CodecOptions

from complaints_cli.privacy import ERASED, scrubbed
from contracts import Audience, ClockName
from contracts.read_models import CASE_SHEETS, sheet_entries
from servicekit.read_models import checked
from sla.adapters.case_documents import log_doc, log_of, sheet_doc, sheet_of
from sla.adapters.packed import CLOCK_PLAIN, PACKED, pack_clock, pack_log, unpack_log
from sla.clocks.codec import clock_doc
from sla.clocks.sheet import ClockEntry, ClockStatus, Lease, Threshold
from sla.ports import LogEntry

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
WIRE = CodecOptions(tz_aware=True, tzinfo=UTC)
NAME, PHONE = "张三", "13912345678"


def _entry() -> ClockEntry:
    due = T0 + timedelta(hours=8)
    thresholds = (Threshold(50, T0 + timedelta(hours=4), (Audience.HANDLER,)), Threshold(100, due))
    return ClockEntry(
        key="dispatch:1",
        clock=ClockName.DISPATCH,
        occurrence=1,
        severity="P3",
        started_at=T0,
        due_at=due,
        thresholds=thresholds,
        policy_version="p-7",
        calendar_version="c-3",
        passed=(50,),
        pause_base=(due, thresholds),
        paused_seconds=1.5,
        lease=Lease("sla-a", due),
        folded=(1, 2, 3),
    )


def _stored(doc: dict[str, object]) -> dict[str, object]:
    """What a read of `doc` from the server gives back (BSON both ways, aware datetimes)."""
    return bson.decode(bson.encode(doc), codec_options=WIRE)


def test_a_sheet_survives_the_store_whole() -> None:
    entry = _entry()
    stored = _stored({"clocks": sheet_doc([entry])})
    assert sheet_of(stored) == (entry,)


def test_the_whole_sheet_is_one_text_with_the_read_models_fields_in_each_entry() -> None:
    text = sheet_doc([_entry(), _entry()])
    assert isinstance(text, str)  # one element for the server to decode (ADR 0028)
    first, _ = json.loads(text)
    assert set(CLOCK_PLAIN) <= set(first)
    assert first["due_at"] == _entry().due_at.isoformat()


def test_sheets_stored_entry_by_entry_still_load_and_read() -> None:
    """As ADR 0023 stored them (each entry's read-model fields plain, the rest packed)."""
    entry = _entry()
    [doc] = [pack_clock(clock_doc(entry))]
    assert set(doc) == {*CLOCK_PLAIN, "pause_base", PACKED}
    stored = _stored({"_id": "c-1", "state": "classified", "clocks": [doc]})
    assert sheet_of(stored) == (entry,)
    assert [e.key for e in checked(CASE_SHEETS, stored).clocks] == ["dispatch:1"]
    assert [e.due_at for e in sheet_entries(stored["clocks"])] == [entry.due_at]  # type: ignore[arg-type]


def test_a_packed_sheet_is_still_the_declared_read_model() -> None:
    stored = _stored({"_id": "c-1", "state": "classified", "clocks": sheet_doc([_entry()])})
    sheet = checked(CASE_SHEETS, stored)
    [clock] = sheet.clocks
    assert (clock.key, clock.status, clock.due_at, clock.passed) == (
        "dispatch:1",
        ClockStatus.RUNNING.value,
        _entry().due_at,
        [50],
    )
    assert clock.pause_base is not None


def test_entries_stored_before_packing_still_load() -> None:
    entry = _entry()
    stored = _stored({"clocks": [clock_doc(entry)]})
    assert sheet_of(stored) == (entry,)


def test_a_log_entry_keeps_its_id_plain_and_its_events() -> None:
    entry = LogEntry(id="receipt:n-1", at=T0, events=())
    doc = log_doc(entry)
    assert doc["id"] == "receipt:n-1"
    assert set(doc) == {"id", PACKED}
    assert log_of(_stored(doc)) == entry
    assert log_of({"id": "old", "at": T0, "events": []}) == LogEntry(id="old", at=T0, events=())


def test_the_privacy_erasure_still_reaches_the_texts_of_a_packed_log() -> None:
    """The log's events carry staff's free text: packed, it must stay text the erasure scrubs."""
    event = {"type": "lifecycle", "data": {"reason": f"已联系{NAME}，电话{PHONE}"}}
    stored = _stored(pack_log({"id": "a-1", "at": T0, "events": [event]}))
    erased = unpack_log(scrubbed(stored, frozenset({NAME, PHONE})))
    assert erased["events"][0]["data"]["reason"] == f"已联系{ERASED}，电话{ERASED}"
    assert PHONE in stored[PACKED]  # it was there, as text, for the erasure to find


def test_the_sheet_text_is_what_the_earlier_encoder_wrote() -> None:
    """Sheets stored before orjson wrote them and readers of `CASE_SHEETS` v2 see one format:
    times as `isoformat` writes them (any zone, milliseconds), key order, non-ASCII as is."""
    shanghai = timezone(timedelta(hours=8))
    entry = replace(
        _entry(),
        started_at=T0.astimezone(shanghai) + timedelta(milliseconds=7),
        stopped_at=T0 + timedelta(hours=1, milliseconds=250),
        status=ClockStatus.MET,
        policy_version="电信 v7",
    )
    docs = [clock_doc(entry), clock_doc(_entry())]
    earlier = json.dumps(
        docs, default=datetime.isoformat, ensure_ascii=False, separators=(",", ":")
    )
    assert sheet_doc([entry, _entry()]) == earlier
    assert sheet_of({"clocks": earlier}) == (entry, _entry())
