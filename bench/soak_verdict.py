"""The end of a soak (`soak.py`): growth after the warm-up, and a verdict on flatness."""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from complaints_cli.pipeline import SERVICES


class StaffTally(Protocol):
    """What the soak's staff report: actions posted, HTTP answers by status."""

    posted: int
    answers: Counter[int]


def summarise(rows: list[dict[str, float]], *, warmup: float, staff: StaffTally) -> int:
    """Growth after the warm-up, per process; lag back to zero; staff actions posted."""
    settled = [r for r in rows if r["minute"] > warmup]
    if len(settled) < 2:
        print("soak: too short to judge growth (run longer than the warm-up)")
        return 0
    first, last = settled[0], settled[-1]
    growth = ", ".join(
        f"{name} {last[name] - first[name]:+.0f} MB"
        for name in (*SERVICES, "kafka", "ferretdb")
        if name in first and name in last
    )
    # At a steady rate the lag is rarely exactly zero when sampled: under a second of input is
    # "caught up" (the pipeline keeps pace); a lag that grows minute by minute is not.
    rate = (last["sent"] - first["sent"]) / max(1.0, (last["minute"] - first["minute"]) * 60)
    lag_zero = sum(1 for r in rows if r["lag"] <= rate)
    answers = ", ".join(f"{code or 'no answer'}: {n}" for code, n in sorted(staff.answers.items()))
    print(
        f"soak: {len(rows)} minutes, {last['sent']:,.0f} complaints; memory after warm-up "
        f"{growth}; db {last['db_mb'] - first['db_mb']:+.1f} MB for "
        f"{last['stored'] - first['stored']:,.0f} complaints stored "
        f"({last['db_mb'] * 1024 / max(1.0, last['stored']):.1f} KB each), wal "
        f"{last['wal_mb']:.1f} MB; lag under a second of input in "
        f"{lag_zero} of {len(rows)} minutes; staff actions {staff.posted:,} (HTTP "
        f"{answers})"
    )
    return verdict(first, last, lag_zero=lag_zero, minutes=len(rows))


def verdict(first: dict[str, float], last: dict[str, float], *, lag_zero: int, minutes: int) -> int:
    """FLAT (0) when no process grew beyond noise (16 MB or 10 %), the database grew no faster
    per complaint than it holds on average (×1.5: indexes, WAL), and lag caught up every minute."""
    grew = [
        name
        for name in (*SERVICES, "kafka", "ferretdb")
        if name in first and last[name] - first[name] > max(16.0, 0.1 * first[name])
    ]
    # Per complaint STORED: a pipeline behind its input holds the rest in Kafka, not in the files.
    added = max(1.0, last["stored"] - first["stored"])
    marginal = (last["db_mb"] - first["db_mb"]) * 1024 / added
    average = last["db_mb"] * 1024 / max(1.0, last["stored"])
    problems = [f"memory grew: {', '.join(grew)}"] if grew else []
    if marginal > 1.5 * average:
        problems.append(f"db {marginal:.1f} KB per new complaint vs {average:.1f} KB held")
    if lag_zero < minutes:
        problems.append(f"lag not caught up in {minutes - lag_zero} of {minutes} minutes")
    print(f"soak: verdict {'NOT FLAT: ' + '; '.join(problems) if problems else 'FLAT'}")
    return 1 if problems else 0
