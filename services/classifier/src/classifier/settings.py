"""Everything the classifier service reads from the environment (CLASSIFIER_*)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class ClassifierSettings(ServiceSettings):
    """Classifier settings: which policy pack to load, where from."""

    model_config = SettingsConfigDict(
        env_prefix="CLASSIFIER_", env_nested_delimiter="__", extra="ignore"
    )

    http_port: int = 8002
