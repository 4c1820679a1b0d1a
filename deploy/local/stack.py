"""Run the real servers of the pipeline as local processes, without Docker.

Kafka 4.x (KRaft, combined mode) from its Maven Central jars on the machine's Java 17,
FerretDB 1.24 (SQLite backend) built from its Go module, and Prometheus from Debian.
Everything lives under ``.local/`` in the repository (git-ignored) and listens on
127.0.0.1 only. Standard library only, so it runs before the project's virtualenv exists.

Besides the open endpoints everything uses (Kafka PLAINTEXT, FerretDB without auth), `up` also
serves authenticated ones, to show the services' security settings working (docs/security.md):
Kafka SASL_SSL and SASL_PLAINTEXT with SCRAM, Kafka SSL with client certificates, and a second
FerretDB that requires SCRAM (TCP and TLS). Their dev-only credentials, the local CA and the
certificates are generated into ``.local/secrets/`` (`secured()` reads them).

    python3 deploy/local/stack.py install   # fetch / build what is missing (idempotent)
    python3 deploy/local/stack.py up        # install, start, wait until ready, create topics
    python3 deploy/local/stack.py status
    python3 deploy/local/stack.py down
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
STATE = Path(os.environ.get("COMPLAINTS_STACK_DIR", REPO / ".local"))
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Ports:
    """Loopback ports of the local servers; overridable for parallel stacks."""

    kafka: int = int(os.environ.get("COMPLAINTS_KAFKA_PORT", "9092"))
    controller: int = int(os.environ.get("COMPLAINTS_KAFKA_CONTROLLER_PORT", "9093"))
    mongo: int = int(os.environ.get("COMPLAINTS_MONGO_PORT", "27017"))
    prometheus: int = int(os.environ.get("COMPLAINTS_PROMETHEUS_PORT", "9090"))
    # The authenticated endpoints (see `secured()`).
    kafka_sasl_ssl: int = int(os.environ.get("COMPLAINTS_KAFKA_SASL_SSL_PORT", "9094"))
    kafka_sasl_plaintext: int = int(os.environ.get("COMPLAINTS_KAFKA_SASL_PLAINTEXT_PORT", "9095"))
    kafka_ssl: int = int(os.environ.get("COMPLAINTS_KAFKA_SSL_PORT", "9096"))
    mongo_auth: int = int(os.environ.get("COMPLAINTS_MONGO_AUTH_PORT", "27018"))
    mongo_auth_tls: int = int(os.environ.get("COMPLAINTS_MONGO_AUTH_TLS_PORT", "27019"))


PORTS = Ports()


def log(message: str) -> None:
    """Progress for people: one line per step, on stderr."""
    print(f"[stack] {message}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kwargs: object) -> None:
    """Run a command, failing loudly with its output."""
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"[stack] command failed ({result.returncode}): {' '.join(cmd)}")


# ---------------------------------------------------------------- install


def kafka_libs() -> Path:
    return STATE / "kafka" / "libs"


def install_kafka() -> None:
    """Resolve the broker and Log4j2 jars from Maven Central (cached in ~/.m2)."""
    marker = kafka_libs() / ".complete"
    pom = HERE / "kafka" / "pom.xml"
    if marker.exists() and marker.read_text() == pom.read_text():
        return
    log("fetching Kafka jars from Maven Central (first run only)…")
    shutil.rmtree(kafka_libs(), ignore_errors=True)
    run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={kafka_libs()}",
            "-DincludeScope=runtime",
        ]
    )
    marker.write_text(pom.read_text())
    log(f"Kafka jars ready: {len(list(kafka_libs().glob('*.jar')))} jars")


def ferretdb_binary() -> Path:
    return STATE / "bin" / "ferretdb"


def install_ferretdb() -> None:
    """Build FerretDB from its Go module through our small embedding main."""
    src = HERE / "ferretdb"
    stamp = STATE / "bin" / ".ferretdb.src"
    sources = [*sorted(src.glob("*.go")), *sorted(src.glob("*.go.txt")), src / "go.sum"]
    fingerprint = PATCH_VERSION + "".join(p.read_text() for p in sources)
    if ferretdb_binary().exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return
    log("building FerretDB 1.24 from its Go module (first run only, ~1-3 min)…")
    ferretdb_binary().parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod")
    run(["go", "mod", "download", FERRETDB_MODULE], cwd=src, env=env)
    modfile = patched_module(src, env)
    cmd = ["go", "build", "-trimpath", f"-modfile={modfile}", "-o", str(ferretdb_binary()), "."]
    run(cmd, cwd=src, env=env)
    stamp.write_text(fingerprint)
    log("FerretDB built")


FERRETDB_MODULE = "github.com/FerretDB/FerretDB"
# Three fixes to FerretDB 1.24 (SQLite backend), applied to a copy of the module at build
# time (docs/adr/0004). Production runs MongoDB, which needs none of them.
# 1. A `{_id: <string>}` filter is written `_ferretdb_sjson->'$._id'` while every collection's
#    unique index is on `_ferretdb_sjson->"_id"`: SQLite cannot match the two expressions, so each
#    `_id` look-up, update and delete scanned the whole table. Spelled like the index, they search
#    it (`->'_id'` and `->'$._id'` return the same JSON of the `_id` member).
# 2. Only a filter with `_id` as its single key was pushed down; `{_id: x, status: "pending"}`
#    (every conditional update) scanned the table. Every handler re-applies the whole filter in Go
#    after the backend query, so narrowing the backend query by the `_id` equality alone is safe.
# 3. An update reads the document, changes it in Go and writes it back with no lock or transaction
#    around the three steps, so two concurrent updates of one document lose one of them (seen: a
#    `$push` vanishing; a conditional claim succeeding twice). MongoDB makes every single-document
#    write atomic; one server-wide mutex around the write commands gives the same guarantee here
#    (SQLite serialises writers anyway).
# 4. Nothing else was pushed down: `{_id: {$in: [...]}}` (batch reads, outbox marks) and look-ups
#    by an indexed field (`{complainant_key: {$in: [...]}}`) scanned the table on every batch. Plain
#    string equality and `$in` on `_id` or an index's leading field now narrow the query to that
#    index (ferretdb/local_pushdown.go.txt; the handler still re-applies the whole filter).
WRITE_LOCK = "\n\twriteMu.Lock()\n\tdefer writeMu.Unlock()\n"
WRITE_COMMANDS = ("MsgInsert", "MsgUpdate", "MsgDelete", "MsgFindAndModify")
# Not a fix: the embeddable package main.go builds on does not expose FerretDB's experimental SCRAM
# authentication (`--test-enable-new-auth`) nor its first user (`--setup-*`); these pass them
# through so the second, authenticated instance can turn them on (docs/adr/0005).
AUTH_OPTIONS: tuple[tuple[str, str, str, int], ...] = (
    (
        "ferretdb/ferretdb.go",
        '\t"github.com/FerretDB/FerretDB/internal/util/state"\n',
        '\t"github.com/FerretDB/FerretDB/internal/util/password"\n'
        '\t"github.com/FerretDB/FerretDB/internal/util/state"\n',
        1,
    ),
    (
        "ferretdb/ferretdb.go",
        "\tSQLiteURL string // For example: `file:data/`.\n",
        "\tSQLiteURL string // For example: `file:data/`.\n\n"
        "\t// Added by the complaint pipeline's local build: SCRAM authentication and its first\n"
        "\t// user (created in SetupDatabase when that database does not exist yet).\n"
        "\tEnableNewAuth bool\n"
        "\tSetupDatabase string\n"
        "\tSetupUsername string\n"
        "\tSetupPassword string\n",
        1,
    ),
    (
        "ferretdb/ferretdb.go",
        "\t\tSQLiteURL: config.SQLiteURL,\n",
        "\t\tSQLiteURL: config.SQLiteURL,\n"
        "\t\tSetupDatabase: config.SetupDatabase,\n"
        "\t\tSetupUsername: config.SetupUsername,\n"
        "\t\tSetupPassword: password.WrapPassword(config.SetupPassword),\n",
        1,
    ),
    (
        "ferretdb/ferretdb.go",
        "\t\t\tBatchSize:               100,\n",
        "\t\t\tBatchSize:               100,\n\t\t\tEnableNewAuth: config.EnableNewAuth,\n",
        1,
    ),
)
PATCHES: tuple[tuple[str, str, str, int], ...] = (
    (
        "internal/backends/sqlite/metadata/metadata.go",
        """IDColumn = DefaultColumn + "->'$._id'\"""",
        """IDColumn = DefaultColumn + "->'_id'\"""",
        1,
    ),
    (
        "internal/backends/sqlite/collection.go",
        "if params.Filter.Len() == 1 {",
        "if params.Filter.Len() >= 1 {",
        2,
    ),
    (
        "internal/backends/sqlite/collection.go",
        """		case string, types.ObjectID:
			whereClause = fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn)
			args = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}
		}""",
        """		case string, types.ObjectID:
			whereClause = fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn)
			args = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}
		}
		if whereClause == "" {
			whereClause, args = localPushdown(meta, params.Filter)
		}""",
        1,
    ),
    *(
        (
            f"internal/handler/{'msg_' + command[3:].lower()}.go",
            f"func (h *Handler) {command}(connCtx context.Context, msg *wire.OpMsg) "
            "(*wire.OpMsg, error) {",
            f"func (h *Handler) {command}(connCtx context.Context, msg *wire.OpMsg) "
            "(*wire.OpMsg, error) {" + WRITE_LOCK,
            1,
        )
        for command in WRITE_COMMANDS
    ),
    *AUTH_OPTIONS,
)
ADDED_FILES = {
    "internal/handler/local_write_lock.go": (
        "package handler\n\n"
        'import "sync"\n\n'
        "// writeMu makes each write command atomic, as MongoDB's single-document writes are\n"
        "// (added by the complaint pipeline's local build of FerretDB).\n"
        "var writeMu sync.Mutex\n"
    ),
    "internal/backends/sqlite/local_pushdown.go": (
        HERE / "ferretdb" / "local_pushdown.go.txt"
    ).read_text(),
}
PATCH_VERSION = "pushdown-5"


def patched_module(src: Path, env: dict[str, str]) -> Path:
    """A copy of the FerretDB module with `PATCHES` applied, and a go.mod that uses it."""
    listed = subprocess.run(
        ["go", "list", "-m", "-f", "{{.Dir}}", FERRETDB_MODULE],
        cwd=src,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    build = STATE / "build"
    copy = build / "ferretdb-module"
    if copy.exists():
        for path in [copy, *copy.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        shutil.rmtree(copy)
    shutil.copytree(Path(listed.stdout.strip()), copy, copy_function=shutil.copyfile)
    for path in [copy, *copy.rglob("*")]:
        if path.is_dir():
            path.chmod(0o755)
    for relative, old, new, count in PATCHES:
        source = copy / relative
        text = source.read_text()
        if text.count(old) != count:
            raise SystemExit(f"[stack] FerretDB source changed; cannot patch {relative}")
        source.write_text(text.replace(old, new))
    for relative, text in ADDED_FILES.items():
        (copy / relative).write_text(text)
    modfile = build / "go.mod"
    modfile.write_text((src / "go.mod").read_text() + f"\nreplace {FERRETDB_MODULE} => {copy}\n")
    shutil.copyfile(src / "go.sum", build / "go.sum")
    return modfile


def _debian_tool(name: str) -> str | None:
    return shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)


def promtool() -> str | None:
    """Debian's promtool (rule unit tests, config checks), if installed."""
    return _debian_tool("promtool")


def prometheus_binary() -> str | None:
    """Debian's Prometheus server, if installed."""
    return _debian_tool("prometheus")


def _as_root() -> list[str] | None:
    """Command prefix that runs as root: nothing when we are root, `sudo -n` when allowed."""
    if os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    if sudo is None:
        return None
    allowed = subprocess.run([sudo, "-n", "true"], capture_output=True, check=False)
    return [sudo, "-n"] if allowed.returncode == 0 else None


def install_prometheus() -> None:
    """Install Debian's prometheus package (promtool + server) if missing."""
    if promtool() and prometheus_binary():
        return
    root = _as_root()
    if root is None:
        log("prometheus not installed and neither root nor sudo: run apt-get install prometheus")
        return
    log("installing Prometheus from Debian (first run only)…")
    apt = [*root, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]
    run([*apt, "update", "-qq"])
    run([*apt, "install", "-y", "-qq", "--no-install-recommends", "prometheus"])
    # On a machine with an init system the package starts its own service on :9090; ours runs on
    # its own port, config and data, so stop that one (by its service name, nothing broader).
    subprocess.run([*root, "service", "prometheus", "stop"], capture_output=True, check=False)


def install(with_prometheus: bool = False) -> None:
    """Fetch and build every server that is missing."""
    STATE.mkdir(parents=True, exist_ok=True)
    install_kafka()
    install_ferretdb()
    if with_prometheus:
        install_prometheus()


# ---------------------------------------------------------------- processes


def pidfile(name: str) -> Path:
    return STATE / "run" / f"{name}.pid"


def alive(name: str) -> int | None:
    """The pid of a server we started, if it still runs."""
    path = pidfile(name)
    if not path.exists():
        return None
    pid = int(path.read_text())
    try:
        os.kill(pid, 0)
    except OSError:
        return None
    return pid


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def spawn(
    name: str, cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> None:
    """Start a server detached from this process, logging to .local/logs/NAME.log."""
    (STATE / "run").mkdir(parents=True, exist_ok=True)
    (STATE / "logs").mkdir(parents=True, exist_ok=True)
    out = (STATE / "logs" / f"{name}.log").open("ab")
    proc = subprocess.Popen(
        cmd,
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        env=env,
        start_new_session=True,
        stdin=subprocess.DEVNULL,
    )
    pidfile(name).write_text(str(proc.pid))


def wait_port(name: str, port: int, timeout: float) -> None:
    """Poll the port instead of sleeping a fixed time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if alive(name) is None:
            tail = (STATE / "logs" / f"{name}.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"[stack] {name} exited during start-up:\n{tail}")
        time.sleep(0.2)
    raise SystemExit(f"[stack] {name} not listening on {port} after {timeout:.0f}s")


KAFKA_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers={host}:{controller}
listeners=PLAINTEXT://{host}:{kafka},CONTROLLER://{host}:{controller}{secured_listeners}
advertised.listeners=PLAINTEXT://{host}:{kafka},CONTROLLER://{host}:{controller}{secured_listeners}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT{secured_protocols}
log.dirs={data}
num.partitions=6
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=168
log.segment.bytes=67108864
"""

LOG4J2 = """\
Configuration:
  status: warn
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: warn
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaServer
        level: info
      - name: kafka.Kafka
        level: info
"""


def kafka_java(main: str, *args: str, heap: str | None = None) -> list[str]:
    java = shutil.which("java") or "java"
    heap = heap or os.environ.get("COMPLAINTS_KAFKA_HEAP", "768m")
    return [
        java,
        f"-Xmx{heap}",
        f"-Xms{heap}",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={STATE / 'kafka' / 'log4j2.yaml'}",
        "-cp",
        f"{kafka_libs()}/*",
        main,
        *args,
    ]


def start_kafka() -> None:
    """Start the broker; one already running with another configuration is restarted.

    Unless $COMPLAINTS_STACK_SECURED is 0 it also serves the authenticated listeners
    (`kafka_security`).
    """
    security = wanted_security()
    cfg_dir = STATE / "kafka"
    data = cfg_dir / "data"
    props = cfg_dir / "server.properties"
    extra = kafka_security(security) if security else {}
    text = KAFKA_PROPERTIES.format(
        host=HOST,
        kafka=PORTS.kafka,
        controller=PORTS.controller,
        data=data,
        secured_listeners=extra.get("listeners", ""),
        secured_protocols=extra.get("protocols", ""),
    ) + extra.get("properties", "")
    if alive("kafka") and port_open(PORTS.kafka):
        if props.exists() and props.read_text() == text:
            return
        # Once, when the authenticated listeners first appear (the data stays as it is).
        log("Kafka's configuration changed: restarting the broker…")
        stop("kafka")
    cfg_dir.mkdir(parents=True, exist_ok=True)
    props.touch(mode=0o600)
    props.chmod(0o600)  # holds the keystore password
    props.write_text(text)
    (cfg_dir / "log4j2.yaml").write_text(LOG4J2)
    if not (data / "meta.properties").exists():
        log("formatting Kafka storage (KRaft)…")
        run(
            kafka_java(
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                "--ignore-formatted",
                "-t",
                str(uuid.uuid4()).replace("-", "")[:22],
                "-c",
                str(props),
            )
        )
    log(f"starting Kafka on {HOST}:{PORTS.kafka}…")
    spawn("kafka", kafka_java("kafka.Kafka", str(props)))


# FerretDB converts every document between BSON and its SQLite JSON several times per command:
# the Go heap churns. Collecting at 5× the live heap rather than 2× (GOGC=100) cut its CPU per
# operation by about a third in bench/pipeline.py; the soft limit keeps the heap bounded.
FERRETDB_ENV = dict(os.environ, GOGC="400", GOMEMLIMIT="2GiB")


def start_ferretdb() -> None:
    if alive("ferretdb") and port_open(PORTS.mongo):
        return
    log(f"starting FerretDB on {HOST}:{PORTS.mongo}…")
    spawn(
        "ferretdb",
        [
            str(ferretdb_binary()),
            f"-listen={HOST}:{PORTS.mongo}",
            f"-dir={STATE / 'ferretdb-data'}",
        ],
        env=FERRETDB_ENV,
    )


# ---------------------------------------------------------------- authenticated endpoints
#
# Dev-only: a local CA, a server certificate for 127.0.0.1/localhost (Kafka and FerretDB), a
# client certificate (Kafka's SSL listener requires one), and random SCRAM passwords, generated
# once into .local/secrets/ (mode 0700; git-ignored like all of .local/). Nothing here is for
# production, where the brokers' and the database's own administration issues all of it.

KAFKA_USER = "complaints"
MONGO_USER = "complaints"
MONGO_AUTH_SOURCE = "admin"
SCRAM_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256")
CERT_DAYS = 825
RENEW_SECONDS = 30 * 86_400  # regenerate certificates a month before they expire


def secrets_dir() -> Path:
    return STATE / "secrets"


@dataclass(frozen=True)
class Secured:
    """The authenticated endpoints of the local stack and the dev-only credentials they accept."""

    ca_file: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    keystore: Path
    keystore_password: str
    kafka_username: str
    kafka_password: str
    mongo_username: str
    mongo_password: str
    mongo_auth_source: str = MONGO_AUTH_SOURCE
    kafka_sasl_ssl: str = f"{HOST}:{PORTS.kafka_sasl_ssl}"
    kafka_sasl_plaintext: str = f"{HOST}:{PORTS.kafka_sasl_plaintext}"
    kafka_ssl: str = f"{HOST}:{PORTS.kafka_ssl}"
    mongo_auth: str = f"{HOST}:{PORTS.mongo_auth}"
    mongo_auth_tls: str = f"{HOST}:{PORTS.mongo_auth_tls}"

    def __repr__(self) -> str:  # never the passwords
        return f"Secured(kafka_sasl_ssl={self.kafka_sasl_ssl!r}, mongo_auth={self.mongo_auth!r})"

    def mongo_url(self, *, tls: bool = True, with_password: bool = True) -> str:
        """A MongoDB URL for the authenticated FerretDB (TLS port unless `tls=False`)."""
        host = self.mongo_auth_tls if tls else self.mongo_auth
        login = f"{quote(self.mongo_username, safe='')}:{quote(self.mongo_password, safe='')}@"
        query = f"authSource={self.mongo_auth_source}"
        if tls:
            query += f"&tls=true&tlsCAFile={quote(str(self.ca_file))}"
        return f"mongodb://{login if with_password else ''}{host}/?{query}"

    def service_env(self, prefix: str) -> dict[str, str]:
        """Environment that points one service (INTAKE, SLA, …) at the authenticated endpoints."""
        return {
            f"{prefix}_KAFKA__BOOTSTRAP_SERVERS": self.kafka_sasl_ssl,
            f"{prefix}_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
            f"{prefix}_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
            f"{prefix}_KAFKA__SASL_USERNAME": self.kafka_username,
            f"{prefix}_KAFKA__SASL_PASSWORD": self.kafka_password,
            f"{prefix}_KAFKA__SSL_CAFILE": str(self.ca_file),
            f"{prefix}_MONGO__URL": self.mongo_url(tls=True, with_password=False),
            f"{prefix}_MONGO__USERNAME": self.mongo_username,
            f"{prefix}_MONGO__PASSWORD": self.mongo_password,
        }


def _credentials() -> dict[str, str]:
    """The dev-only passwords, generated on first use and kept in .local/secrets/."""
    path = secrets_dir() / "credentials.json"
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    fresh = {
        "note": "dev-only credentials of the local stack (deploy/local/stack.py); not for any "
        "other use",
        "kafka_password": secrets.token_urlsafe(24),
        "mongo_password": secrets.token_urlsafe(24),
        "keystore_password": secrets.token_urlsafe(24),
    }
    path.touch(mode=0o600)
    path.write_text(json.dumps(fresh, indent=2) + "\n")
    return fresh


OPENSSL_CONFIG = """\
# Written by deploy/local/stack.py: extensions of the local stack's dev-only certificates.
[req]
distinguished_name = dn
prompt = no
[dn]
CN = complaints local
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
"""


def _openssl(words: str, *args: str) -> None:
    """`openssl` with the space-separated `words`, then `args`, in .local/secrets/."""
    run(["openssl", *words.split(), *args], cwd=secrets_dir())


def _valid(cert: Path) -> bool:
    """Whether `cert` exists and stays valid for RENEW_SECONDS more."""
    if not cert.exists():
        return False
    checked = subprocess.run(
        ["openssl", "x509", "-checkend", str(RENEW_SECONDS), "-noout", "-in", str(cert)],
        capture_output=True,
        check=False,
    )
    return checked.returncode == 0


def _issue(name: str, subject: str, extensions: str) -> None:
    """A key and a certificate `name`.pem signed by the local CA."""
    key, csr, cert = f"{name}.key", f"{name}.csr", f"{name}.pem"
    _openssl("req -new -config openssl.cnf -newkey rsa:2048 -nodes", "-subj", subject,
             "-keyout", key, "-out", csr)  # fmt: skip
    _openssl("x509 -req -CA ca.pem -CAkey ca.key -sha256 -extfile openssl.cnf",
             "-extensions", extensions, "-days", str(CERT_DAYS),
             "-set_serial", f"0x{secrets.token_hex(16)}", "-in", csr, "-out", cert)  # fmt: skip
    (secrets_dir() / f"{name}.csr").unlink()


def ensure_tls(keystore_password: str) -> None:
    """The local CA, server and client certificates, and Kafka's PKCS#12 keystore (idempotent)."""
    home = secrets_dir()
    files = ("ca.pem", "server.pem", "server.p12", "client.pem")
    if (
        all((home / f).exists() for f in files)
        and _valid(home / "server.pem")
        and _valid(home / "client.pem")
    ):
        return
    if shutil.which("openssl") is None:
        raise SystemExit("[stack] openssl is needed for the local CA (apt-get install openssl)")
    log("generating the local CA and certificates (dev only) in .local/secrets/…")
    (home / "openssl.cnf").write_text(OPENSSL_CONFIG)
    ca_subject = "/CN=complaints local dev CA"
    _openssl("req -x509 -config openssl.cnf -extensions ca -newkey rsa:2048 -nodes -sha256 "
             "-days 3650 -keyout ca.key -out ca.pem", "-subj", ca_subject)  # fmt: skip
    _issue("server", "/CN=localhost", "server")
    _issue("client", "/CN=complaints-client", "client")
    pass_file = home / "keystore.pass"
    pass_file.touch(mode=0o600)
    pass_file.write_text(keystore_password + "\n")
    _openssl("pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem -name server "
             "-out server.p12 -passout file:keystore.pass")  # fmt: skip
    for path in home.iterdir():
        path.chmod(0o600)


def secured() -> Secured:
    """The authenticated endpoints and their credentials; generates what is missing."""
    home = secrets_dir()
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o700)
    creds = _credentials()
    ensure_tls(creds["keystore_password"])
    return Secured(
        ca_file=home / "ca.pem",
        server_cert=home / "server.pem",
        server_key=home / "server.key",
        client_cert=home / "client.pem",
        client_key=home / "client.key",
        keystore=home / "server.p12",
        keystore_password=creds["keystore_password"],
        kafka_username=KAFKA_USER,
        kafka_password=creds["kafka_password"],
        mongo_username=MONGO_USER,
        mongo_password=creds["mongo_password"],
    )


def wanted_security() -> Secured | None:
    """The authenticated endpoints' material, unless $COMPLAINTS_STACK_SECURED is 0."""
    return secured() if os.environ.get("COMPLAINTS_STACK_SECURED", "1") != "0" else None


def kafka_security(security: Secured) -> dict[str, str]:
    """Broker settings of the three authenticated listeners (the PLAINTEXT one stays as it is).

    SASL_SSL and SASL_PLAINTEXT take SCRAM-SHA-512/256 logins; SSL takes client certificates
    signed by the local CA. Users live in the cluster metadata (`ensure_scram_user`). No
    authorizer: an authenticated user may do anything, as on the open listener.
    """
    listeners = "".join(
        f",{name}://{HOST}:{port}"
        for name, port in (
            ("SASL_SSL", PORTS.kafka_sasl_ssl),
            ("SASL_PLAINTEXT", PORTS.kafka_sasl_plaintext),
            ("SSL", PORTS.kafka_ssl),
        )
    )
    jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    lines = [
        "# Authenticated listeners (deploy/local/stack.py `kafka_security`, docs/security.md).",
        f"sasl.enabled.mechanisms={','.join(SCRAM_MECHANISMS)}",
        *(
            f"listener.name.{listener}.{mechanism.lower()}.sasl.jaas.config={jaas}"
            for listener in ("sasl_ssl", "sasl_plaintext")
            for mechanism in SCRAM_MECHANISMS
        ),
        "ssl.keystore.type=PKCS12",
        f"ssl.keystore.location={security.keystore}",
        f"ssl.keystore.password={security.keystore_password}",
        f"ssl.key.password={security.keystore_password}",
        "ssl.truststore.type=PEM",
        f"ssl.truststore.location={security.ca_file}",
        "listener.name.ssl.ssl.client.auth=required",
        # A new certificate changes this line, so the broker restarts to load it.
        f"# server certificate sha256: {_digest(security.server_cert.read_bytes())}",
    ]
    return {
        "listeners": listeners,
        "protocols": ",SASL_SSL:SASL_SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL",
        "properties": "\n".join(lines) + "\n",
    }


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ensure_scram_user(security: Secured) -> None:
    """Give the SCRAM user its password in the cluster metadata, once per cluster and password.

    Done through the Admin API on the PLAINTEXT listener (kafka-configs), so it works the same
    on a fresh cluster and on one formatted before the authenticated listeners existed. The
    password goes in a 0600 file, never on a command line.
    """
    cluster = ""
    for line in (STATE / "kafka" / "data" / "meta.properties").read_text().splitlines():
        if line.startswith("cluster.id="):
            cluster = line.partition("=")[2]
    marker = STATE / "kafka" / "scram-user.sha256"
    fingerprint = _digest(
        f"{cluster}\0{security.kafka_username}\0{security.kafka_password}".encode()
    )
    if marker.exists() and marker.read_text() == fingerprint:
        return
    log(f"creating the Kafka SCRAM user {security.kafka_username!r}…")
    configs = secrets_dir() / "scram-user.properties"
    for mechanism in SCRAM_MECHANISMS:  # one per request: the tool sends a file's lines as one
        configs.touch(mode=0o600)
        # A properties file: unlike --add-config, no brackets around the value.
        configs.write_text(f"{mechanism}=password={security.kafka_password}\n")
        cmd = kafka_java(
            "kafka.admin.ConfigCommand",
            "--bootstrap-server",
            f"{HOST}:{PORTS.kafka}",
            "--alter",
            "--entity-type",
            "users",
            "--entity-name",
            security.kafka_username,
            "--add-config-file",
            str(configs),
            heap="128m",
        )
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        finally:
            configs.unlink(missing_ok=True)
        if result.returncode != 0:  # its messages may quote the password: never shown
            sys.stderr.write(
                (result.stdout + result.stderr).replace(security.kafka_password, "***")
            )
            raise SystemExit(f"[stack] could not create the SCRAM user ({result.returncode})")
    marker.write_text(fingerprint)


def start_ferretdb_auth(security: Secured) -> None:
    """A second FerretDB that requires SCRAM logins, on a TCP and a TLS port, with its own data.

    Its first user is created by FerretDB itself when the data directory is new; a changed
    password starts it over with an empty directory (it holds only test data).
    """
    data = STATE / "ferretdb-auth-data"
    user = _digest(f"{security.mongo_username}\0{security.mongo_password}".encode())
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
    wanted = _digest("\0".join([*cmd, user, _digest(security.server_cert.read_bytes())]).encode())
    if alive("ferretdb-auth") and port_open(PORTS.mongo_auth):
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


def stop(name: str, timeout: float = 20.0) -> None:
    pid = alive(name)
    if pid is None:
        pidfile(name).unlink(missing_ok=True)
        return
    log(f"stopping {name} (pid {pid})…")
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(name):
        time.sleep(0.2)
    if alive(name):
        os.killpg(pid, signal.SIGKILL)
    pidfile(name).unlink(missing_ok=True)


def up(with_prometheus: bool = False) -> None:
    """Install what is missing, start the servers and wait until they answer.

    The authenticated endpoints come up too unless $COMPLAINTS_STACK_SECURED is 0.
    """
    install(with_prometheus=with_prometheus)
    security = wanted_security()
    start_ferretdb()
    if security:
        start_ferretdb_auth(security)
    start_kafka()
    wait_port("ferretdb", PORTS.mongo, 30)
    wait_port("kafka", PORTS.kafka, 90)
    log(f"ready: kafka={HOST}:{PORTS.kafka} mongo={HOST}:{PORTS.mongo}")
    if security:
        for port in (PORTS.kafka_sasl_ssl, PORTS.kafka_sasl_plaintext, PORTS.kafka_ssl):
            wait_port("kafka", port, 30)
        wait_port("ferretdb-auth", PORTS.mongo_auth, 30)
        wait_port("ferretdb-auth", PORTS.mongo_auth_tls, 30)
        ensure_scram_user(security)
        log(
            f"ready (authenticated): kafka SASL_SSL={security.kafka_sasl_ssl} "
            f"SASL_PLAINTEXT={security.kafka_sasl_plaintext} SSL={security.kafka_ssl} "
            f"mongo={security.mongo_auth} (TLS {security.mongo_auth_tls}); "
            f"credentials in {secrets_dir()}"
        )
    if with_prometheus:
        start_prometheus()
        log(f"ready: prometheus=http://{HOST}:{PORTS.prometheus}")


PROMETHEUS_JOBS = ("intake", "classifier", "sla", "notifier")
"""Scrape jobs, named as in deploy/prometheus/prometheus.yml so the same rules apply."""


def prometheus_config(*, scrape_interval: float = 5.0, port_base: int = 8000) -> str:
    """The local Prometheus' configuration.

    It scrapes the four services on 127.0.0.1:`port_base`+1..4 (the ports `complaints` runs them
    on) every `scrape_interval` seconds, evaluates the project's alert rules as often, and keeps
    the job names of the container stack's configuration so the rules and dashboards apply.
    """
    interval = f"{max(1, round(scrape_interval * 1000))}ms"
    lines = [
        "# Written by deploy/local/stack.py for the local run; edits are overwritten.",
        "global:",
        f"  scrape_interval: {interval}",
        f"  scrape_timeout: {interval}",
        f"  evaluation_interval: {interval}",
        "rule_files:",
        f"  - {json.dumps(str(REPO / 'deploy' / 'prometheus' / 'rules' / '*.yml'))}",
        "scrape_configs:",
    ]
    for offset, job in enumerate(PROMETHEUS_JOBS, start=1):
        lines += [
            f"  - job_name: {job}",
            "    static_configs:",
            f"      - targets: ['{HOST}:{port_base + offset}']",
        ]
    lines += [
        "  - job_name: prometheus",
        "    static_configs:",
        f"      - targets: ['{HOST}:{PORTS.prometheus}']",
    ]
    return "\n".join(lines) + "\n"


def start_prometheus(*, scrape_interval: float = 5.0, port_base: int = 8000) -> None:
    """Run Debian's Prometheus on 127.0.0.1:`PORTS.prometheus` with the local configuration.

    Already running (started by this script): the configuration is rewritten and reloaded
    (SIGHUP to its pid) if it changed. Data lives in .local/prometheus/data.
    """
    install_prometheus()
    binary, checker = prometheus_binary(), promtool()
    if binary is None or checker is None:
        raise SystemExit("[stack] Prometheus is not installed (apt-get install prometheus)")
    home = STATE / "prometheus"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "prometheus.yml"
    text = prometheus_config(scrape_interval=scrape_interval, port_base=port_base)
    changed = not config.exists() or config.read_text() != text
    config.write_text(text)
    run([checker, "check", "config", str(config)])
    pid = alive("prometheus")
    if pid is not None and port_open(PORTS.prometheus):
        if changed:
            log(f"reloading Prometheus (pid {pid}) with {config}")
            os.kill(pid, signal.SIGHUP)
        return
    log(f"starting Prometheus on {HOST}:{PORTS.prometheus}…")
    spawn(
        "prometheus",
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={home / 'data'}",
            "--storage.tsdb.retention.time=2d",
            f"--web.listen-address={HOST}:{PORTS.prometheus}",
        ],
    )
    wait_port("prometheus", PORTS.prometheus, 30)


def stop_prometheus() -> None:
    """Stop the Prometheus this script started (by its pid file)."""
    stop("prometheus")


def down() -> None:
    for name in ("prometheus", "kafka", "ferretdb-auth", "ferretdb"):
        stop(name)


def reset() -> None:
    """Stop everything and delete the servers' data (not the downloads)."""
    down()
    shutil.rmtree(STATE / "kafka" / "data", ignore_errors=True)
    shutil.rmtree(STATE / "ferretdb-data", ignore_errors=True)
    shutil.rmtree(STATE / "ferretdb-auth-data", ignore_errors=True)


def status() -> dict[str, dict[str, object]]:
    report: dict[str, dict[str, object]] = {}
    for name, port in (
        ("kafka", PORTS.kafka),
        ("ferretdb", PORTS.mongo),
        ("prometheus", PORTS.prometheus),
    ):
        report[name] = {"pid": alive(name), "port": port, "listening": port_open(port)}
    for name, process, port in (
        ("kafka-sasl-ssl", "kafka", PORTS.kafka_sasl_ssl),
        ("kafka-sasl-plaintext", "kafka", PORTS.kafka_sasl_plaintext),
        ("kafka-ssl", "kafka", PORTS.kafka_ssl),
        ("ferretdb-auth", "ferretdb-auth", PORTS.mongo_auth),
        ("ferretdb-auth-tls", "ferretdb-auth", PORTS.mongo_auth_tls),
    ):
        report[name] = {"pid": alive(process), "port": port, "listening": port_open(port)}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "command", choices=["install", "up", "down", "status", "reset", "env", "secured-env"]
    )
    parser.add_argument("--with-prometheus", action="store_true")
    parser.add_argument(
        "--service", default="INTAKE", help="secured-env: the settings prefix (INTAKE, SLA, …)"
    )
    args = parser.parse_args(argv)
    if args.command == "install":
        install(with_prometheus=args.with_prometheus)
    elif args.command == "up":
        up(with_prometheus=args.with_prometheus)
    elif args.command == "down":
        down()
    elif args.command == "reset":
        reset()
    elif args.command == "status":
        report = status()
        print(json.dumps(report, indent=2))
        return 0 if all(report[k]["listening"] for k in ("kafka", "ferretdb")) else 1
    elif args.command == "env":
        print(f"KAFKA_BOOTSTRAP={HOST}:{PORTS.kafka}")
        print(f"MONGO_URL=mongodb://{HOST}:{PORTS.mongo}")
        print(f"PROMETHEUS_URL=http://{HOST}:{PORTS.prometheus}")
        print(f"KAFKA_SASL_SSL_BOOTSTRAP={HOST}:{PORTS.kafka_sasl_ssl}")
        print(f"KAFKA_SASL_PLAINTEXT_BOOTSTRAP={HOST}:{PORTS.kafka_sasl_plaintext}")
        print(f"KAFKA_SSL_BOOTSTRAP={HOST}:{PORTS.kafka_ssl}")
        print(f"MONGO_AUTH_URL=mongodb://{HOST}:{PORTS.mongo_auth}/?authSource={MONGO_AUTH_SOURCE}")
        print(f"SECRETS_DIR={secrets_dir()}")
    elif args.command == "secured-env":
        # Dev-only credentials, printed on request: `eval "$(stack.py secured-env --service SLA)"`.
        for key, value in secured().service_env(args.service.upper()).items():
            print(f"export {key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
