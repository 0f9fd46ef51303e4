"""Where tests find Kafka and PostgreSQL: environment, then Docker, then local binaries.

Each lookup is injectable (`Probes`) so the choice, and the error when nothing is found,
can be tested without uninstalling anything.
"""

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devstack.infra import kafka, postgres
from devstack.infra.errors import InfraUnavailable

KAFKA_ENV = "KAFKA_BOOTSTRAP_SERVERS"
POSTGRES_ENV = "TEST_DATABASE_URL"
KAFKA_HELP = (
    f"no Kafka broker for the tests: set {KAFKA_ENV}, start a Docker engine,"
    " or install Java 17+ and Maven (apt-get install openjdk-17-jre-headless maven)"
)
POSTGRES_HELP = (
    f"no PostgreSQL for the tests: set {POSTGRES_ENV}, start a Docker engine,"
    " or install the server (apt-get install postgresql)"
)


def docker_engine_answers(timeout: float = 2.0) -> bool:
    """True only when an engine replies; an installed docker CLI alone proves nothing."""
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


@dataclass(frozen=True)
class Probes:
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    docker: Callable[[], bool] = docker_engine_answers
    which: Callable[[str], str | None] = shutil.which
    postgres_bin_dir: Callable[[], Path | None] = postgres.find_bin_dir


def kafka_source(probes: Probes) -> str:
    """'env', 'docker' or 'local'; raises InfraUnavailable with one line otherwise."""
    if probes.env.get(KAFKA_ENV):
        return "env"
    if probes.docker():
        return "docker"
    missing = [tool for tool in ("java", "mvn") if probes.which(tool) is None]
    if not missing or _jars_ready_and_java(probes):
        return "local"
    raise InfraUnavailable(f"{KAFKA_HELP} (missing: {', '.join(missing)})")


def _jars_ready_and_java(probes: Probes) -> bool:
    # Once the jars are fetched Maven is no longer needed, only Java.
    return probes.which("java") is not None and kafka._jars_complete(kafka.JARS_DIR)


def postgres_source(probes: Probes) -> str:
    if probes.env.get(POSTGRES_ENV):
        return "env"
    if probes.docker():
        return "docker"
    if probes.postgres_bin_dir() is not None:
        return "local"
    raise InfraUnavailable(f"{POSTGRES_HELP} (no initdb under /usr/lib/postgresql or on PATH)")


@contextlib.contextmanager
def kafka_bootstrap_servers(probes: Probes | None = None) -> Iterator[str]:
    """Yield a bootstrap address; whatever this started is stopped when the block ends."""
    probes = probes or Probes()
    source = kafka_source(probes)
    if source == "env":
        yield probes.env[KAFKA_ENV]
    elif source == "docker":
        with _kafka_container() as address:
            yield address
    else:
        with kafka.running_broker() as broker:
            yield broker.bootstrap_servers


@contextlib.contextmanager
def postgres_admin_url(probes: Probes | None = None) -> Iterator[str]:
    """Yield a URL to a database where CREATE DATABASE is allowed."""
    probes = probes or Probes()
    source = postgres_source(probes)
    if source == "env":
        yield probes.env[POSTGRES_ENV]
    elif source == "docker":
        with _postgres_container() as url:
            yield url
    else:
        with postgres.running_server(probes.postgres_bin_dir()) as server:
            yield server.admin_url


@contextlib.contextmanager
def _kafka_container() -> Iterator[str]:
    from testcontainers.community.kafka import KafkaContainer

    with KafkaContainer("confluentinc/cp-kafka:7.6.0").with_kraft() as container:
        yield container.get_bootstrap_server()


@contextlib.contextmanager
def _postgres_container() -> Iterator[str]:
    from testcontainers.community.postgres import PostgresContainer

    with PostgresContainer("postgres:16-alpine", driver="asyncpg") as container:
        yield container.get_connection_url()
