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
    fingerprint = "".join(p.read_text() for p in [*sorted(src.glob("*.go")), src / "go.sum"])
    if ferretdb_binary().exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return
    log("building FerretDB 1.24 from its Go module (first run only, ~1-3 min)…")
    ferretdb_binary().parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod")
    run(["go", "build", "-trimpath", "-o", str(ferretdb_binary()), "."], cwd=src, env=env)
    stamp.write_text(fingerprint)
    log("FerretDB built")


def promtool() -> str | None:
    return shutil.which("promtool") or (
        "/usr/bin/promtool" if Path("/usr/bin/promtool").exists() else None
    )


def install_prometheus() -> None:
    """Install Debian's prometheus package (promtool + server) if missing."""
    if promtool() and shutil.which("prometheus"):
        return
    if os.geteuid() != 0:
        log("prometheus not installed and not root: skipping (apt-get install prometheus)")
        return
    log("installing Prometheus from Debian (first run only)…")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "prometheus"], env=env)
    # Debian's package starts a system service on :9090; ours runs on its own terms.
    subprocess.run(["service", "prometheus", "stop"], capture_output=True, check=False)
    subprocess.run(["pkill", "-f", "^/usr/bin/prometheus"], capture_output=True, check=False)


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


def up() -> None:
    """Install what is missing, start the servers and wait until they answer."""
    install()
    start_ferretdb()
    start_kafka()
    wait_port("ferretdb", PORTS.mongo, 30)
    wait_port("kafka", PORTS.kafka, 90)
    log(f"ready: kafka={HOST}:{PORTS.kafka} mongo={HOST}:{PORTS.mongo}")


def down() -> None:
    for name in ("prometheus", "kafka", "ferretdb"):
        stop(name)


def reset() -> None:
    """Stop everything and delete the servers' data (not the downloads)."""
    down()
    shutil.rmtree(STATE / "kafka" / "data", ignore_errors=True)
    shutil.rmtree(STATE / "ferretdb-data", ignore_errors=True)


def status() -> dict[str, dict[str, object]]:
    report = {}
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
        up()
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
