"""Issue 20: signing keys come from the deployment (environment or a secret file), never from the
code; a service without its own key, or without the key of a producer it verifies, refuses to
start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from servicekit.signing import Signer, SigningSettings, Verifier
from tests._builders.settings import SETTINGS

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def test_no_key_by_default_and_a_clear_refusal() -> None:
    settings = SigningSettings()
    assert settings.resolved() == {}
    with pytest.raises(ValueError, match="SLA_SIGNING__KEYS_FILE") as refused:
        Signer.of("sla", settings)
    assert "dev-only" not in str(refused.value)
    with pytest.raises(ValueError, match="'notifier'"):
        Verifier.of(SigningSettings(keys={"sla": SecretStr("k" * 32)})).checker("notifier")


def test_keys_from_a_secret_file_and_the_environment(tmp_path: Path) -> None:
    secret = tmp_path / "signing.json"
    secret.write_text(json.dumps({"sla": "from-the-file", "notifier": "n-file"}))
    settings = SigningSettings(keys_file=secret, keys={"notifier": SecretStr("n-env")})
    keys = {n: k.get_secret_value() for n, k in settings.resolved().items()}
    assert keys == {"sla": "from-the-file", "notifier": "n-env"}
    assert Signer.of("sla", settings).key == b"from-the-file"
    assert settings.dev_only() == []
    assert SigningSettings(dev_keys=True).dev_only() == ["classifier", "intake", "notifier", "sla"]
    secret.write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a JSON object"):
        settings.resolved()
    with pytest.raises(ValueError, match="FileNotFoundError"):
        SigningSettings(keys_file=tmp_path / "missing.json").resolved()


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_each_service_refuses_to_start_without_its_signing_key(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built as a deployment builds it (settings from the environment), without the dev keys."""
    import importlib

    monkeypatch.setenv(f"{service.upper()}_SIGNING__DEV_KEYS", "false")
    monkeypatch.setenv(f"{service.upper()}_POLICY_DIR", str(POLICIES))
    app = importlib.import_module(f"{service}.app")
    with pytest.raises(ValueError, match=f"{service.upper()}_SIGNING__KEYS"):
        app.create_app(SETTINGS[service]())
