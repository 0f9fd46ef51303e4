"""The Dockerfile and docker-compose.yml agree with the services' settings."""

import re
from pathlib import Path

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from tests.deploy.support import ROOT, ComposeInvalid, compose_project
from tools.services import SERVICES

COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def stages() -> dict[str, list[dict[str, str]]]:
    """Each build stage of the Dockerfile and its instructions."""
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    result: dict[str, list[dict[str, str]]] = {}
    current = None
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            current = instruction["value"].split()[-1]
            result[current] = []
        if current is not None:
            result[current].append(instruction)
    return result


@pytest.fixture(scope="module")
def project() -> dict:
    return compose_project(COMPOSE)


def values(stage: list[dict[str, str]], instruction: str) -> list[str]:
    return [item["value"] for item in stage if item["instruction"] == instruction]


def test_every_stage_starts_from_the_pinned_slim_base_or_an_earlier_stage(stages):
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    arguments = dict(
        item["value"].split("=", 1)
        for item in parser.structure
        if item["instruction"] == "ARG" and "=" in item["value"]
    )
    bases = [item["value"].split()[0] for item in parser.structure if item["instruction"] == "FROM"]

    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", arguments["PYTHON_IMAGE"])
    assert {base for base in bases if base not in stages} == {"${PYTHON_IMAGE}"}


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_has_a_target_that_runs_it_unprivileged_on_its_port(stages, name):
    stage = stages[name]
    port = SERVICES[name].port

    assert values(stage, "EXPOSE") == [str(port)]
    assert values(stage, "CMD") == [f'["python", "-m", "services.{name}"]']
    assert f"{SERVICES[name].env_prefix}PORT={port}" in " ".join(values(stage, "ENV"))
    assert values(stages["service-base"], "USER") == ["10001:10001"]


def test_the_emulator_has_a_target_and_production_images_do_not_carry_it(stages):
    assert "devstack.aws" in values(stages["aws-emulator"], "CMD")[0]
    service_copies = " ".join(values(stages["service-base"], "COPY"))
    assert "devstack" not in service_copies


def test_the_build_context_leaves_out_the_venv_and_local_state():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()

    assert ignored[0:1] != ["!*"]
    assert "*" in ignored
    assert not [line for line in ignored if line.startswith("!") and ".venv" in line]


def test_compose_config_accepts_the_compose_file(project):
    assert set(project["services"]) >= {
        "kafka",
        "postgres",
        "aws",
        "otel-collector",
        "jaeger",
        *SERVICES,
    }


@pytest.mark.parametrize("name", SERVICES)
def test_each_compose_service_builds_its_target_and_listens_on_its_port(project, stages, name):
    service = project["services"][name]
    prefix = SERVICES[name].env_prefix

    assert service["build"]["target"] == name
    assert name in stages
    assert service["environment"][f"{prefix}PORT"] == str(SERVICES[name].port)
    assert str(SERVICES[name].port) in " ".join(service["healthcheck"]["test"])


@pytest.mark.parametrize("name", SERVICES)
def test_each_compose_service_starts_after_kafka_and_its_database_are_healthy(project, name):
    depends = project["services"][name]["depends_on"]

    assert depends["kafka"]["condition"] == "service_healthy"
    assert depends["postgres"]["condition"] == "service_healthy"


def test_compose_urls_between_services_use_their_compose_names_and_ports(project):
    for name in SERVICES:
        environment = project["services"][name]["environment"]
        for key, url in environment.items():
            target = key.split("_")[1].lower() if key.endswith("_URL") else None
            if target in SERVICES:
                assert url == f"http://{target}:{SERVICES[target].port}", key


def test_compose_gives_each_service_a_database_of_its_own(project):
    urls = {
        name: project["services"][name]["environment"][f"{SERVICES[name].env_prefix}DATABASE_URL"]
        for name, info in SERVICES.items()
        if info.migrations
    }
    init = (ROOT / "deploy" / "compose" / "postgres-init.sql").read_text()

    assert len({url.rsplit("/", 1)[1] for url in urls.values()}) == len(urls)
    for name, url in urls.items():
        assert url.endswith(f"@postgres:5432/{name}")
        assert f"CREATE DATABASE {name} OWNER {name};" in init


def test_compose_config_rejects_a_malformed_file(tmp_path: Path):
    document = yaml.safe_load(COMPOSE.read_text())
    document["services"]["gateway"]["depends_on"]["kafka"]["condition"] = "when_it_feels_like_it"
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(yaml.safe_dump(document))
    (tmp_path / "deploy").symlink_to(ROOT / "deploy")

    with pytest.raises(ComposeInvalid):
        compose_project(broken)


def context_sources(stages) -> set[str]:
    """What the Dockerfile copies from the build context (not from another stage)."""
    sources = set()
    for stage in stages.values():
        for value in values(stage, "COPY"):
            parts = [part for part in value.split() if not part.startswith("--")]
            if "--from=" not in value:
                sources.update(parts[:-1])
    return sources


def test_everything_the_dockerfile_copies_exists_and_is_in_the_build_context(stages):
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    included = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}

    sources = context_sources(stages)

    assert "pyproject.toml" in sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert source.rstrip("/") in included, f"{source} is excluded by .dockerignore"
