"""Quiet hours, token buckets and digest gates: pure functions of (injected) time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from contracts import Audience, Severity
from notifier.domain import (
    DigestGate,
    DigestPolicy,
    Intent,
    Planner,
    QuietHours,
    RateLimiter,
    Recipient,
    quiet_until,
)
from notifier.domain.policy import RateLimit
from notifier.domain.recipients import Delivery
from tests.notifier.rig import MORNING, NIGHT, NOW, pack_policy

SHANGHAI = ZoneInfo("Asia/Shanghai")
QUIET = QuietHours(time(21), time(8), SHANGHAI)


def shanghai(hour: int, minute: int = 0, day: int = 24) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def test_quiet_hours_span_midnight_and_end_at_eight_local_time() -> None:
    assert quiet_until(shanghai(20, 59), QUIET) is None
    assert quiet_until(shanghai(21, 0), QUIET) == shanghai(8, 0, day=25)
    assert quiet_until(shanghai(23, 30), QUIET) == shanghai(8, 0, day=25)
    assert quiet_until(shanghai(0, 10, day=25), QUIET) == shanghai(8, 0, day=25)
    assert quiet_until(shanghai(7, 59, day=25), QUIET) == shanghai(8, 0, day=25)
    assert quiet_until(shanghai(8, 0, day=25), QUIET) is None
    assert quiet_until(NIGHT, QUIET) == MORNING


def test_a_window_within_one_day_and_an_empty_window() -> None:
    lunch = QuietHours(time(12), time(13, 30), SHANGHAI)
    assert quiet_until(shanghai(12, 15), lunch) == shanghai(13, 30)
    assert quiet_until(shanghai(13, 30), lunch) is None
    assert quiet_until(shanghai(3), QuietHours(time(8), time(8), SHANGHAI)) is None


@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(2028, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    st.integers(0, 23),
    st.integers(0, 23),
)
def test_a_deferred_message_goes_at_the_first_moment_outside_the_window(
    moment: datetime, start: int, end: int
) -> None:
    quiet = QuietHours(time(start), time(end), SHANGHAI)
    until = quiet_until(moment, quiet)
    if until is None:
        return
    assert moment < until <= moment + timedelta(hours=24)
    assert quiet_until(until, quiet) is None
    assert until.astimezone(SHANGHAI).time() == time(end)
    # Every earlier instant between `moment` and `until` is still quiet.
    assert quiet_until(until - timedelta(seconds=1), quiet) == until


class ReferenceBucket:
    """The token bucket as the textbook has it, in exact fractions: tokens refill at `rate`
    per second up to `burst`; a reservation takes one, into debt if need be, and is due when
    the debt is paid."""

    def __init__(self, per_minute: int, burst: int, at: datetime) -> None:
        self.rate, self.burst = Fraction(per_minute, 60), burst
        self.tokens, self.updated = Fraction(burst), at

    def reserve(self, now: datetime) -> datetime | None:
        elapsed = Fraction(max(0, (now - self.updated) // timedelta(microseconds=1)), 10**6)
        self.tokens = min(Fraction(self.burst), self.tokens + elapsed * self.rate)
        self.updated = max(self.updated, now)
        self.tokens -= 1
        if self.tokens >= 0:
            return None
        return self.updated + timedelta(microseconds=int(-self.tokens / self.rate * 10**6))


def test_token_bucket_spends_the_burst_then_queues_reservations_in_turn() -> None:
    limiter = RateLimiter({"sms": RateLimit(per_minute=1, burst=2)})
    assert limiter.reserve("a", "sms", NOW) is None
    assert limiter.reserve("a", "sms", NOW) is None
    assert limiter.reserve("a", "sms", NOW) == NOW + timedelta(minutes=1)
    assert limiter.reserve("a", "sms", NOW) == NOW + timedelta(minutes=2)
    # Time refills the bucket: two minutes later the debt is paid, the next one waits a minute.
    later = NOW + timedelta(minutes=2)
    assert limiter.reserve("a", "sms", later) == later + timedelta(minutes=1)


def test_rate_limits_are_per_recipient_and_channel() -> None:
    limiter = RateLimiter({"sms": RateLimit(per_minute=1, burst=1)})
    assert limiter.reserve("a", "sms", NOW) is None
    assert limiter.reserve("a", "sms", NOW) is not None
    assert limiter.reserve("b", "sms", NOW) is None
    assert limiter.reserve("a", "webhook", NOW) is None  # no limit configured


def test_rate_limiter_holds_only_the_buckets_not_yet_full_again() -> None:
    """A run of many customers keeps the recipients still paying off a reservation, not all
    it has seen (the bench's 20,000 distinct phones once made each new one walk them all)."""
    limiter = RateLimiter({"sms": RateLimit(per_minute=60, burst=1)})  # full one second after
    limiter.reserve("a", "sms", NOW)
    limiter.reserve("b", "sms", NOW)
    assert limiter.reserve("b", "sms", NOW) == NOW + timedelta(seconds=1)  # b: in debt till 2 s
    limiter.reserve("c", "sms", NOW + timedelta(milliseconds=500))
    assert len(limiter) == 3
    limiter.reserve("d", "sms", NOW + timedelta(seconds=1, milliseconds=100))
    assert len(limiter) == 3  # a is full again and forgotten; b (in debt), c and d are held
    for i in range(1000):
        limiter.reserve(f"x{i}", "sms", NOW + timedelta(seconds=10, milliseconds=i))
    assert len(limiter) <= 1000  # all before the last second forgotten, not 1,004
    assert len(limiter) >= 999


@given(
    st.lists(
        st.tuples(st.sampled_from("abcd"), st.integers(min_value=0, max_value=90_000)),
        max_size=60,
    )
)
def test_forgetting_full_buckets_never_changes_an_answer(steps: list[tuple[str, int]]) -> None:
    """Against buckets never forgotten: the same turn for every reservation."""
    limit = RateLimit(per_minute=2, burst=2)
    limiter = RateLimiter({"sms": limit})
    kept: dict[str, ReferenceBucket] = {}
    moment = NOW
    for who, gap_ms in steps:
        moment += timedelta(milliseconds=gap_ms)
        bucket = kept.setdefault(who, ReferenceBucket(2, 2, moment))
        assert limiter.reserve(who, "sms", moment) == bucket.reserve(moment)


def test_digest_gate_holds_what_exceeds_the_window_until_the_window_ends() -> None:
    gate = DigestGate(DigestPolicy(frozenset(), 3, timedelta(minutes=2), "staff_digest"))
    times = [NOW + timedelta(seconds=10 * i) for i in range(6)]
    plans = [gate.hold_until("desk", t) for t in times]
    assert plans[:3] == [None, None, None]
    held_until = times[3] + timedelta(minutes=2)
    assert plans[3:] == [held_until] * 3
    assert gate.hold_until("other-desk", times[5]) is None
    # After the digest window a quiet recipient is told one by one again.
    assert gate.hold_until("desk", held_until + timedelta(minutes=5)) is None


def _delivery(
    template: str, severity: Severity, channel: str = "sms", phone: str = "+8613800000000"
) -> Delivery:
    intent = Intent(
        key=f"k:{template}:{severity}",
        complaint_id="CP20261124-0000000001",
        audience=Audience.CUSTOMER,
        template=template,
        trigger_time=NIGHT,
        severity=severity,
    )
    return Delivery(intent.key, intent, Recipient("customer", channel, phone, "x"))


def test_planner_applies_quiet_hours_only_to_customer_sms_that_are_not_exempt() -> None:
    planner = Planner(pack_policy())
    assert planner.plan(_delivery("customer_delay", Severity.P4), NIGHT).deliver_after == MORNING
    assert planner.plan(_delivery("customer_delay", Severity.P1), NIGHT).deliver_after is None
    assert planner.plan(_delivery("acknowledgement", Severity.P4), NIGHT).deliver_after is None
    email = _delivery("customer_result", Severity.P4, channel="email")
    assert planner.plan(email, NIGHT).deliver_after is None


def test_planner_rate_limits_each_customer_not_all_customers_together() -> None:
    planner = Planner(pack_policy())
    day = NIGHT + timedelta(hours=12)
    phones = [f"+86139000000{i:02d}" for i in range(20)]
    plans = [planner.plan(_delivery("acknowledgement", Severity.P4, phone=p), day) for p in phones]
    assert [p.deliver_after for p in plans] == [None] * 20
    # The same customer's fourth SMS in a burst waits (burst 3 in the telecom pack).
    same = [planner.plan(_delivery("acknowledgement", Severity.P4), day) for _ in range(4)]
    assert [p.deliver_after is None for p in same] == [True, True, True, False]


@given(
    st.lists(
        st.tuples(st.sampled_from("ab"), st.integers(min_value=0, max_value=40_000), st.booleans()),
        max_size=40,
    )
)
def test_a_reservation_taken_back_at_once_is_as_if_never_made(
    steps: list[tuple[str, int, bool]],
) -> None:
    """Planned before the claim, a reservation whose key turns out stored is taken back: with
    no reservation since, every later answer is that of a limiter that never made it."""
    limit = RateLimit(per_minute=2, burst=2)
    limiter, never = RateLimiter({"sms": limit}), RateLimiter({"sms": limit})
    moment = NOW
    for who, gap_ms, taken_back in steps:
        moment += timedelta(milliseconds=gap_ms)
        until, undo = limiter.reserve_undoably(who, "sms", moment)
        if taken_back:
            assert undo is not None
            undo()
        else:
            assert until == never.reserve(who, "sms", moment)


def test_a_reservation_taken_back_after_a_later_one_stays_spent() -> None:
    """The limit is never exceeded: a token returned behind a later reservation is kept."""
    limiter = RateLimiter({"sms": RateLimit(per_minute=1, burst=1)})
    assert limiter.reserve_undoably("a", "sms", NOW)[0] is None
    _, undo = limiter.reserve_undoably("a", "sms", NOW)
    later, _ = limiter.reserve_undoably("a", "sms", NOW)
    assert undo is not None
    undo()
    assert limiter.reserve("a", "sms", NOW) == NOW + timedelta(minutes=3)  # not minute 2 again
    assert later == NOW + timedelta(minutes=2)
    assert limiter.reserve_undoably("a", "webhook", NOW) == (None, None)  # no limit: no undo


def test_a_digest_count_taken_back_at_once_is_as_if_never_made() -> None:
    policy = DigestPolicy(frozenset(), 2, timedelta(minutes=2), "staff_digest")
    gate, never = DigestGate(policy), DigestGate(policy)
    times = [NOW + timedelta(seconds=s) for s in range(6)]
    for n, moment in enumerate(times):
        until, undo = gate.hold_until_undoably("desk", moment)
        if n % 2:
            undo()  # a redelivered message: counted, then taken back
        else:
            assert until == never.hold_until("desk", moment)
    assert gate.hold_until("desk", times[-1]) == never.hold_until("desk", times[-1])
