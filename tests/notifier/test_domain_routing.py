"""Routing from the pack (DOMAIN.md §7) and the staff directory, as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from contracts import (
    Audience,
    ClockName,
    FlagName,
    Kind,
    LifecycleAction,
    Severity,
    SlaEventKind,
    Verdict,
)
from notifier.domain import (
    Assignment,
    CustomerContact,
    NotifierPolicy,
    PolicyError,
    Router,
    StaffEntry,
    customer_recipient,
    parse_directory,
    staff_recipients,
)
from tests.notifier.rig import (
    CID,
    NOW,
    PHONE,
    classified,
    pack_directory,
    pack_policy,
    pack_raw,
    sla_alert,
    sla_set,
    state_changed,
)

ROUTER = Router(pack_policy())


def everything(_: str) -> bool:
    return True


def test_set_clocks_acknowledge_the_customer_with_the_promised_resolution_time() -> None:
    [intent] = ROUTER.for_sla(sla_set().data, at=NOW)
    assert intent.audience is Audience.CUSTOMER
    assert intent.key == f"{CID}:ack:-:-:customer"
    assert intent.context["promised"] == "2026-11-27 18:00"


def test_warnings_are_digestible_breaches_are_not() -> None:
    warned = sla_alert(SlaEventKind.WARNED, threshold=80, audiences=[Audience.HANDLER]).data
    breached = sla_alert(SlaEventKind.BREACHED).data
    assert [i.digestible for i in ROUTER.for_sla(warned, at=NOW)] == [True]
    assert [i.digestible for i in ROUTER.for_sla(breached, at=NOW)] == [False, False]


def test_alert_context_speaks_local_time_and_chinese_clock_names() -> None:
    [intent, _] = ROUTER.for_sla(sla_alert(SlaEventKind.BREACHED).data, at=NOW)
    assert intent.context["due"] == "2026-11-24 10:30"  # 02:30 UTC in Asia/Shanghai
    assert intent.context["clock_label"] == "受理告知"
    assert intent.context["severity_label"] == "一般"


def test_keys_follow_complaint_kind_clock_level_audience() -> None:
    breach = sla_alert(SlaEventKind.BREACHED).data
    keys = [i.key for i in ROUTER.for_sla(breach, at=NOW)]
    assert keys == [
        f"{CID}:breached:acknowledge#1:100:handler",
        f"{CID}:breached:acknowledge#1:100:team_lead",
    ]


@pytest.mark.parametrize(
    ("severity", "flags", "expected"),
    [
        (Severity.P4, [], []),
        (Severity.P1, [], [("leadership", "staff_major")]),
        (Severity.P2, [FlagName.MEDIA], [("media_contact", "staff_media")]),
        (
            Severity.P1,
            [FlagName.SAFETY],
            [("leadership", "staff_major"), ("security", "staff_safety")],
        ),
    ],
)
def test_classification_routes_by_severity_and_flag(
    severity: Severity, flags: list[FlagName], expected: list[tuple[str, str]]
) -> None:
    data = classified(Kind.COMPLAINT, severity=severity, flags=flags).data
    intents = ROUTER.for_classified(data, at=NOW)
    assert [(i.audience.value, i.template) for i in intents] == expected


def test_duplicates_are_neither_acknowledged_nor_escalated() -> None:
    data = classified(Kind.COMPLAINT, severity=Severity.P1).data.model_copy(
        update={"duplicate_of": "CP20261124-0000000099"}
    )
    assert ROUTER.for_classified(data, at=NOW) == []


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (LifecycleAction.ASSIGNED, [("handler", "staff_assigned")]),
        (LifecycleAction.RESOLVED, [("customer", "customer_result")]),
        (LifecycleAction.DEADLINE_EXTENDED, [("customer", "customer_extended")]),
        (LifecycleAction.CONTACTED, []),
    ],
)
def test_accepted_actions_route_to_handler_or_customer(
    action: LifecycleAction, expected: list[tuple[str, str]]
) -> None:
    transition = state_changed(action, clock=ClockName.RESOLUTION).data
    intents = ROUTER.for_transition(transition, at=NOW)
    assert [(i.audience.value, i.template) for i in intents] == expected


def test_a_complaint_not_accepted_tells_the_customer_why_and_other_closures_do_not() -> None:
    refused = state_changed(
        LifecycleAction.CLOSED, verdict=Verdict.NOT_ACCEPTED, reason="未提供账单或通话记录"
    ).data
    [intent] = ROUTER.for_transition(refused, at=NOW)
    assert (intent.audience.value, intent.template) == ("customer", "customer_not_accepted")
    assert intent.context["reason"] == "未提供账单或通话记录"
    upheld = state_changed(LifecycleAction.CLOSED, verdict=Verdict.UPHELD).data
    assert ROUTER.for_transition(upheld, at=NOW) == []


def test_each_accepted_action_is_its_own_notification() -> None:
    first = state_changed(LifecycleAction.RESOLVED, action_id="a-1").data
    again = state_changed(LifecycleAction.RESOLVED, action_id="a-2").data
    [one] = ROUTER.for_transition(first, at=NOW)
    [two] = ROUTER.for_transition(again, at=NOW)
    assert one.key != two.key
    assert one.key == ROUTER.for_transition(first, at=NOW)[0].key


def test_transition_fields_reach_the_template_context() -> None:
    transition = state_changed(LifecycleAction.ASSIGNED, assignee="h-7", department="billing")
    [intent] = ROUTER.for_transition(transition.data, at=NOW)
    assert intent.context["assignee"] == "h-7"
    assert intent.context["department"] == "billing"
    assert intent.context["action"] == "assigned"


def test_property_pack_routes_with_its_own_words() -> None:
    router = Router(pack_policy("property"))
    [intent] = router.for_sla(sla_set().data, at=NOW)
    assert router.policy.templates.render(intent.template, intent.context).body.startswith(
        "【报事受理】"
    )


def broken(change: dict[str, Any]) -> dict[str, Any]:
    return pack_raw() | change


@pytest.mark.parametrize(
    "change",
    [
        {"rules": [{"id": "x", "triggers": ["sla.nope"], "notify": ["handler"], "template": "t"}]},
        {"rules": [{"id": "x", "triggers": ["classified"], "notify": ["boss"], "template": "t"}]},
        {"rules": [{"id": "x", "triggers": ["classified"], "notify": ["handler"]}]},
        {"sla": {"breached": {"staff": "no_such_template"}}},
        {"timezone": "Mars/Olympus"},
        {"quiet_hours": {"start": "25:00"}},
        {"rate_limits": {"pigeon": {"per_minute": 1, "burst": 1}}},
        {"digest": {"max": 0}},
    ],
)
def test_a_broken_pack_is_refused_at_start(change: dict[str, Any]) -> None:
    with pytest.raises(PolicyError):
        NotifierPolicy.from_mapping(broken(change))


def test_quiet_hours_override() -> None:
    policy = pack_policy()
    assert policy.with_quiet_hours("off").quiet_hours is None
    assert policy.with_quiet_hours("") == policy  # compose's empty default changes nothing
    narrow = policy.with_quiet_hours("22:30-07:00").quiet_hours
    assert narrow is not None
    assert (str(narrow.start), str(narrow.end)) == ("22:30:00", "07:00:00")
    assert narrow.exempt_templates == policy.quiet_hours.exempt_templates  # type: ignore[union-attr]
    with pytest.raises(PolicyError):
        policy.with_quiet_hours("late-early")


DIRECTORY = pack_directory()


def test_directory_prefers_the_assigned_handler_then_the_department_then_the_default() -> None:
    mine = StaffEntry(
        "h-7-mail", frozenset({Audience.HANDLER}), "email", "h7@example.com", None, "h-7"
    )
    entries = [*DIRECTORY, mine]

    def ids(assignment: Assignment | None, audience: Audience = Audience.HANDLER) -> list[str]:
        found = staff_recipients(
            entries, audience=audience, assignment=assignment, usable=everything
        )
        return [r.id for r in found]

    assert ids(Assignment(CID, "h-7", "network", NOW)) == ["h-7-mail"]
    assert ids(Assignment(CID, "h-8", "network", NOW)) == ["network-handler-desk"]
    assert ids(Assignment(CID, "h-8", "billing", NOW)) == ["handler-desk"]
    assert ids(None) == ["handler-desk"]
    # The handler's own entry is for the handler audience only.
    assert ids(Assignment(CID, "h-7", None, NOW), Audience.TEAM_LEAD) == [
        "team-lead-desk",
        "complaints-supervision-wecom",
    ]


def test_unconfigured_channels_are_skipped() -> None:
    found = staff_recipients(
        DIRECTORY, audience=Audience.MANAGER, assignment=None, usable=lambda c: c == "webhook"
    )
    assert [r.id for r in found] == ["service-manager-desk"]


def test_staff_email_is_masked_where_it_is_shown() -> None:
    [mail] = staff_recipients(
        DIRECTORY, audience=Audience.MANAGER, assignment=None, usable=lambda c: c == "email"
    )
    assert mail.address == "service-manager@example.com"
    assert mail.shown == "service-manager-mail:s***@example.com"


def test_customer_is_reached_by_sms_else_email_else_not_at_all() -> None:
    both = CustomerContact(PHONE, "a@example.com")
    sms = customer_recipient(both, everything)
    assert sms is not None
    assert (sms.channel, sms.address, sms.shown) == ("sms", PHONE, "+86138****5678")
    mail = customer_recipient(both, lambda c: c == "email")
    assert mail is not None
    assert mail.channel == "email"
    assert customer_recipient(CustomerContact(), everything) is None
    assert customer_recipient(None, everything) is None


@pytest.mark.parametrize(
    "item",
    [
        {"id": "x", "audiences": ["handler"]},
        {"id": "x", "audiences": ["customer"], "channel": "sms"},
        {"id": "x", "audiences": ["nobody"], "channel": "sms"},
        {"id": "x", "audiences": ["handler"], "channel": "pager"},
    ],
)
def test_bad_directory_entries_are_refused(item: dict[str, Any]) -> None:
    with pytest.raises(PolicyError):
        parse_directory([item])


def test_a_later_directory_entry_replaces_an_earlier_one() -> None:
    entries = parse_directory(
        [
            {"id": "desk", "audiences": ["handler"], "channel": "webhook"},
            {"id": "desk", "audiences": ["handler"], "channel": "wecom"},
        ]
    )
    assert [(e.id, e.channel) for e in entries] == [("desk", "wecom")]
