"""A service's documentation entry point: its app on in-memory ports and its AsyncAPI document.

Each service's `docs` module declares one `ServiceDocs` (ADR 0014): `python -m <service>.docs`
prints the catalogue's document, and `faststream docs gen --factory <service>.docs:documented`
(FastStream's `cli` extra) writes FastStream's own from the same app.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faststream.asgi import AsgiFastStream

from servicekit.asyncapi import Published, document, specification
from servicekit.clock import FakeClock

POLICIES = Path("policies")


def docs_settings(policy_dir: Path) -> dict[str, Any]:
    """Fixed settings for a documentation build, so the document never depends on the env."""
    from servicekit.settings import KafkaSettings, MongoSettings
    from servicekit.signing import SigningSettings

    return {
        "kafka": KafkaSettings(create_topics=False),
        "signing": SigningSettings(dev_keys=True),  # built to be documented: nothing is signed
        "mongo": MongoSettings(),
        "policy_dir": policy_dir,
        "policy_pack": "telecom",
    }


def docs_clock() -> FakeClock:
    """A fixed clock: a documentation build never reads the time."""
    return FakeClock(datetime(2026, 1, 1, tzinfo=UTC))


@dataclass(frozen=True)
class ServiceDocs:
    """How a service documents itself: its name, one line, what it publishes, its app."""

    service: str
    description: str
    publishes: tuple[Published, ...]
    """What the service publishes, with a note on when: its events, what its HTTP API takes
    in, and dead letters (every consumer dead-letters what it cannot process)."""
    build: Callable[[Path], AsgiFastStream]
    """The service's own app on fixed settings (`docs_settings`) and in-memory ports."""

    def asyncapi(self, policy_dir: Path = POLICIES) -> dict[str, Any]:
        """The service's AsyncAPI document, as the catalogue keeps it."""
        app = self.build(policy_dir)
        return document(
            app, service=self.service, description=self.description, publishes=self.publishes
        )

    def documented(self) -> AsgiFastStream:
        """The app with its publishers declared and FastStream's AsyncAPI factory as schema."""
        app = self.build(POLICIES)
        app.schema = specification(
            app, service=self.service, description=self.description, publishes=self.publishes
        )
        return app

    def main(self, argv: Sequence[str] | None = None) -> int:
        """`python -m <service>.docs [--policy-dir DIR]`: the document as JSON on stdout."""
        parser = argparse.ArgumentParser(description=f"Print {self.service}'s AsyncAPI document.")
        parser.add_argument("--policy-dir", type=Path, default=POLICIES)
        args = parser.parse_args(argv)
        sys.stdout.write(json.dumps(self.asyncapi(args.policy_dir), ensure_ascii=False) + "\n")
        return 0
