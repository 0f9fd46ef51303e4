"""A single-node KRaft Kafka broker run by Java from jars that Maven fetches once."""

import base64
import contextlib
import fcntl
import shutil
import socket
import struct
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from devstack.infra import procs
from devstack.infra.errors import InfraUnavailable

KAFKA_DIR = Path(__file__).resolve().parents[1] / "kafka"
JARS_DIR = KAFKA_DIR / "target" / "jars"
_COMPLETE = ".complete"
_START_TIMEOUT = 90.0
_API_VERSIONS = 18


@dataclass(frozen=True)
class KafkaBroker:
    data_dir: Path
    port: int
    controller_port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"


def missing_tools() -> list[str]:
    return [tool for tool in ("java", "mvn") if shutil.which(tool) is None]


def ensure_jars(jars_dir: Path = JARS_DIR) -> Path:
    """Fetch the broker's jars with Maven unless a complete copy newer than the pom exists."""
    if _jars_complete(jars_dir):
        return jars_dir
    if missing := missing_tools():
        raise InfraUnavailable(f"cannot fetch Kafka jars: {' and '.join(missing)} not on PATH")

    jars_dir.parent.mkdir(parents=True, exist_ok=True)
    # Two test runs starting at once must not both write into the same directory.
    with open(jars_dir.parent / "jars.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _jars_complete(jars_dir):
            _run_maven(jars_dir)
    return jars_dir


def _jars_complete(jars_dir: Path) -> bool:
    stamp = jars_dir / _COMPLETE
    pom = KAFKA_DIR / "pom.xml"
    return stamp.exists() and stamp.stat().st_mtime >= pom.stat().st_mtime


def _run_maven(jars_dir: Path) -> None:
    shutil.rmtree(jars_dir, ignore_errors=True)
    argv = ["mvn", "-B", "-q", "dependency:copy-dependencies", "-DincludeScope=runtime"]
    argv.append(f"-DoutputDirectory={jars_dir}")
    result = subprocess.run(argv, cwd=KAFKA_DIR, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = "\n".join((result.stdout + result.stderr).splitlines()[-15:])
        raise InfraUnavailable(f"Maven could not fetch the Kafka jars:\n{last}")
    (jars_dir / _COMPLETE).touch()


def new_cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


def write_config(data_dir: Path, port: int, controller_port: int) -> Path:
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(data_dir / "logs"),
        "num.partitions": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "4",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "true",
    }
    path = data_dir / "server.properties"
    path.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    return path


def _java(jars_dir: Path, *args: str) -> list[str]:
    return [
        "java",
        "-Xmx512m",
        "-XX:+UseSerialGC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={KAFKA_DIR / 'log4j2.properties'}",
        "-cp",
        f"{jars_dir}/*",
        *args,
    ]


def format_storage(
    jars_dir: Path, data_dir: Path, config: Path, cluster_id: str | None = None
) -> None:
    """Format the log directory once; a formatted directory is reused as it is."""
    if (data_dir / "logs" / "meta.properties").exists():
        return
    # One token, not "-t ID": a URL-safe ID may start with "-", which argparse would
    # then take for an option (about one start in 32 failed that way).
    option = f"--cluster-id={cluster_id or new_cluster_id()}"
    argv = _java(jars_dir, "kafka.tools.StorageTool", "format", option)
    result = subprocess.run([*argv, "-c", str(config)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise InfraUnavailable(f"kafka storage format failed: {result.stdout}{result.stderr}")


def api_versions_ok(port: int, timeout: float = 2.0) -> bool:
    """True once the broker answers a Kafka ApiVersions request, not merely accepts TCP."""
    client_id = b"devstack"
    body = struct.pack(">hhih", _API_VERSIONS, 0, 7, len(client_id)) + client_id
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            header = _recv_exact(sock, 10)
    except OSError:
        return False
    _size, correlation_id, error_code = struct.unpack(">iih", header)
    return correlation_id == 7 and error_code == 0


def _recv_exact(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("connection closed by the broker")
        data += chunk
    return data


def spawn_broker(
    data_dir: Path, port: int, controller_port: int, *, output: IO | int | None = None
) -> KafkaBroker:
    """Start a broker process in data_dir, formatting it on first use; does not wait."""
    jars_dir = ensure_jars()
    data_dir.mkdir(parents=True, exist_ok=True)
    config = write_config(data_dir, port, controller_port)
    format_storage(jars_dir, data_dir, config)

    log_path = data_dir / "broker.log"
    argv = _java(jars_dir, "kafka.Kafka", str(config))
    if output is None:
        with open(log_path, "ab") as sink:
            process = procs.spawn(argv, output=sink)
    else:
        process = procs.spawn(argv, output=output)
    return KafkaBroker(data_dir, port, controller_port, process, log_path)


def wait_until_serving(broker: KafkaBroker, timeout: float = _START_TIMEOUT) -> None:
    """Wait for the broker to answer requests; stop it and raise if it does not."""
    try:
        procs.wait_until(
            lambda: api_versions_ok(broker.port),
            timeout=timeout,
            proc=broker.process,
            what=f"Kafka broker on port {broker.port}",
            log=broker.log_path,
        )
    except BaseException:
        stop_broker(broker)
        raise


def start_broker(data_dir: Path, port: int, controller_port: int) -> KafkaBroker:
    """Start a broker in data_dir, logging to data_dir/broker.log, and wait until it serves."""
    broker = spawn_broker(data_dir, port, controller_port)
    wait_until_serving(broker)
    return broker


def stop_broker(broker: KafkaBroker) -> None:
    procs.stop(broker.process, grace=20.0)


@contextlib.contextmanager
def running_broker(
    data_dir: Path | None = None, port: int | None = None, controller_port: int | None = None
) -> Iterator[KafkaBroker]:
    """A broker for the life of the block; a temporary data dir is deleted afterwards."""
    temp = None if data_dir is not None else Path(tempfile.mkdtemp(prefix="cloudivize-kafka-"))
    directory = data_dir or temp
    assert directory is not None
    free = procs.free_ports(2)
    try:
        broker = start_broker(directory, port or free[0], controller_port or free[1])
        try:
            yield broker
        finally:
            stop_broker(broker)
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
