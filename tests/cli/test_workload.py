"""The demo, bench and fault workloads: every complainant can be reached."""

from __future__ import annotations

from complaints_cli.workload import synthetic_phone
from intake.domain.phones import to_e164


def test_every_synthetic_phone_is_a_possible_mainland_number() -> None:
    phones = [synthetic_phone(run, i) for run in ("bench1", "faults-x") for i in range(30_000)]
    assert [p for p in phones if to_e164(p) is None] == []
    assert len(set(phones)) > 0.999 * len(phones)  # distinct enough to be one complainant each


def test_a_carrier_access_code_is_not_a_phone() -> None:
    # Why the segments are listed: 17953 is an IP long-distance prefix, not a mobile range.
    assert to_e164("17953005028") is None
