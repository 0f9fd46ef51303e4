"""Helpers the deployment checks share: the pinned tools, and the manifests as data."""

import json
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
STAGING = K8S / "overlays" / "staging"
INSTALLER = ROOT / "deploy" / "tools" / "install.sh"
STRIMZI_SCHEMAS = K8S / "schemas"


@cache
def installed_tools() -> Path:
    """Run the pinned installer once per test run (a no-op when everything is in place)."""
    result = subprocess.run(["bash", str(INSTALLER)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"deploy/tools/install.sh failed:\n{result.stdout}\n{result.stderr}")
    return ROOT / ".tools" / "bin"


def tool(name: str) -> str:
    """The path of a checking tool, installing it first if it is missing."""
    path = installed_tools() / name
    if not path.exists():
        pytest.fail(f"{name} is not in {path.parent} after running deploy/tools/install.sh")
    return str(path)


def kustomize(directory: Path) -> str:
    """`kubectl kustomize`, or the standalone kustomize the installer builds without kubectl."""
    kubectl = shutil.which("kubectl")
    argv = (
        [kubectl, "kustomize", str(directory)]
        if kubectl
        else [tool("kustomize"), "build", str(directory)]
    )
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"kustomize build of {directory} failed:\n{result.stderr}")
    return result.stdout


def documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def containers(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from doc["spec"]["template"]["spec"]["containers"]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def strimzi_schema(kind: str) -> dict[str, Any]:
    path = STRIMZI_SCHEMAS / f"{kind.lower()}-kafka.strimzi.io-v1beta2.json"
    return json.loads(path.read_text())


def compose_project(path: Path) -> dict[str, Any]:
    """docker-compose.yml as `docker compose config` resolves it (compose-go's loader)."""
    result = subprocess.run(
        [tool("compose-config"), str(path)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ComposeInvalid(result.stderr.strip())
    project: dict[str, Any] = json.loads(result.stdout)
    return project


class ComposeInvalid(Exception):
    pass
