"""The manifests agree with the code: names, ports, topics, probes, policies, scaling."""

from functools import cache
from typing import Any

import pytest

from shared.events import dead_letter_topic
from tests.deploy.support import containers, env_of, of_kind
from tools.services import SERVICES, describe_all
from tools.settings_catalog import known_names, secret_settings

WITH_DATABASE = [name for name, info in SERVICES.items() if info.migrations]


@cache
def described() -> dict[str, dict[str, Any]]:
    return describe_all()


def spec_of(name: str) -> dict[str, Any]:
    """The topics and consumer group a service's composition root declares."""
    return described()[name]


def topics_by_name(staging) -> dict[str, dict[str, Any]]:
    return {doc["spec"]["topicName"]: doc for doc in of_kind(staging, "KafkaTopic").values()}


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_runs_its_own_image_on_the_port_its_settings_name(staging, name):
    port = SERVICES[name].port
    deployment = of_kind(staging, "Deployment")[name]
    service = of_kind(staging, "Service")[name]

    (container,) = containers(deployment)
    assert container["image"].split(":")[0].endswith(f"/{name}") or container["image"].startswith(
        f"cloudivize/{name}:"
    )
    assert [p["containerPort"] for p in container["ports"]] == [port]
    assert [p["port"] for p in service["spec"]["ports"]] == [port]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_the_urls_services_call_each_other_by_are_the_kubernetes_service_addresses(staging):
    config = of_kind(staging, "ConfigMap")["cloudivize-config"]["data"]
    urls = {key: value for key, value in config.items() if key.endswith("_URL")}

    assert urls, "no service URLs in the ConfigMap"
    for key, url in urls.items():
        if key == "OTEL_EXPORTER_OTLP_ENDPOINT":
            continue
        target = key.split("_")[1].lower()
        assert url == f"http://{target}:{SERVICES[target].port}", key


@pytest.mark.parametrize("name", SERVICES)
def test_each_deployment_probes_health_and_readiness_and_bounds_its_resources(staging, name):
    (container,) = containers(of_kind(staging, "Deployment")[name])

    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= container["resources"][bound].keys()
    assert container["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize("name", SERVICES)
def test_each_deployment_is_annotated_for_prometheus_on_its_metrics_route(staging, name):
    template = of_kind(staging, "Deployment")[name]["spec"]["template"]

    assert template["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(SERVICES[name].port),
        "prometheus.io/path": "/metrics",
    }


@pytest.mark.parametrize("name", SERVICES)
def test_each_deployment_has_a_disruption_budget_and_an_autoscaler(staging, name):
    selector = of_kind(staging, "Deployment")[name]["spec"]["selector"]["matchLabels"]
    budget = of_kind(staging, "PodDisruptionBudget")[name]
    autoscaler = of_kind(staging, "HorizontalPodAutoscaler")[name]

    assert budget["spec"]["selector"]["matchLabels"] == selector
    assert autoscaler["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": name,
    }
    assert autoscaler["spec"]["minReplicas"] > budget["spec"]["minAvailable"]


@pytest.mark.parametrize("name", SERVICES)
def test_every_credential_a_service_reads_comes_from_a_secret(staging, name):
    (container,) = containers(of_kind(staging, "Deployment")[name])
    env = env_of(container)
    config = of_kind(staging, "ConfigMap")["cloudivize-config"]["data"]
    needed = secret_settings(name)

    assert needed, "every service reads at least the internal signing key"
    for setting in needed:
        assert "secretKeyRef" in env[setting]["valueFrom"], setting
        assert setting not in config, f"{setting} must not sit in the ConfigMap"


def test_the_configmap_sets_only_settings_some_service_reads(staging):
    config = of_kind(staging, "ConfigMap")["cloudivize-config"]["data"]

    assert sorted(set(config) - known_names()) == []


@pytest.mark.parametrize("name", WITH_DATABASE)
def test_each_service_with_a_database_has_a_migration_job_running_its_image(staging, name):
    job = of_kind(staging, "Job")[f"{name}-migrate"]
    (container,) = containers(job)
    (service_container,) = containers(of_kind(staging, "Deployment")[name])

    assert container["command"] == ["python", "-m", "tools.migrate", name]
    assert container["image"] == service_container["image"]
    assert env_of(container) == env_of(service_container)


def test_every_topic_a_service_publishes_or_consumes_is_declared_with_three_replicas(staging):
    declared = topics_by_name(staging)
    needed = set()
    for name in SERVICES:
        spec = spec_of(name)
        needed |= set(spec["publishes"])
        if spec["consumes"] is not None:
            needed |= set(spec["consumes"]["topics"])
            needed.add(dead_letter_topic(spec["consumes"]["group"]))

    assert needed <= declared.keys()
    stray = {name for name in declared if name.endswith(".dead-letter")} - needed
    assert stray == set(), "dead-letter topics of consumer groups that do not exist"
    for topic in needed:
        assert declared[topic]["spec"]["replicas"] == 3, topic
        assert int(declared[topic]["spec"]["config"]["retention.ms"]) > 0, topic


def test_the_usercache_replica_ceiling_is_the_partition_count_of_its_topics(staging):
    consumed = spec_of("usercache")["consumes"]["topics"]
    declared = topics_by_name(staging)
    partitions = {declared[topic]["spec"]["partitions"] for topic in consumed}
    autoscaler = of_kind(staging, "HorizontalPodAutoscaler")["usercache"]
    config = of_kind(staging, "ConfigMap")["cloudivize-config"]["data"]

    assert len(partitions) == 1, f"usercache's topics differ in partitions: {partitions}"
    assert autoscaler["spec"]["maxReplicas"] == partitions.pop()
    assert int(config["KAFKA_TOPIC_PARTITIONS"]) == autoscaler["spec"]["maxReplicas"]


@pytest.mark.parametrize("name", SERVICES)
def test_no_consumer_group_scales_past_the_partitions_it_can_be_given(staging, name):
    consumes = spec_of(name)["consumes"]
    if consumes is None:
        return  # serves HTTP only: its ceiling is a matter of load, not of partitions
    declared = topics_by_name(staging)
    most = max(declared[topic]["spec"]["partitions"] for topic in consumes["topics"])
    autoscaler = of_kind(staging, "HorizontalPodAutoscaler")[name]

    assert autoscaler["spec"]["maxReplicas"] <= most


def test_the_kafka_cluster_keeps_three_replicas_and_creates_no_topic_by_itself(staging):
    (kafka,) = of_kind(staging, "Kafka").values()
    config = kafka["spec"]["kafka"]["config"]
    brokers = [
        pool
        for pool in of_kind(staging, "KafkaNodePool").values()
        if "broker" in pool["spec"]["roles"]
    ]

    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["auto.create.topics.enable"] is False
    assert sum(pool["spec"]["replicas"] for pool in brokers) >= 3
    bootstrap = of_kind(staging, "ConfigMap")["cloudivize-config"]["data"][
        "KAFKA_BOOTSTRAP_SERVERS"
    ]
    listener = kafka["spec"]["kafka"]["listeners"][0]
    assert bootstrap == f"{kafka['metadata']['name']}-kafka-bootstrap:{listener['port']}"


def ingress_sources(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [source for rule in policy["spec"].get("ingress", []) for source in rule["from"]]


def test_only_the_gateway_admits_traffic_from_outside_the_namespace(staging):
    policies = of_kind(staging, "NetworkPolicy")
    outside = {
        name
        for name, policy in policies.items()
        for source in ingress_sources(policy)
        if "namespaceSelector" in source
        and source["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        != "monitoring"
    }

    assert outside == {"gateway"}
    assert policies["default-deny"]["spec"]["policyTypes"] == ["Ingress", "Egress"]


def test_each_service_admits_only_the_services_that_call_it(staging):
    policies = of_kind(staging, "NetworkPolicy")
    callers = {
        name: {
            source["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
            for source in ingress_sources(policies[name])
            if "podSelector" in source
        }
        for name in SERVICES
    }

    assert callers == {
        "gateway": set(),
        "auth": {"gateway"},
        "tenants": {"gateway", "auth"},
        "usercache": {"gateway"},
    }


CLUSTER_ONLY_ROUTES = {"/metrics", "/healthz", "/readyz"}
# Served by no service (the API documents are generated into docs/), and never routed.
ABSENT_ROUTES = {"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}


def test_the_ingress_routes_every_public_gateway_route_and_no_cluster_only_one(staging):
    (ingress,) = of_kind(staging, "Ingress").values()
    paths = [path for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]]
    gateway_routes = set(spec_of("gateway")["routes"])

    def routed(route: str) -> bool:
        return any(
            route == path["path"]
            if path["pathType"] == "Exact"
            else route == path["path"] or route.startswith(path["path"].rstrip("/") + "/")
            for path in paths
        )

    assert {path["backend"]["service"]["name"] for path in paths} == {"gateway"}
    assert gateway_routes >= CLUSTER_ONLY_ROUTES
    assert not gateway_routes & ABSENT_ROUTES
    assert sorted(route for route in CLUSTER_ONLY_ROUTES | ABSENT_ROUTES if routed(route)) == []
    public = gateway_routes - CLUSTER_ONLY_ROUTES
    assert sorted(route for route in public if not routed(route)) == []


def egress_targets(policy: dict[str, Any]) -> set[tuple[str, int]]:
    """(pod name label, port) pairs a policy lets its pods call inside the namespace."""
    return {
        (peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"], port["port"])
        for rule in policy["spec"].get("egress", [])
        for peer in rule["to"]
        if "app.kubernetes.io/name" in peer.get("podSelector", {}).get("matchLabels", {})
        for port in rule["ports"]
    }


def test_every_service_to_service_call_is_allowed_out_of_the_caller_and_into_the_callee(
    staging,
):
    config = of_kind(staging, "ConfigMap")["cloudivize-config"]["data"]
    policies = of_kind(staging, "NetworkPolicy")
    calls = {
        (key.split("_")[0].lower(), key.split("_")[1].lower())
        for key in config
        if key.endswith("_URL") and key.split("_")[1].lower() in SERVICES
    }

    assert calls, "no service calls another through the ConfigMap"
    for caller, callee in calls:
        assert (callee, SERVICES[callee].port) in egress_targets(policies[caller]), (caller, callee)
        sources = ingress_sources(policies[callee])
        assert any(
            source.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
            == caller
            for source in sources
        ), (caller, callee)
    allowed = {
        (name, target)
        for name in SERVICES
        for target, _ in egress_targets(policies[name])
        if target in SERVICES
    }
    assert allowed == calls, "a service may call another it has no URL for"
