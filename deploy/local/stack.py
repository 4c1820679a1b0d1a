"""Run the real servers of the pipeline as local processes, without Docker.

Kafka 4.x (KRaft, combined mode) from its Maven Central jars on the machine's Java 17,
FerretDB 1.24 (SQLite backend) built from its Go module, and Prometheus from Debian.
Everything lives under ``.local/`` in the repository (git-ignored) and listens on
127.0.0.1 only. Standard library only, so it runs before the project's virtualenv exists.

    python3 deploy/local/stack.py install   # fetch / build what is missing (idempotent)
    python3 deploy/local/stack.py up        # install, start, wait until ready, create topics
    python3 deploy/local/stack.py status
    python3 deploy/local/stack.py down
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

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
)
ADDED_FILES = {
    "internal/handler/local_write_lock.go": (
        "package handler\n\n"
        'import "sync"\n\n'
        "// writeMu makes each write command atomic, as MongoDB's single-document writes are\n"
        "// (added by the complaint pipeline's local build of FerretDB).\n"
        "var writeMu sync.Mutex\n"
    ),
    "internal/backends/sqlite/local_pushdown.go": (HERE / "ferretdb" / "local_pushdown.go.txt").read_text(),
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


def spawn(name: str, cmd: list[str], *, cwd: Path | None = None) -> None:
    """Start a server detached from this process, logging to .local/logs/NAME.log."""
    (STATE / "run").mkdir(parents=True, exist_ok=True)
    (STATE / "logs").mkdir(parents=True, exist_ok=True)
    out = (STATE / "logs" / f"{name}.log").open("ab")
    proc = subprocess.Popen(
        cmd,
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=cwd,
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
listeners=PLAINTEXT://{host}:{kafka},CONTROLLER://{host}:{controller}
advertised.listeners=PLAINTEXT://{host}:{kafka},CONTROLLER://{host}:{controller}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
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


def kafka_java(main: str, *args: str) -> list[str]:
    java = shutil.which("java") or "java"
    heap = os.environ.get("COMPLAINTS_KAFKA_HEAP", "768m")
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
    if alive("kafka") and port_open(PORTS.kafka):
        return
    cfg_dir = STATE / "kafka"
    cfg_dir.mkdir(parents=True, exist_ok=True)
    data = cfg_dir / "data"
    props = cfg_dir / "server.properties"
    props.write_text(
        KAFKA_PROPERTIES.format(
            host=HOST, kafka=PORTS.kafka, controller=PORTS.controller, data=data
        )
    )
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
    )


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
    """Install what is missing, start the servers and wait until they answer."""
    install(with_prometheus=with_prometheus)
    start_ferretdb()
    start_kafka()
    wait_port("ferretdb", PORTS.mongo, 30)
    wait_port("kafka", PORTS.kafka, 90)
    log(f"ready: kafka={HOST}:{PORTS.kafka} mongo={HOST}:{PORTS.mongo}")
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
    for name in ("prometheus", "kafka", "ferretdb"):
        stop(name)


def reset() -> None:
    """Stop everything and delete the servers' data (not the downloads)."""
    down()
    shutil.rmtree(STATE / "kafka" / "data", ignore_errors=True)
    shutil.rmtree(STATE / "ferretdb-data", ignore_errors=True)


def status() -> dict[str, dict[str, object]]:
    report: dict[str, dict[str, object]] = {}
    for name, port in (
        ("kafka", PORTS.kafka),
        ("ferretdb", PORTS.mongo),
        ("prometheus", PORTS.prometheus),
    ):
        report[name] = {"pid": alive(name), "port": port, "listening": port_open(port)}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["install", "up", "down", "status", "reset", "env"])
    parser.add_argument("--with-prometheus", action="store_true")
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
        return 0 if all(v["listening"] for k, v in report.items() if k != "prometheus") else 1
    elif args.command == "env":
        print(f"KAFKA_BOOTSTRAP={HOST}:{PORTS.kafka}")
        print(f"MONGO_URL=mongodb://{HOST}:{PORTS.mongo}")
        print(f"PROMETHEUS_URL=http://{HOST}:{PORTS.prometheus}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
