"""The MongoDB-compatible server: the local FerretDB build, run on the open and secured ports."""

from __future__ import annotations

import os
import shutil

from complaints_stack.base import HOST, PORTS, STATE, digest, log
from complaints_stack.credentials import Secured
from complaints_stack.ferretdb_build import ferretdb_binary
from complaints_stack.supervise import running, spawn, stop

# FerretDB converts every document between BSON and its SQLite JSON several times per command:
# the Go heap churns. Collecting at 5× the live heap rather than 2× (GOGC=100) cut its CPU per
# operation by about a third in bench/pipeline.py; the soft limit keeps the heap bounded.
FERRETDB_ENV = dict(os.environ, GOGC="400", GOMEMLIMIT="2GiB")


# Opt-in: Go's /debug/pprof handler on this address (bench/ferretdb_profile.py reads it).
DEBUG_LISTEN = os.environ.get("COMPLAINTS_FERRETDB_DEBUG", "")


def start_ferretdb() -> None:
    if running("ferretdb", PORTS.mongo):
        return
    log(f"starting FerretDB on {HOST}:{PORTS.mongo}…")
    debug = [f"-debug-listen={DEBUG_LISTEN}"] if DEBUG_LISTEN else []
    spawn(
        "ferretdb",
        [
            str(ferretdb_binary()),
            f"-listen={HOST}:{PORTS.mongo}",
            f"-dir={STATE / 'ferretdb-data'}",
            *debug,
        ],
        env=FERRETDB_ENV,
    )


def start_ferretdb_auth(security: Secured) -> None:
    """A second FerretDB that requires SCRAM logins, on a TCP and a TLS port, with its own data.

    Its first user is created by FerretDB itself when the data directory is new; a changed
    password starts it over with an empty directory (it holds only test data).
    """
    data = STATE / "ferretdb-auth-data"
    user = digest(f"{security.mongo_username}\0{security.mongo_password}".encode())
    marker = data / "complaints-user.sha256"  # FerretDB only looks at *.sqlite files
    cmd = [
        str(ferretdb_binary()),
        f"-listen={HOST}:{PORTS.mongo_auth}",
        f"-tls-listen={HOST}:{PORTS.mongo_auth_tls}",
        f"-tls-cert={security.server_cert}",
        f"-tls-key={security.server_key}",
        f"-dir={data}",
        "-auth",
        f"-setup-database={security.mongo_auth_source}",
        f"-setup-username={security.mongo_username}",
    ]
    config = STATE / "run" / "ferretdb-auth.config"
    wanted = digest("\0".join([*cmd, user, digest(security.server_cert.read_bytes())]).encode())
    if running("ferretdb-auth", PORTS.mongo_auth):
        if config.exists() and config.read_text() == wanted:
            return
        stop("ferretdb-auth")
    if data.exists() and not (marker.exists() and marker.read_text() == user):
        shutil.rmtree(data)
    data.mkdir(parents=True, exist_ok=True)
    marker.write_text(user)
    log(f"starting FerretDB with authentication on {HOST}:{PORTS.mongo_auth} (TLS: "
        f"{PORTS.mongo_auth_tls})…")  # fmt: skip
    spawn(
        "ferretdb-auth",
        cmd,
        env=dict(os.environ, FERRETDB_SETUP_PASSWORD=security.mongo_password),
    )
    config.write_text(wanted)


def wal_sizes() -> dict[str, int]:
    """Bytes in each database's write-ahead log (`<database>.sqlite-wal`) of the open FerretDB."""
    data = STATE / "ferretdb-data"
    return {
        wal.name.removesuffix(".sqlite-wal"): wal.stat().st_size
        for wal in sorted(data.glob("*.sqlite-wal"))
        if wal.exists()
    }
