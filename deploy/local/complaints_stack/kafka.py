"""Kafka 4.x (KRaft, combined broker and controller) from its Maven Central jars on Java 17.

The open PLAINTEXT listener everything uses, plus, unless $COMPLAINTS_STACK_SECURED is 0, the
authenticated listeners of docs/security.md (`kafka_security`). Jars in .local/kafka/libs,
data in .local/kafka/data.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from complaints_stack.base import HERE, HOST, PORTS, STATE, digest, log, run
from complaints_stack.credentials import Secured, wanted_security
from complaints_stack.kafka_acls import super_users
from complaints_stack.supervise import running, spawn, stop

SCRAM_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256")


def kafka_libs() -> Path:
    """Where the broker's jars are copied."""
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
# Threads sized for one small host (two cores in the bench, ADR 0045): the defaults (3 network
# threads per listener, 8 request handlers) hand each request between more threads than there
# are cores.
num.network.threads={network_threads}
num.io.threads={io_threads}
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
        network_threads=os.environ.get("COMPLAINTS_KAFKA_NETWORK_THREADS", "1"),
        io_threads=os.environ.get("COMPLAINTS_KAFKA_IO_THREADS", "2"),
    ) + extra.get("properties", "")
    if running("kafka", PORTS.kafka):
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


def kafka_security(security: Secured) -> dict[str, str]:
    """Broker settings of the three authenticated listeners (the PLAINTEXT one stays as it is).

    SASL_SSL and SASL_PLAINTEXT take SCRAM-SHA-512/256 logins; SSL takes client certificates
    signed by the local CA. Users live in the cluster metadata (`kafka_users.ensure_principals`).
    The StandardAuthorizer enforces kafka_acls.GRANTS on the service principals; the open
    listener's ANONYMOUS, the admin user and the admin certificate are super users.
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
        "# Authenticated listeners (complaints_stack/kafka.py `kafka_security`, docs/security.md).",
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
        # ACLs per service principal (kafka_acls.GRANTS); the open listener's ANONYMOUS, the
        # admin user and the admin client certificate are super users (docs/adr/0005).
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        f"super.users={super_users()}",
        # A new certificate changes this line, so the broker restarts to load it.
        f"# server certificate sha256: {digest(security.server_cert.read_bytes())}",
    ]
    return {
        "listeners": listeners,
        "protocols": ",SASL_SSL:SASL_SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL",
        "properties": "\n".join(lines) + "\n",
    }
