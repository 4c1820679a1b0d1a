"""The alert rules under deploy/prometheus: valid, unit-tested with promtool, and the tests bite.

promtool comes from Debian's `prometheus` package; when it is missing the stack script installs it
(root or password-less sudo). If that is impossible the tests fail: they never skip.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ops.local_stack import REPO, load_stack, require_promtool
from tests.ops.promql import metric_names
from tests.ops.registered import all_series

PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
RULES_DIR = PROMETHEUS_DIR / "rules"
TESTS_DIR = PROMETHEUS_DIR / "tests"
OPERATIONS_DOC = REPO / "docs" / "operations.md"

REQUIRED = {
    "ComplaintsSlaBreached": "SLA breaches (fires at once; the e2e scrape waits for it)",
    "ComplaintsSlaBreachRateHigh": "SLA breach rate",
    "ComplaintsP1Open": "P1 complaints open",
    "ComplaintsTimelyHandlingLow": "timely-handling rate below target",
    "ComplaintsDeadLettersGrowing": "dead-letter growth",
    "ComplaintsConsumerLagHigh": "consumer lag",
    "ComplaintsSchedulerLagHigh": "scheduler lag",
    "ComplaintsNotificationFailureRateHigh": "notification failure rate",
    "ComplaintsServiceDown": "a service down (up == 0)",
}


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.yml"))


def _test_files() -> list[Path]:
    return sorted(TESTS_DIR.glob("*.yml"))


def _alerts() -> dict[str, tuple[Path, dict[str, Any]]]:
    """Every alerting rule by name, with the file it is in."""
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in _rule_files():
        for group in _yaml(path)["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    assert rule["alert"] not in found, f"alert {rule['alert']} defined twice"
                    found[rule["alert"]] = (path, rule)
    return found


def _promtool(
    promtool: str, *args: str | Path, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *map(str, args)], capture_output=True, text=True, check=False, cwd=cwd
    )


@pytest.fixture(scope="module")
def promtool() -> str:
    return require_promtool()


def test_rule_files_pass_promtool_check(promtool: str) -> None:
    result = _promtool(promtool, "check", "rules", *_rule_files())
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(_rule_files()) >= 3


def test_container_config_loads_the_rules(promtool: str) -> None:
    config = _yaml(PROMETHEUS_DIR / "prometheus.yml")
    assert config["rule_files"] == ["rules/*.yml"]
    result = _promtool(promtool, "check", "config", PROMETHEUS_DIR / "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(_rule_files())} rule files found" in result.stdout


def test_local_config_scrapes_the_four_services_with_the_same_jobs(
    promtool: str, tmp_path: Path
) -> None:
    stack = load_stack()
    text = stack.prometheus_config(scrape_interval=1.0, port_base=8000)
    local = yaml.safe_load(text)
    container_jobs = {
        job["job_name"] for job in _yaml(PROMETHEUS_DIR / "prometheus.yml")["scrape_configs"]
    }
    targets = {
        job["job_name"]: [t for s in job["static_configs"] for t in s["targets"]]
        for job in local["scrape_configs"]
    }
    assert set(targets) == container_jobs
    assert targets["intake"] == ["127.0.0.1:8001"]
    assert targets["notifier"] == ["127.0.0.1:8004"]
    assert local["global"]["scrape_interval"] == "1000ms"
    config = tmp_path / "prometheus.yml"
    config.write_text(text)
    result = _promtool(promtool, "check", "config", config)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(_rule_files())} rule files found" in result.stdout


def test_unit_tests_pass(promtool: str) -> None:
    result = _promtool(promtool, "test", "rules", *_test_files())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(_test_files())


def test_every_concern_of_the_issue_has_an_alert() -> None:
    missing = set(REQUIRED) - set(_alerts())
    assert not missing, {name: REQUIRED[name] for name in missing}


def _tests_of(rules: Path) -> list[Path]:
    """The unit-test files that load `rules`."""
    return [
        test
        for test in _test_files()
        if rules.resolve() in {(TESTS_DIR / name).resolve() for name in _yaml(test)["rule_files"]}
    ]


def _cases() -> dict[Path, dict[str, dict[str, int]]]:
    """Per rules file: alert name -> {"firing": n, "quiet": n} over every unit test using it."""
    cases: dict[Path, dict[str, dict[str, int]]] = {}
    for test_file in _test_files():
        spec = _yaml(test_file)
        files = [(TESTS_DIR / name).resolve() for name in spec["rule_files"]]
        for rules in files:
            per_alert = cases.setdefault(rules, {})
            for test in spec["tests"]:
                for check in test.get("alert_rule_test", []):
                    kind = "firing" if check.get("exp_alerts") else "quiet"
                    counts = per_alert.setdefault(check["alertname"], {"firing": 0, "quiet": 0})
                    counts[kind] += 1
    return cases


def test_every_rule_group_has_unit_tests_that_see_it_fire_and_stay_quiet() -> None:
    cases = _cases()
    for path in _rule_files():
        assert path.resolve() in cases, f"no test file lists {path.name} in rule_files"
        for group in _yaml(path)["groups"]:
            alerts = [rule["alert"] for rule in group["rules"] if "alert" in rule]
            assert alerts, f"group {group['name']} has no alert"
            for alert in alerts:
                counts = cases[path.resolve()].get(alert, {"firing": 0, "quiet": 0})
                assert counts["firing"] >= 1, f"{alert}: no test expects it to fire"
                assert counts["quiet"] >= 1, f"{alert}: no test expects it to stay quiet"


def test_alerts_carry_a_severity_and_a_runbook_that_exists() -> None:
    anchors = {
        re.sub(r"[^a-z0-9-]", "", line.lstrip("#").strip().lower().replace(" ", "-"))
        for line in OPERATIONS_DOC.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }
    for name, (_, rule) in _alerts().items():
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), name
        page, _, anchor = rule["annotations"]["runbook"].partition("#")
        assert page == "docs/operations.md", name
        assert anchor in anchors, f"{name}: docs/operations.md has no heading #{anchor}"


def test_rules_read_only_metrics_the_services_export() -> None:
    exported = all_series() | {"up"}
    for name, (_, rule) in _alerts().items():
        used = metric_names(rule["expr"])
        assert used, f"{name} reads no metric"
        assert used <= exported, f"{name} reads {used - exported}, which no service exports"


@pytest.mark.parametrize("alert", sorted(_alerts()))
@pytest.mark.parametrize(
    ("mutant", "meaning"), [("vector(0) > 1", "never fires"), ("vector(1)", "always fires")]
)
def test_unit_tests_fail_when_an_alert_is_broken(
    promtool: str, tmp_path: Path, alert: str, mutant: str, meaning: str
) -> None:
    """Replace one alert's expression; the unit tests of its file must notice."""
    shutil.copytree(RULES_DIR, tmp_path / "rules")
    shutil.copytree(TESTS_DIR, tmp_path / "tests")
    path, _ = _alerts()[alert]
    spec = _yaml(path)
    for group in spec["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == alert:
                rule["expr"] = mutant
    (tmp_path / "rules" / path.name).write_text(yaml.safe_dump(spec, sort_keys=False))
    own_tests = [tmp_path / "tests" / test.name for test in _tests_of(path)]
    result = _promtool(promtool, "test", "rules", *own_tests)
    assert result.returncode != 0, f"{alert} that {meaning} still passes its unit tests"
    assert alert in result.stdout + result.stderr
