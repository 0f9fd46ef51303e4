"""The staging overlay builds, validates against the schemas and passes the linter."""

import copy
import subprocess
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.deploy.support import STAGING, kustomize, strimzi_schema, tool

KUBERNETES_VERSION = "1.33.0"
STRIMZI_KINDS = {"Kafka", "KafkaNodePool", "KafkaTopic"}


def validate(doc: dict[str, Any]) -> None:
    """Built-in kinds against Kubernetes' own schemas (strict: unknown fields fail);
    Strimzi's custom kinds against deploy/k8s/schemas, since Kubernetes has none for them."""
    if doc["kind"] in STRIMZI_KINDS:
        jsonschema.validate(doc, strimzi_schema(doc["kind"]))
    else:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def describe(doc: dict[str, Any]) -> str:
    return f"{doc['kind']}/{doc['metadata']['name']}"


def test_the_staging_overlay_builds_and_contains_every_kind_the_platform_needs(staging):
    kinds = {doc["kind"] for doc in staging}

    assert kinds >= {
        "Namespace",
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "Ingress",
        "Job",
        "Kafka",
        "KafkaNodePool",
        "KafkaTopic",
    }
    assert all(
        doc["metadata"].get("namespace") == "cloudivize-staging"
        for doc in staging
        if doc["kind"] != "Namespace"
    )


def test_every_staging_manifest_validates_against_its_schema(staging):
    problems = []
    for doc in staging:
        try:
            validate(doc)
        except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as error:
            problems.append(f"{describe(doc)}: {error.message}")

    assert problems == []


@pytest.mark.parametrize(
    ("kind", "path", "bad_value"),
    [
        (
            "Deployment",
            ["spec", "template", "spec", "containers", 0, "ports", 0, "containerPort"],
            "http",
        ),
        ("Service", ["spec", "portz"], []),
        ("HorizontalPodAutoscaler", ["spec", "maxReplicas"], "six"),
        ("KafkaTopic", ["spec", "replicas"], 0),
        ("Kafka", ["spec", "kafka", "listenres"], []),
    ],
)
def test_schema_validation_rejects_a_broken_manifest(staging, kind, path, bad_value):
    doc = copy.deepcopy(next(doc for doc in staging if doc["kind"] == kind))
    target = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = bad_value

    with pytest.raises((kubernetes_validate.ValidationError, jsonschema.ValidationError)):
        validate(doc)


def kube_score(manifests: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            tool("kube-score"),
            "score",
            "-",
            "--output-format",
            "ci",
            # optional checks worth having: seccomp profiles and named container ports
            "--enable-optional-test",
            "container-seccomp-profile",
            "--enable-optional-test",
            "container-ports-check",
        ],
        input=manifests,
        capture_output=True,
        text=True,
        check=False,
    )


def findings(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [
        line for line in result.stdout.splitlines() if line.startswith(("[CRITICAL]", "[WARNING]"))
    ]


def test_the_security_linter_finds_nothing_in_the_staging_overlay():
    result = kube_score(kustomize(STAGING))

    assert findings(result) == []
    assert result.returncode == 0, result.stderr


def test_the_security_linter_flags_a_privileged_root_container(staging):
    deployment = copy.deepcopy(next(doc for doc in staging if doc["kind"] == "Deployment"))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"] = {"privileged": True, "runAsUser": 0}
    del container["resources"]

    result = kube_score(yaml.safe_dump(deployment))

    assert result.returncode != 0
    assert any("[CRITICAL]" in line for line in findings(result))
