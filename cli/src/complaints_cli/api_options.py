"""The options every staff-API command shares: where the API is, the staff key, raw JSON output."""

from __future__ import annotations

import argparse
import os


def staff_api_options(env: str, default: str, what: str, local: str) -> argparse.ArgumentParser:
    """A parent parser with --api (default: $`env` or `default`), --api-key and --json."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--api",
        default=os.environ.get(env, default),
        help=f"{what} base URL (default: ${env} or {local})",
    )
    common.add_argument(
        "--api-key",
        default=os.environ.get("COMPLAINTS_API_KEY"),
        help="staff API key (default: $COMPLAINTS_API_KEY)",
    )
    common.add_argument("--json", action="store_true", help="print the API's JSON")
    return common
