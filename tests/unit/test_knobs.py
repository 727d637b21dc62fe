"""Every knob has one default (kernel/knobs.py), which deploy/config.yaml and the Kubernetes
ConfigMap spell the same; a bad value is named in one line before anything starts."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kernel import knobs

ROOT = Path(__file__).resolve().parents[2]


def config_defaults() -> dict:
    text = (ROOT / "deploy" / "config.yaml").read_text()
    return dict(re.findall(r"^([A-Z_0-9]+): \$\{\1:([^}]*)\}", text, re.M))


def configmap() -> dict:
    for document in yaml.safe_load_all((ROOT / "deploy" / "k8s" / "configmap.yaml").read_text()):
        if document and document.get("kind") == "ConfigMap":
            return document["data"]
    raise AssertionError("no ConfigMap")


# where the cluster deliberately differs from a single machine (docs/deploy.md)
CLUSTER_CHOICES = {"EVENT_QUEUE_TYPE": "quorum", "METRICS_PORT": 9100}


@pytest.mark.parametrize("key", sorted(knobs.KNOBS))
def test_deploy_config_and_the_configmap_spell_the_knobs_default(key):
    spec = knobs.KNOBS[key]
    assert spec.read({key: config_defaults()[key]}) == spec.default
    assert spec.read({key: configmap()[key]}) == CLUSTER_CHOICES.get(key, spec.default)


@pytest.mark.parametrize("key, value, says", [
    ("CHALLENGE_GRACE_SECONDS", "ten", "CHALLENGE_GRACE_SECONDS='ten' is not a number"),
    ("ATTEMPT_STARTS_PER_HOUR", "2.5", "ATTEMPT_STARTS_PER_HOUR='2.5' is not a whole number"),
    ("ATTEMPTS_REVEAL", "everything", "is not one of count, wrong_numbers, answers"),
    ("DB_POOL_SIZE", "0", "DB_POOL_SIZE='0' is below its minimum of 1"),
])
def test_a_bad_value_is_named_in_one_line(key, value, says):
    [problem] = knobs.problems({key: value})
    assert says in problem and "\n" not in problem


def test_unset_and_empty_mean_the_default_and_values_are_typed():
    values = knobs.read_all({"CHALLENGE_GRACE_SECONDS": "", "ATTEMPT_STARTS_PER_HOUR": "12"})
    assert values.grace_seconds == 10.0 and values.attempt_starts_per_hour == 12
    assert values.settle_seconds == 300.0


def test_nameko_run_refuses_a_bad_knob_in_one_line(tmp_path):
    """A service that reads its knobs at setup never starts with a mistyped one."""
    (tmp_path / "service.py").write_text(
        "from kernel.knobs import Knobs\n"
        "from kernel.entrypoints import rpc\n"
        "class Probe:\n"
        "    name = 'probe'\n"
        "    knobs = Knobs()\n"
        "    @rpc\n"
        "    def ping(self):\n"
        "        return self.knobs.grace_seconds\n")
    (tmp_path / "config.yaml").write_text(
        "AMQP_URI: memory://\nCHALLENGE_GRACE_SECONDS: soon\n")
    run = subprocess.run(
        [str(Path(sys.executable).parent / "nameko"), "run", "--config", "config.yaml",
         "service"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={"PYTHONPATH": f"{ROOT}:{tmp_path}", "PATH": "/usr/bin:/bin"})
    assert run.returncode != 0
    assert "CHALLENGE_GRACE_SECONDS='soon' is not a number" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("module, key", [
    ("services.awards.service", "OUTBOX_POLL_SECONDS"),  # read by a kernel extension only
    ("services.attempts.service", "ATTEMPTS_REVEAL"),
    ("gateway.service", "HTTP_MAX_CONNECTIONS"),
])
def test_every_process_refuses_a_bad_knob_before_it_starts(tmp_path, module, key):
    (tmp_path / "config.yaml").write_text(
        "AMQP_URI: memory://\n"
        f"DATABASE_URL: sqlite:///{tmp_path}/x.db\n"
        "CHALLENGE_SECRET: a-secret-long-enough-for-the-check-0123456789\n"
        "WEB_SERVER_ADDRESS: 127.0.0.1:0\n"
        f"{key}: lots\n")
    run = subprocess.run(
        [str(Path(sys.executable).parent / "nameko"), "run", "--config", "config.yaml",
         module], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert run.returncode != 0
    assert f"{key}='lots' is not" in run.stderr, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
