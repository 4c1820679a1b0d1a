"""Every test's services sign with the public dev-only keys unless a test says otherwise.

Real deployments have no default key (servicekit.signing): a service without its own refuses to
start. Tests build services in process, so they ask for the dev keys here; service processes the
pipeline starts get the local stack's generated keys instead (complaints_cli.pipeline).
"""

from __future__ import annotations

import os

import pytest

from tests._builders.stack import setting_up

for _prefix in ("INTAKE", "CLASSIFIER", "SLA", "NOTIFIER"):
    os.environ.setdefault(f"{_prefix}_SIGNING__DEV_KEYS", "true")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tell the stack starter which test is being set up (only `stack` tests may start servers)."""
    setting_up(item.nodeid, marked_stack=item.get_closest_marker("stack") is not None)
