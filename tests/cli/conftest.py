"""Fixtures of the CLI tests: an SLA service in process behind its case API (no servers)."""

from __future__ import annotations

from tests._builders.sla_fixtures import api, rig  # noqa: F401 - the shared SLA fixtures
