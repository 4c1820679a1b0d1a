"""The container stack (docker-compose.yml, Dockerfile, Prometheus, Grafana) agrees with the code.

Pure file checks: no Docker, no network. A typo in an env var name, a port, a scrape target or a
dashboard metric fails here instead of silently in a running stack.
"""

from __future__ import annotations

import inspect
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, SecretStr

from contracts.topics import PARTITIONS, Topic
from intake.settings import IntakeSettings
from notifier.settings import NotifierSettings
from servicekit.kafka import ensure_topics
from servicekit.settings import KafkaSettings
from sla.settings import SlaSettings
from tests._builders.settings import SETTINGS

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "deploy" / "docker" / "Dockerfile"
PROMETHEUS_FILE = REPO / "deploy" / "prometheus" / "prometheus.yml"
GRAFANA_DIR = REPO / "deploy" / "grafana"
DASHBOARD_FILE = GRAFANA_DIR / "dashboards" / "operations.json"

PREFIXES = {name: f"{name.upper()}_" for name in SETTINGS}
INFRASTRUCTURE = ("kafka", "mongo", "prometheus", "grafana", "topics-init")

_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::?(?P<op>[-?])(?P<arg>[^}]*))?\}"
)
_METRIC_CALL = re.compile(
    # prometheus_client's classes, or servicekit.metrics.Instruments' methods that build them
    r"\b(?:Counter|Gauge|Histogram|Summary|counter|gauge|histogram)\(\s*\"([a-zA-Z_:][a-zA-Z0-9_:]*)\""
)
_METRIC_TOKEN = re.compile(r"\bcomplaints_[a-z0-9_]+\b")
_SERIES_SUFFIXES = ("_bucket", "_count", "_sum", "_created")


def _load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a YAML mapping"
    return data


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The parsed compose file (anchors and merge keys resolved by the YAML loader)."""
    return _load_yaml(COMPOSE_FILE)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The compose `services:` block."""
    block = compose["services"]
    assert isinstance(block, dict)
    return block


def _interpolate(value: str) -> str:
    """Compose-style `${VAR:-default}` / `${VAR:?err}` with an empty environment."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        op, arg = match.group("op"), match.group("arg") or ""
        if op == "-":
            return arg
        if op == "?":
            return f"required-{match.group('name').lower()}"
        return ""

    return _INTERPOLATION.sub(replace, value)


def _environment(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment", {})
    if isinstance(raw, list):
        pairs = (item.split("=", 1) for item in raw)
        raw = {key: (rest[0] if rest else "") for key, *rest in pairs}
    assert isinstance(raw, dict)
    return {str(key): _interpolate(str(value)) for key, value in raw.items()}


def _resolve_field(model: type[BaseModel], path: list[str]) -> bool:
    """Whether `path` (env name split on "__", lower-cased) names a settings field."""
    head, *rest = path
    field = model.model_fields.get(head)
    if field is None:
        return False
    if not rest:
        return True
    nested = field.annotation
    return (
        inspect.isclass(nested) and issubclass(nested, BaseModel) and _resolve_field(nested, rest)
    )


def _metric_names() -> set[str]:
    sources = [REPO / "libs/servicekit/src/servicekit/metrics.py"]
    sources += sorted(REPO.glob("services/*/src/*/metrics.py"))
    names: set[str] = set()
    for source in sources:
        names.update(_METRIC_CALL.findall(source.read_text(encoding="utf-8")))
    return names


def _series_base(token: str) -> str:
    for suffix in _SERIES_SUFFIXES:
        if token.endswith(suffix):
            return token.removesuffix(suffix)
    return token


def _port(name: str) -> int:
    port = SETTINGS[name].model_fields["http_port"].default
    assert isinstance(port, int)
    return port


# --- the compose file --------------------------------------------------------------------------


def test_every_expected_service_is_defined(services: dict[str, dict[str, Any]]) -> None:
    missing = {*INFRASTRUCTURE, *SETTINGS} - services.keys()
    assert not missing, f"docker-compose.yml lacks services: {sorted(missing)}"


def test_kafka_runs_kraft_combined_with_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    kafka = services["kafka"]
    assert str(kafka["image"]).startswith("apache/kafka:")
    env = _environment(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert "CONTROLLER" in env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert "zookeeper" not in json.dumps(kafka).lower()
    assert "kafka-broker-api-versions" in json.dumps(kafka["healthcheck"]["test"])


def test_mongo_has_a_ping_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    mongo = services["mongo"]
    assert str(mongo["image"]).startswith("mongo:")
    test = json.dumps(mongo["healthcheck"]["test"])
    assert "mongosh" in test
    assert "ping" in test


def test_topic_initialiser_calls_the_real_ensure_topics(
    services: dict[str, dict[str, Any]],
) -> None:
    init = services["topics-init"]
    command = init["command"]
    script = command if isinstance(command, str) else " ".join(command)
    assert "ensure_topics(" in script
    assert "bootstrap_servers='kafka:9092'" in script
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert init.get("restart", "no") == "no"
    # The script passes KafkaSettings positionally and relies on the default topic list.
    params = list(inspect.signature(ensure_topics).parameters.values())
    assert params[0].annotation in (KafkaSettings, "KafkaSettings")
    assert all(p.default is not inspect.Parameter.empty for p in params[1:])


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_service_runs_its_module_with_health_and_ordering(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    service = services[name]
    command = service["command"]
    assert (command.split() if isinstance(command, str) else command) == ["python", "-m", name]
    assert service["build"]["dockerfile"] == "deploy/docker/Dockerfile"
    assert (REPO / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
    health = " ".join(service["healthcheck"]["test"])
    assert f":{_port(name)}/healthz" in health
    depends = service["depends_on"]
    assert depends["kafka"]["condition"] == "service_healthy"
    assert depends["mongo"]["condition"] == "service_healthy"
    assert depends["topics-init"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_service_can_be_scaled(services: dict[str, dict[str, Any]], name: str) -> None:
    service = services[name]
    assert "container_name" not in service
    for mapping in service.get("ports", []):
        # "host:container" pinned to a fixed host port would clash as soon as replicas > 1.
        assert str(mapping).count(":") == 0, f"{name} publishes a fixed host port: {mapping}"


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_service_env_names_resolve_to_settings_fields(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    env = _environment(services[name])
    prefix = PREFIXES[name]
    assert env, f"{name} gets no environment"
    for key in env:
        foreign = [p for other, p in PREFIXES.items() if other != name and key.startswith(p)]
        assert not foreign, f"{name} is given another service's variable {key}"
        assert key.startswith(prefix), f"{name}: {key} lacks the {prefix} prefix"
        path = key.removeprefix(prefix).lower().split("__")
        assert _resolve_field(SETTINGS[name], path), f"{name}: {key} names no settings field"


def test_resolver_rejects_typos() -> None:
    assert _resolve_field(IntakeSettings, ["kafka", "bootstrap_servers"])
    assert _resolve_field(NotifierSettings, ["webhook_secret"])
    assert not _resolve_field(IntakeSettings, ["kafka", "bootstrap_server"])
    assert not _resolve_field(IntakeSettings, ["http_port", "x"])
    assert not _resolve_field(SlaSettings, ["complainant_key_secret"])


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_service_env_builds_settings_that_reach_the_stack(
    services: dict[str, dict[str, Any]], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in list(os.environ):
        if any(key.startswith(p) for p in PREFIXES.values()):
            monkeypatch.delenv(key)
    for key, value in _environment(services[name]).items():
        monkeypatch.setenv(key, value)
    settings = SETTINGS[name]()
    assert settings.kafka.bootstrap_servers == "kafka:9092"
    assert settings.kafka.create_topics is False, "topics-init owns topic creation"
    assert settings.mongo.url.get_secret_value().startswith("mongodb://mongo:")
    assert settings.http_host == "0.0.0.0"  # noqa: S104 - inside the container network
    assert settings.http_port == _port(name)
    assert settings.policy_dir == Path("/app/policies")
    assert (REPO / "policies" / settings.policy_pack).is_dir()


def test_secrets_come_from_the_environment_with_change_me_fallbacks(
    services: dict[str, dict[str, Any]],
) -> None:
    secrets = {
        "intake": ["INTAKE_COMPLAINANT_KEY_SECRET"],
        "notifier": ["NOTIFIER_SMS_GATEWAY_SECRET", "NOTIFIER_WEBHOOK_SECRET"],
    }
    for name, keys in secrets.items():
        raw = services[name]["environment"]
        for key in keys:
            assert str(raw[key]).startswith(f"${{{key}:"), f"{key} is not read from the host"
            assert "change-me" in _interpolate(str(raw[key]))
            field = SETTINGS[name].model_fields[key.removeprefix(PREFIXES[name]).lower()]
            assert field.annotation is SecretStr


def test_interpolation_follows_compose_rules() -> None:
    assert _interpolate("${A:-x}") == "x"
    assert _interpolate("${A-y}") == "y"
    assert _interpolate("${A:?set A}") == "required-a"
    assert _interpolate("$${A}") == "${A}"
    assert _interpolate("a${B:-b}$$c") == "ab$c"


def test_replicas_never_exceed_partitions(services: dict[str, dict[str, Any]]) -> None:
    for name in SETTINGS:
        replicas = services[name].get("deploy", {}).get("replicas", 1)
        assert 1 <= int(replicas) <= min(PARTITIONS[t] for t in Topic)


# --- image build ------------------------------------------------------------------------------


def test_dockerfile_builds_the_workspace_without_dev_dependencies() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"uv sync[^\n]*--no-dev", text)
    assert "--frozen" in text
    assert "COPY policies" in text
    assert re.search(r"^USER (?!root)", text, re.MULTILINE), "the image runs as root"


def test_dockerignore_keeps_local_state_out_of_the_context() -> None:
    lines = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".local"} <= lines
    assert "policies" not in lines
    assert not {"services", "libs", "shared"} & lines


# --- observability ----------------------------------------------------------------------------


def _scrape_targets(job: dict[str, Any]) -> set[str]:
    targets: set[str] = set()
    for static in job.get("static_configs", []):
        targets.update(static["targets"])
    for dns in job.get("dns_sd_configs", []):
        targets.update(f"{host}:{dns['port']}" for host in dns["names"])
    return targets


def test_prometheus_scrapes_every_service(services: dict[str, dict[str, Any]]) -> None:
    config = _load_yaml(PROMETHEUS_FILE)
    targets: set[str] = set()
    for job in config["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics"
        targets |= _scrape_targets(job)
    for name in SETTINGS:
        assert f"{name}:{_port(name)}" in targets, f"Prometheus does not scrape {name}"
    mounts = services["prometheus"]["volumes"]
    assert any(str(m).startswith("./deploy/prometheus:/etc/prometheus") for m in mounts)


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    pairs = (str(m).split(":")[:2] for m in service["volumes"])
    return {host: container for host, container in pairs if host.startswith(".")}


def test_grafana_provisioning_points_at_the_mounted_dashboards(
    services: dict[str, dict[str, Any]],
) -> None:
    mounts = _mounts(services["grafana"])
    for host in mounts:
        assert (REPO / host).exists(), f"Grafana mounts a missing path {host}"
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    providers = _load_yaml(GRAFANA_DIR / "provisioning/dashboards/dashboards.yml")["providers"]
    assert [p["options"]["path"] for p in providers] == [mounts["./deploy/grafana/dashboards"]]
    datasources = _load_yaml(GRAFANA_DIR / "provisioning/datasources/prometheus.yml")
    [source] = datasources["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"


def test_metric_source_scan_finds_known_metrics() -> None:
    names = _metric_names()
    assert {"complaints_received_total", "complaints_scheduler_lag_seconds"} <= names
    assert "complaints_nonexistent_total" not in names


def test_dashboard_panels_query_metrics_that_exist() -> None:
    dashboard = json.loads(DASHBOARD_FILE.read_text(encoding="utf-8"))
    datasource_uid = _load_yaml(GRAFANA_DIR / "provisioning/datasources/prometheus.yml")[
        "datasources"
    ][0]["uid"]
    known = _metric_names()
    panels = dashboard["panels"]
    assert len(panels) >= 4
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        assert panel["datasource"]["uid"] == datasource_uid
        exprs = [t["expr"] for t in panel["targets"]]
        assert exprs, f"panel {panel['title']!r} has no query"
        for expr in exprs:
            used = {_series_base(token) for token in _METRIC_TOKEN.findall(expr)}
            assert used, f"panel {panel['title']!r}: {expr!r} queries no pipeline metric"
            assert used <= known, f"panel {panel['title']!r} uses unknown {used - known}"
