"""docker-compose.yml, as Debian's `docker-compose config` resolves it (there is no engine
here to run it): every service module runs with the config the code reads, on the image the
Dockerfile builds, after the broker, the database and the migrations."""
import os
import shutil
import subprocess

import pytest
import yaml

from kernel.settings import secret_problem
from tests.distributed import QUIET_IMPORTS
from tests.unit.deploy_checks import REQUIRED, ROOT, config_variables, modules, run_command

INFRA = {"rabbitmq", "postgres", "migrate"}


@pytest.fixture(scope="module")
def compose():
    binary = shutil.which("docker-compose")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("docker-compose is not installed — .ci/run installs it under CI",
                        pytrace=False)
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    env = dict(os.environ, CHALLENGE_SECRET="checked-by-the-test-" + "x" * 32)
    done = subprocess.run([binary, "config"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)["services"]


def app_services(compose):
    return {name: svc for name, svc in compose.items() if name not in INFRA - {"migrate"}}


def test_each_module_runs_in_exactly_one_service_on_the_one_image(compose):
    commands = {name: svc.get("command") for name, svc in compose.items()}
    for name, module in modules().items():
        running = [svc for svc, command in commands.items() if command == run_command(module)]
        assert running == [name], (module, running)
    images = {svc["image"] for name, svc in compose.items() if name not in {"rabbitmq", "postgres"}}
    assert len(images) == 1
    assert compose["migrate"]["command"] == ["challenge", "migrate"]
    assert compose["migrate"]["restart"] == "no"
    assert set(compose) == set(modules()) | INFRA  # nothing runs that the code does not know


def test_every_service_gets_the_settings_the_code_needs_and_no_unknown_ones(compose):
    known = set(config_variables())
    for name, svc in app_services(compose).items():
        env = svc["environment"]
        assert REQUIRED <= set(env), (name, REQUIRED - set(env))
        assert all(env[key] for key in REQUIRED), name
        assert set(env) <= known, (name, set(env) - known)  # a typo would be ignored silently
        assert env["AMQP_URI"].startswith("amqp://") and "@rabbitmq:5672" in env["AMQP_URI"]
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert secret_problem(env) is None, name  # what the processes check at start
    secret = {svc["environment"]["CHALLENGE_SECRET"] for svc in app_services(compose).values()}
    assert len(secret) == 1  # tokens signed by the gateway verify everywhere


def test_the_secret_must_be_given(tmp_path):
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed")
    env = {k: v for k, v in os.environ.items() if k != "CHALLENGE_SECRET"}
    done = subprocess.run([binary, "config"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and "CHALLENGE_SECRET" in done.stderr


def test_services_start_after_the_broker_the_database_and_the_migrations(compose):
    for name in set(modules()):
        depends = compose[name]["depends_on"]
        assert depends["rabbitmq"]["condition"] == "service_healthy", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    assert compose["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_health_checks_restarts_ports_and_replicas(compose):
    for name in modules():
        svc = compose[name]
        assert svc["healthcheck"]["test"] == ["CMD", "challenge", "ping", name], name
        assert svc["restart"] == "unless-stopped", name
    for name in ("rabbitmq", "postgres"):
        assert compose[name]["healthcheck"]["test"] and compose[name]["restart"] == "unless-stopped"
    assert compose["gateway"]["environment"]["WEB_SERVER_ADDRESS"] == "0.0.0.0:8000"
    published = {(int(p["target"]), int(p["published"])) for p in compose["gateway"]["ports"]}
    assert published == {(8000, 8000)}
    assert compose["ranking"]["deploy"]["replicas"] == 2
    assert any(int(p["target"]) == 15672 for p in compose["rabbitmq"]["ports"])


def test_each_service_serves_its_metrics_on_the_compose_network(compose):
    """METRICS_PORT for the services (kernel/metrics.py); the gateway's are at :8000/metrics."""
    for name in set(modules()) - {"gateway"}:
        svc = compose[name]
        assert str(svc["environment"]["METRICS_PORT"]) == "9100", name
        assert "9100" in [str(port) for port in svc["expose"]], name


def test_the_dockerfile_runs_as_a_user_and_installs_the_lock():
    text = open(os.path.join(ROOT, "Dockerfile"), encoding="utf-8").read()
    assert "--constraint requirements.lock" in text
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert 'CMD ["nameko", "run", "--config", "deploy/config.yaml", "gateway.service"]' in text
    # nothing but JSON in a log: eventlet's import-time deprecation text is filtered
    assert f"PYTHONWARNINGS={QUIET_IMPORTS}" in text
