"""The NetworkPolicies allow exactly the call graph, evaluated as Kubernetes evaluates them.

A connection from pod A to pod B on a port is allowed when A's egress allows it (no policy of
A's namespace selects A for Egress, or one of them has a matching rule) and B's ingress does
likewise. The rendered policies of each overlay are evaluated that way for every pair of KTRDR
workloads, for DNS, for the endpoints outside (TWS, the database) and for pods elsewhere.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from urllib.parse import urlsplit

import pytest

from ktrdr_runtime.services import NAMES
from ktrdr_runtime.settings import DEFAULT_METRICS_PORTS, DEFAULT_PORTS

from .deploy_common import (
    K8S,
    OVERLAYS,
    container_env,
    generator,
    named,
    overlay,
    render,
    settings_class,
    workloads,
)

NAMESPACE = "ktrdr"
PORTS = {s.replace("_", "-"): DEFAULT_PORTS[s] for s in NAMES} | {"gateway": 8080}


@dataclasses.dataclass(frozen=True)
class Pod:
    namespace: str
    labels: tuple[tuple[str, str], ...] = ()
    ip: str = "10.244.0.10"  # some pod address; peers by address block use it

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


def pod(namespace: str, **labels: str) -> Pod:
    return Pod(namespace, tuple(sorted(labels.items())))


OUTSIDERS = {
    "ingress controller": pod("ingress-nginx", **{"app.kubernetes.io/name": "ingress-nginx"}),
    "prometheus": pod("monitoring", **{"app.kubernetes.io/name": "prometheus"}),
    "another app": pod("default", app="other"),
}
DNS = pod("kube-system", **{"k8s-app": "kube-dns"})


def selects(selector: dict, labels: dict[str, str]) -> bool:
    """Label selector semantics (matchLabels and matchExpressions)."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        present, value = e["key"] in labels, labels.get(e["key"])
        ok = {
            "In": present and value in e.get("values", []),
            "NotIn": not present or value not in e.get("values", []),
            "Exists": present,
            "DoesNotExist": not present,
        }[e["operator"]]
        if not ok:
            return False
    return True


def peer_matches(peer: dict, other: Pod, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        address = ipaddress.ip_address(other.ip)
        inside = address in ipaddress.ip_network(block["cidr"])
        return inside and not any(
            address in ipaddress.ip_network(x) for x in block.get("except", [])
        )
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": other.namespace}):
            return False
    elif other.namespace != policy_namespace:
        return False
    return selects(peer.get("podSelector", {}), other.label_map)


def direction_allows(policies, subject: Pod, other: Pod, port: int, kind: str) -> bool:
    """Does ``subject``'s side allow traffic with ``other`` (kind Ingress or Egress)?"""
    relevant = [
        p
        for p in policies
        if p["metadata"].get("namespace", subject.namespace) == subject.namespace
        and kind in p["spec"]["policyTypes"]
        and selects(p["spec"]["podSelector"], subject.label_map)
    ]
    if not relevant:
        return True
    key, peers_key = kind.lower(), "from" if kind == "Ingress" else "to"
    for p in relevant:
        for rule in p["spec"].get(key, []):
            peers = rule.get(peers_key)
            ports = rule.get("ports")
            peer_ok = peers is None or any(peer_matches(x, other, subject.namespace) for x in peers)
            port_ok = ports is None or any(x.get("port") in (None, port) for x in ports)
            if peer_ok and port_ok:
                return True
    return False


def allowed(policies, source: Pod, target: Pod, port: int) -> bool:
    return direction_allows(policies, source, target, port, "Egress") and direction_allows(
        policies, target, source, port, "Ingress"
    )


def ktrdr_pods(docs) -> dict[str, Pod]:
    """One pod per KTRDR workload, by its app.kubernetes.io/name (neural: CPU and GPU)."""
    pods = {}
    for doc, template in workloads(docs):
        labels = template["metadata"]["labels"]
        key = doc["metadata"]["name"]
        pods[key] = Pod(doc["metadata"].get("namespace", NAMESPACE), tuple(sorted(labels.items())))
    return pods


def app(p: Pod) -> str:
    return p.label_map["app.kubernetes.io/name"]


def endpoint_pod(docs, name: str) -> Pod:
    """Where an endpoint is in this overlay: its in-cluster pod, or an address in the block."""
    (policy,) = [
        p for p in named(docs, "NetworkPolicy").values() if p["metadata"]["name"] == f"to-{name}"
    ]
    (rule,) = policy["spec"]["egress"]
    (peer,) = rule["to"]
    if "ipBlock" in peer:
        network = ipaddress.ip_network(peer["ipBlock"]["cidr"])
        return Pod("<outside>", (), str(next(network.hosts())))
    namespace = peer.get("namespaceSelector", {}).get("matchLabels", {})
    return Pod(
        namespace.get("kubernetes.io/metadata.name", NAMESPACE),
        tuple(sorted(peer["podSelector"]["matchLabels"].items())),
    )


CALLS = generator().CALLS
ENDPOINTS = generator().ENDPOINTS


@pytest.mark.parametrize("name", sorted(OVERLAYS))
def test_every_call_of_the_call_graph_is_allowed_and_nothing_else(name):
    docs = overlay(name)
    policies = list(named(docs, "NetworkPolicy").values())
    pods = {k: p for k, p in ktrdr_pods(docs).items() if app(p) in CALLS}
    training = {"neural-train"} if name == "dev" else set()  # GPU training: prod only
    assert {app(p) for p in pods.values()} == set(CALLS) - training
    for source in pods.values():
        for target in pods.values():
            for port in set(PORTS.values()):
                expected = app(target) in CALLS[app(source)] and PORTS[app(target)] == port
                assert allowed(policies, source, target, port) == expected, (
                    f"{app(source)} -> {app(target)}:{port} should be "
                    + ("allowed" if expected else "denied")
                )


@pytest.mark.parametrize("name", sorted(OVERLAYS))
def test_only_the_edge_is_reachable_from_outside_and_metrics_from_monitoring(name):
    docs = overlay(name)
    policies = list(named(docs, "NetworkPolicy").values())
    metrics = {s.replace("_", "-"): DEFAULT_METRICS_PORTS[s] for s in NAMES}
    ports = set(PORTS.values()) | set(metrics.values())
    for target in ktrdr_pods(docs).values():
        for who, outsider in OUTSIDERS.items():
            for port in ports:
                expected = (
                    who == "ingress controller" and app(target) == "gateway" and port == 8080
                ) or (who == "prometheus" and metrics.get(app(target)) == port)
                assert allowed(policies, outsider, target, port) == expected, (
                    who,
                    app(target),
                    port,
                )


@pytest.mark.parametrize("name", sorted(OVERLAYS))
def test_every_pod_resolves_names_and_reaches_no_one_else_outside(name):
    docs = overlay(name)
    policies = list(named(docs, "NetworkPolicy").values())
    for source in ktrdr_pods(docs).values():
        assert allowed(policies, source, DNS, 53), app(source)
        for outsider in OUTSIDERS.values():
            for port in (53, 80, 443, 8080):
                assert not allowed(policies, source, outsider, port), (app(source), outsider)


@pytest.mark.parametrize("name", sorted(OVERLAYS))
@pytest.mark.parametrize("endpoint", ["tws", "database"])
def test_only_the_callers_of_an_endpoint_reach_it(name, endpoint):
    docs = overlay(name)
    policies = list(named(docs, "NetworkPolicy").values())
    target, port = endpoint_pod(docs, endpoint), ENDPOINTS[endpoint].port
    reached = {app(s) for s in ktrdr_pods(docs).values() if allowed(policies, s, target, port)}
    expected = {c for c, callees in CALLS.items() if endpoint in callees}
    assert reached == expected
    assert expected == ({"ib-gateway"} if endpoint == "tws" else {"backtest", "backtest-migrate"})


def test_the_endpoints_own_rules_admit_only_their_callers():
    dev = overlay("dev")
    policies = list(named(dev, "NetworkPolicy").values())
    postgres = next(p for p in ktrdr_pods(dev).values() if app(p) == "postgres")
    reached = {app(s) for s in ktrdr_pods(dev).values() if allowed(policies, s, postgres, 5432)}
    assert reached == {"backtest", "backtest-migrate"}
    tws_docs = render(K8S / "tws")
    tws_policies = list(named(tws_docs, "NetworkPolicy").values())
    (tws,) = ktrdr_pods(tws_docs).values()
    callers = {
        app(s)
        for s in ktrdr_pods(overlay("prod")).values()
        if direction_allows(tws_policies, tws, s, 4004, "Ingress")
    }
    assert callers == {"ib-gateway"}
    assert not direction_allows(tws_policies, tws, OUTSIDERS["another app"], 4004, "Ingress")


@pytest.mark.parametrize("name", sorted(OVERLAYS))
def test_the_ib_gateway_settings_name_the_tws_its_policy_lets_it_reach(name):
    docs = overlay(name)
    deployment = named(docs, "Deployment")["ib-gateway"]
    env = container_env(deployment["spec"]["template"]["spec"]["containers"][0], docs)
    tws_docs = render(K8S / "tws")
    (service,) = named(tws_docs, "Service").values()
    host = f"{service['metadata']['name']}.{service['metadata']['namespace']}.svc.cluster.local"
    assert env["KTRDR_IB_GATEWAY_IB_HOST"] == host
    port = int(env["KTRDR_IB_GATEWAY_IB_PORT"])
    assert port in {p["port"] for p in service["spec"]["ports"]}
    assert port == ENDPOINTS["tws"].port
    assert endpoint_pod(docs, "tws").namespace == service["metadata"]["namespace"]


def test_the_dev_database_url_names_the_postgres_its_policy_lets_backtest_reach():
    import base64

    docs = overlay("dev")
    secret = next(s for n, s in named(docs, "Secret").items() if n.startswith("ktrdr-database"))
    url = urlsplit(base64.b64decode(secret["data"]["url"]).decode())
    service = named(docs, "Service")["postgres"]
    assert url.scheme == "postgresql" and url.hostname == "postgres"
    assert url.port == ENDPOINTS["database"].port == service["spec"]["ports"][0]["port"]


def test_the_call_graph_holds_every_dependency_the_services_settings_declare():
    declared = set()
    for service in NAMES:
        cls = settings_class(service)
        for field in dataclasses.fields(cls):
            match = re.fullmatch(r"KTRDR_(\w+)_ADDRESS", cls._env_name(field.name))
            if match:
                declared.add((service, match.group(1).lower()))
    assert declared  # indicators -> data at least
    for caller, callee in declared:
        assert callee.replace("_", "-") in CALLS[caller.replace("_", "-")], (caller, callee)
