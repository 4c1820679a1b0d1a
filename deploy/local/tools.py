"""Install the command-line tools the operations tests and docs use, from Debian, when missing.

Standard library only, like stack.py, so it runs before the project's virtualenv exists.

    python3 deploy/local/tools.py install chromium   # headless browser for the report test
    python3 deploy/local/tools.py install kcat       # the Kafka client the topic docs show
    python3 deploy/local/tools.py which chromium     # print the binary's path (exit 1: missing)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Tool:
    """A Debian package and the names its binary goes by."""

    package: str
    binaries: tuple[str, ...]


TOOLS: dict[str, Tool] = {
    "chromium": Tool("chromium", ("chromium", "chromium-browser", "google-chrome")),
    "kcat": Tool("kcat", ("kcat", "kafkacat")),
}

APT_LOCK_WAIT = "300"
"""Seconds apt waits for another apt run (a parallel install) to release its lock."""


def log(message: str) -> None:
    """Progress for people: one line per step, on stderr."""
    print(f"[tools] {message}", file=sys.stderr, flush=True)


def which(name: str) -> str | None:
    """Path of the tool's binary, if installed."""
    for binary in TOOLS[name].binaries:
        found = shutil.which(binary) or (
            f"/usr/bin/{binary}" if os.path.exists(f"/usr/bin/{binary}") else None
        )
        if found:
            return found
    return None


def apt_install(package: str) -> None:
    """`apt-get install` one package without recommends; raises SystemExit on failure."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    lock = ["-o", f"DPkg::Lock::Timeout={APT_LOCK_WAIT}"]
    for cmd in (
        ["apt-get", *lock, "update", "-qq"],
        ["apt-get", *lock, "install", "-y", "-qq", "--no-install-recommends", package],
    ):
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
        if result.returncode != 0:
            sys.stderr.write(result.stdout + result.stderr)
            raise SystemExit(f"[tools] command failed ({result.returncode}): {' '.join(cmd)}")


def install(name: str) -> str:
    """The tool's binary, installed from Debian first if missing (needs root)."""
    found = which(name)
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit(f"[tools] {name} is missing and this is not root: apt-get install {name}")
    log(f"installing {TOOLS[name].package} from Debian (first run only)…")
    apt_install(TOOLS[name].package)
    found = which(name)
    if found is None:
        raise SystemExit(f"[tools] {name} still missing after installing {TOOLS[name].package}")
    return found


def main(argv: list[str] | None = None) -> int:
    """`install NAME` or `which NAME`; prints the binary's path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["install", "which"])
    parser.add_argument("tool", choices=sorted(TOOLS))
    args = parser.parse_args(argv)
    path = install(args.tool) if args.command == "install" else which(args.tool)
    if path is None:
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
