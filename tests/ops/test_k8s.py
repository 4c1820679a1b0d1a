"""The Kubernetes manifests agree with the code: images, commands, probes, settings, scalers."""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from contracts import PARTITIONS, Topic
from servicekit.asyncapi import Subscription, kafka_broker, subscriptions
from tests._builders.apps import BUILDERS
from tests._builders.settings import SETTINGS

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 (a pod must listen beyond loopback for its probes)
ENV_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")
Doc = dict[str, Any]


def documents() -> list[Doc]:
    docs: list[Doc] = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return docs


DOCS = documents()


def one(kind: str, name: str) -> Doc:
    [found] = [d for d in DOCS if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def container(service: str) -> Doc:
    [found] = one("Deployment", service)["spec"]["template"]["spec"]["containers"]
    spec: Doc = found
    return spec


def env_file(name: str) -> dict[str, tuple[str, bool]]:
    """NAME → (value, commented out) of a secrets/*.env.example file."""
    found = {}
    for line in (K8S / "secrets" / f"{name}.env.example").read_text("utf-8").splitlines():
        if match := ENV_LINE.match(line.strip()):
            found[match.group(1)] = (match.group(2), line.lstrip().startswith("#"))
    return found


def field_for(settings: type[BaseModel], path: list[str]) -> bool:
    """Whether `path` (lower-case, split on `__`) names a field, nested models included."""
    fields = settings.model_fields
    if not path or path[0] not in fields:
        return False
    if len(path) == 1:
        return True
    nested = fields[path[0]].annotation
    return (
        isinstance(nested, type) and issubclass(nested, BaseModel) and field_for(nested, path[1:])
    )


def is_setting(service: str, name: str) -> bool:
    prefix = f"{service.upper()}_"
    return name.startswith(prefix) and field_for(
        SETTINGS[service], name.removeprefix(prefix).lower().split("__")
    )


@pytest.fixture(scope="module")
def built() -> dict[str, tuple[list[str], list[Subscription]]]:
    """Per service: the app's HTTP routes and its Kafka subscriptions, from its own code."""
    out = {}
    for service, build in BUILDERS.items():
        app = build()
        routes = [path for path, _ in app.routes]
        out[service] = (routes, subscriptions(service, kafka_broker(app)))
    return out


def test_the_kustomization_lists_every_manifest_and_secret() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text("utf-8"))
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert kustomization["namespace"] == one("Namespace", "complaints")["metadata"]["name"]
    for generator in kustomization["secretGenerator"]:
        for env in generator.get("envs", []):
            assert (K8S / f"{env}.example").exists(), env
        for entry in generator.get("files", []):  # the signing keys: name=path
            path = entry.split("=", 1)[-1]
            assert (K8S / f"{path}.example").exists(), path
            assert path.rsplit("/", 1)[-1] in (K8S / ".gitignore").read_text("utf-8")
    assert [image["name"] for image in kustomization["images"]] == ["complaints-pipeline"]
    assert "secrets/*.env" in (K8S / ".gitignore").read_text("utf-8")


def test_only_the_four_services_run_here() -> None:
    workloads = {
        (d["kind"], d["metadata"]["name"])
        for d in DOCS
        if d["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"}
    }
    assert workloads == {("Deployment", service) for service in SETTINGS}


@pytest.mark.parametrize("service", list(SETTINGS))
def test_deployment_runs_the_service_from_the_one_image(service: str) -> None:
    spec = container(service)
    assert spec["image"] == "complaints-pipeline"
    assert spec["command"] == ["python", "-m", service]
    assert importlib.util.find_spec(f"{service}.__main__") is not None
    dockerfile = (REPO / "deploy" / "docker" / "Dockerfile").read_text("utf-8")
    pod = one("Deployment", service)["spec"]["template"]["spec"]
    assert f"--uid {pod['securityContext']['runAsUser']}" in dockerfile
    assert pod["enableServiceLinks"] is False  # no INTAKE_PORT-style variables
    assert "replicas" not in one("Deployment", service)["spec"]  # KEDA owns the count
    assert spec["resources"]["requests"].keys() == {"cpu", "memory"}
    assert "memory" in spec["resources"]["limits"]


@pytest.mark.parametrize("service", list(SETTINGS))
def test_probes_hit_the_paths_the_app_serves(
    service: str, built: dict[str, tuple[list[str], list[Subscription]]]
) -> None:
    spec = container(service)
    config = one("ConfigMap", f"{service}-config")["data"]
    prefix = service.upper()
    routes, _ = built[service]
    assert spec["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert spec["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert spec["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert spec[probe]["httpGet"]["path"] in routes
        assert spec[probe]["httpGet"]["port"] == "http"
    [port] = spec["ports"]
    assert port == {"name": "http", "containerPort": int(config[f"{prefix}_HTTP_PORT"])}
    assert config[f"{prefix}_HTTP_HOST"] == ALL_INTERFACES  # the default 127.0.0.1 is unreachable
    annotations = one("Deployment", service)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == config[f"{prefix}_HTTP_PORT"]
    assert annotations["prometheus.io/path"] in routes
    assert one("Service", service)["spec"]["ports"][0]["targetPort"] == "http"


def _env_names(service: str) -> Iterator[str]:
    spec = container(service)
    yield from (item["name"] for item in spec.get("env", []))
    for source in spec.get("envFrom", []):
        if "configMapRef" in source:
            yield from one("ConfigMap", source["configMapRef"]["name"])["data"]
        else:
            yield from env_file(source["secretRef"]["name"].removesuffix("-secrets"))


@pytest.mark.parametrize("service", list(SETTINGS))
def test_every_variable_is_a_setting_of_the_service(service: str) -> None:
    names = list(_env_names(service))
    assert names
    assert [n for n in names if not is_setting(service, n)] == []
    assert len(names) == len(set(names)), "a variable is set twice"


def resolved_env(service: str) -> dict[str, str]:
    """The container's environment as the kubelet would build it (example secret values)."""
    external = one("ConfigMap", "complaints-external")["data"]
    shared_secrets = env_file("external")
    spec = container(service)
    env: dict[str, str] = {}
    for source in spec["envFrom"]:
        if "configMapRef" in source:
            env |= one("ConfigMap", source["configMapRef"]["name"])["data"]
        else:
            env |= {name: v for name, (v, commented) in env_file(service).items() if not commented}
    for item in spec["env"]:
        ref = item["valueFrom"]
        if "configMapKeyRef" in ref:
            assert ref["configMapKeyRef"]["name"] == "complaints-external"
            env[item["name"]] = external[ref["configMapKeyRef"]["key"]]
            continue
        key = ref["secretKeyRef"]
        value, commented = shared_secrets[key["key"]]
        assert key.get("optional", False) or not commented, f"{key} is required"
        if not commented:
            env[item["name"]] = value
    return env


@pytest.mark.parametrize("service", list(SETTINGS))
def test_the_settings_load_from_the_manifests(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    external = one("ConfigMap", "complaints-external")["data"]
    for name in [n for n in os.environ if n.startswith(f"{service.upper()}_")]:
        monkeypatch.delenv(name)
    for name, value in resolved_env(service).items():
        monkeypatch.setenv(name, value)
    try:
        settings: Any = SETTINGS[service]()
    except ValidationError as exc:
        pytest.fail(f"{service} settings do not load from the manifests: {exc}")
    assert settings.http_host == ALL_INTERFACES
    assert settings.kafka.bootstrap_servers == external["kafka-bootstrap-servers"]
    assert settings.kafka.create_topics is False
    assert settings.mongo.database == external["mongo-database"]
    assert settings.mongo.url.get_secret_value().startswith("mongodb://")
    assert str(settings.policy_dir) == "/app/policies"


@pytest.mark.parametrize("service", list(SETTINGS))
def test_keda_scales_on_the_lag_of_every_subscription(
    service: str, built: dict[str, tuple[list[str], list[Subscription]]]
) -> None:
    scaled = one("ScaledObject", service)["spec"]
    _, subs = built[service]
    assert scaled["scaleTargetRef"]["name"] == service
    triggers = scaled["triggers"]
    assert {t["type"] for t in triggers} == {"kafka"}
    assert {(t["metadata"]["consumerGroup"], t["metadata"]["topic"]) for t in triggers} == {
        (s.group, s.topic.value) for s in subs
    }
    env = {item["name"] for item in container(service)["env"]}
    assert all(t["metadata"]["bootstrapServersFromEnv"] in env for t in triggers)
    assert all(int(t["metadata"]["lagThreshold"]) > 0 for t in triggers)
    ceiling = max(PARTITIONS[Topic(t["metadata"]["topic"])] for t in triggers)
    assert 1 <= scaled["minReplicaCount"] <= scaled["maxReplicaCount"] <= ceiling
