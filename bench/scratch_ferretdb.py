"""A throwaway FerretDB server for the document-shape micro-benches, and its CPU counter.

The server runs on its own port and data folder, so the bench measures only its own commands;
CPU is read from /proc (user + system), which the shared machine's other load does not touch.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pymongo import MongoClient

ROOT = Path(__file__).resolve().parents[1]
BINARY = ROOT / ".local" / "bin" / "ferretdb"
TICK = os.sysconf("SC_CLK_TCK")
Doc = dict[str, Any]


def cpu(pid: int) -> float:
    """The process's user + system CPU seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def measure(pid: int, work: Callable[[], int]) -> tuple[int, float]:
    """What `work` did (documents or operations) and the server CPU seconds it cost."""
    time.sleep(0.3)  # let the server finish what came before
    before = cpu(pid)
    done = work()
    time.sleep(0.3)
    return done, cpu(pid) - before


@contextmanager
def scratch_server(
    port: int, prefix: str, binary: Path = BINARY
) -> Iterator[tuple[MongoClient[Doc], int]]:
    """A fresh FerretDB (the local build, or `binary`) on 127.0.0.1:`port` with an empty data
    folder: (client, server pid); stopped and its folder removed afterwards."""
    data = Path(tempfile.mkdtemp(prefix=prefix))
    server = subprocess.Popen(
        [str(binary), f"-listen=127.0.0.1:{port}", f"-dir={data}"],
        env=dict(os.environ, GOGC="400", GOMEMLIMIT="2GiB"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client: MongoClient[Doc] = MongoClient(f"mongodb://127.0.0.1:{port}/", tz_aware=True)
        client.admin.command("ping")
        yield client, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)
