"""Everything the classifier service reads from the environment (CLASSIFIER_*)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings
from servicekit.staff_keys import parse_keys


class StaffKey(BaseModel):
    """Who presents an incident API key (the case API's key format)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    staff_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    role: Literal["handler", "lead", "manager"]


STAFF_KEYS: TypeAdapter[dict[str, StaffKey]] = TypeAdapter(dict[str, StaffKey])


class ClassifierSettings(ServiceSettings):
    """Classifier settings: which policy pack to load, where from; incident API keys."""

    model_config = SettingsConfigDict(
        env_prefix="CLASSIFIER_", env_nested_delimiter="__", extra="ignore"
    )

    http_port: int = 8002
    api_keys: SecretStr = Field(
        SecretStr(""),
        description='Incident API keys as JSON, as the case API\'s: {"<key>": {"staff_id": '
        '"ops-1", "role": "lead"}}; leads and managers act; empty: the incident API is off.',
    )

    def staff_keys(self) -> dict[str, StaffKey]:
        """The incident API's keys (ValueError naming no key if malformed)."""
        return parse_keys(self.api_keys.get_secret_value(), STAFF_KEYS, "CLASSIFIER_API_KEYS")
