"""The patterns the e2e log scan (tests/e2e/conftest.py) looks for personal numbers with."""

from __future__ import annotations

import pytest

from tests._builders.log_scan import personal_numbers


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("call 13812345678 now", True),
        ("+86 138-1234-5678", True),
        ("id 110105199003071234", True),
        ("offset 1795516251124 epoch ms", False),
        ("CP20261124-7K3M9Q2XAB", False),
        ("+86138****5678", False),
        ("电话13812345678", True),
        ("身份证110105199003071234。", True),
        ("complaints-sla-61eeaedc-c147-4685-8981-d7240dcf4887", False),
    ],
)
def test_the_patterns_find_what_they_should(text: str, found: bool) -> None:
    assert bool(personal_numbers("x.log", text)) is found


def test_a_finding_names_the_line_but_never_the_number() -> None:
    [finding] = personal_numbers("sla-0.log", "ok\n电话 13812345678\n")
    assert finding == "sla-0.log:2: …138…"
