"""deploy/k8s/: parsed and checked against the code: a Deployment per service module on one
image, every setting of deploy/config.yaml in the ConfigMap or the Secret, probes on every
container, autoscalers and the Service pointing at what exists, and kustomize listing it all."""
import glob
import os
import shutil
import subprocess

import pytest
import yaml

from tests.unit.deploy_checks import ROOT, SECRETS, config_variables, modules, run_command

K8S = os.path.join(ROOT, "deploy", "k8s")
OPTIONAL_SECRETS = {f"{s.upper()}_DATABASE_URL" for s in modules() if s != "gateway"}


@pytest.fixture(scope="module")
def objects():
    found = []
    for path in sorted(glob.glob(os.path.join(K8S, "*.yaml"))):
        if os.path.basename(path) == "kustomization.yaml":
            continue
        with open(path, encoding="utf-8") as handle:
            found += [(os.path.basename(path), doc) for doc in yaml.safe_load_all(handle) if doc]
    return found


def of_kind(objects, kind):
    return {doc["metadata"]["name"]: doc for _, doc in objects if doc["kind"] == kind}


def containers(workload):
    return workload["spec"]["template"]["spec"]["containers"]


def test_a_deployment_per_module_on_one_image(objects):
    deployments = of_kind(objects, "Deployment")
    by_command = {tuple(containers(d)[0]["command"]): name for name, d in deployments.items()}
    for service, module in modules().items():
        assert tuple(run_command(module)) in by_command, module
    assert len(deployments) == len(modules())
    job = of_kind(objects, "Job")["migrate"]
    assert containers(job)[0]["command"] == ["challenge", "migrate"]
    images = {c["image"] for d in list(deployments.values()) + [job] for c in containers(d)}
    assert len(images) == 1


def test_settings_come_from_the_configmap_and_the_secret_and_match_the_config(objects):
    configmap = of_kind(objects, "ConfigMap")["challenge-config"]["data"]
    secret = of_kind(objects, "Secret")["challenge-secrets"]["stringData"]
    variables = set(config_variables())
    assert set(configmap) == variables - SECRETS, (set(configmap) ^ (variables - SECRETS))
    assert set(secret) == (SECRETS & variables) - OPTIONAL_SECRETS
    assert not set(configmap) & set(secret)
    assert all(isinstance(value, str) for value in configmap.values())  # env values are text
    workloads = list(of_kind(objects, "Deployment").values()) + list(of_kind(objects, "Job").values())
    for workload in workloads:
        for container in containers(workload):
            refs = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
            assert refs == {"challenge-config", "challenge-secrets"}, workload["metadata"]["name"]


def test_every_container_has_probes_resources_and_runs_as_a_user(objects):
    for name, deployment in of_kind(objects, "Deployment").items():
        spec = deployment["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        for container in spec["containers"]:
            assert container["readinessProbe"] and container["livenessProbe"], name
            assert container["resources"]["requests"] and container["resources"]["limits"], name
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items(), name
    gateway = containers(of_kind(objects, "Deployment")["gateway"])[0]
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for name, deployment in of_kind(objects, "Deployment").items():
        if name != "gateway":
            command = containers(deployment)[0]["readinessProbe"]["exec"]["command"]
            module = containers(deployment)[0]["command"][-1]
            assert command[:3] == ["challenge", "ping", module.split(".")[1]], name


def test_the_gateway_is_reached_through_its_service_and_ingress(objects):
    deployment = of_kind(objects, "Deployment")["gateway"]
    service = of_kind(objects, "Service")["gateway"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    ports = {p["name"]: p for p in containers(deployment)[0]["ports"]}
    [port] = service["spec"]["ports"]
    assert port["targetPort"] in ports and ports[port["targetPort"]]["containerPort"] == 8000
    configmap = of_kind(objects, "ConfigMap")["challenge-config"]["data"]
    assert configmap["WEB_SERVER_ADDRESS"].endswith(":8000")
    ingress = of_kind(objects, "Ingress")["gateway"]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "gateway" and backend["port"]["name"] == port["name"]


def test_every_pod_is_scraped_where_its_metrics_are_served(objects):
    """A service serves its metrics on METRICS_PORT (kernel/metrics.py), the gateway on its
    HTTP port: each pod's annotations point Prometheus at the port its container opens."""
    configmap = of_kind(objects, "ConfigMap")["challenge-config"]["data"]
    for name, deployment in of_kind(objects, "Deployment").items():
        notes = deployment["spec"]["template"]["metadata"]["annotations"]
        assert notes["prometheus.io/scrape"] == "true" and notes["prometheus.io/path"] == "/metrics"
        opened = {p["containerPort"] for p in containers(deployment)[0]["ports"]}
        assert int(notes["prometheus.io/port"]) in opened, name
        served = 8000 if name == "gateway" else int(configmap["METRICS_PORT"])
        assert int(notes["prometheus.io/port"]) == served, name


def test_autoscalers_target_the_gateway_attempts_and_ranking(objects):
    deployments = of_kind(objects, "Deployment")
    targets = {h["spec"]["scaleTargetRef"]["name"]
               for h in of_kind(objects, "HorizontalPodAutoscaler").values()}
    assert targets == {"gateway", "attempts", "ranking"} and targets <= set(deployments)
    for hpa in of_kind(objects, "HorizontalPodAutoscaler").values():
        assert hpa["spec"]["minReplicas"] >= 2
        target = deployments[hpa["spec"]["scaleTargetRef"]["name"]]
        assert containers(target)[0]["resources"]["requests"]["cpu"]  # HPA on CPU needs it


def test_kustomize_lists_every_file_and_builds():
    with open(os.path.join(K8S, "kustomization.yaml"), encoding="utf-8") as handle:
        listed = set(yaml.safe_load(handle)["resources"])
    files = {os.path.basename(p) for p in glob.glob(os.path.join(K8S, "*.yaml"))}
    # every manifest but the Secret's example (the real Secret is created out of band)
    assert listed == files - {"kustomization.yaml", "secret.example.yaml"}
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the build itself is not checked")
    done = subprocess.run([kubectl, "kustomize", K8S], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    kinds = [doc["kind"] for doc in yaml.safe_load_all(done.stdout) if doc]
    assert kinds.count("Deployment") == len(modules())
