from pathlib import Path

import pytest

from devstack.infra import InfraUnavailable
from devstack.infra.discover import Probes, kafka_source, postgres_source


def _nothing_installed(**overrides: object) -> Probes:
    fields = {
        "env": {},
        "docker": lambda: False,
        "which": lambda tool: None,
        "postgres_bin_dir": lambda: None,
    }
    return Probes(**{**fields, **overrides})


@pytest.mark.parametrize("source", [kafka_source, postgres_source])
def test_without_any_source_the_error_is_one_line_saying_what_to_install(source) -> None:
    with pytest.raises(InfraUnavailable) as raised:
        source(_nothing_installed())

    message = str(raised.value)
    assert "\n" not in message
    assert "apt-get install" in message
    assert "start a Docker engine" in message


def test_kafka_error_names_the_missing_tools() -> None:
    with pytest.raises(InfraUnavailable, match=r"missing: java, mvn"):
        kafka_source(_nothing_installed())


def test_an_address_in_the_environment_wins_over_docker_and_binaries() -> None:
    probes = _nothing_installed(
        env={"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "TEST_DATABASE_URL": "postgresql://db/x"},
        docker=lambda: True,
        which=lambda tool: f"/usr/bin/{tool}",
        postgres_bin_dir=lambda: Path("/usr/lib/postgresql/15/bin"),
    )

    assert (kafka_source(probes), postgres_source(probes)) == ("env", "env")


def test_a_docker_engine_that_answers_wins_over_local_binaries() -> None:
    probes = _nothing_installed(
        docker=lambda: True,
        which=lambda tool: f"/usr/bin/{tool}",
        postgres_bin_dir=lambda: Path("/usr/lib/postgresql/15/bin"),
    )

    assert (kafka_source(probes), postgres_source(probes)) == ("docker", "docker")


def test_local_binaries_are_used_when_there_is_no_engine() -> None:
    probes = _nothing_installed(
        which=lambda tool: f"/usr/bin/{tool}",
        postgres_bin_dir=lambda: Path("/usr/lib/postgresql/15/bin"),
    )

    assert (kafka_source(probes), postgres_source(probes)) == ("local", "local")
