import os
import signal
import socket
import subprocess
import sys
from datetime import datetime, timezone

import pytest
import requests

from tests import infra
from tests.thin_path import wait_for


@pytest.fixture(scope="session")
def amqp_vhost_uri():
    yield from infra.rabbit_vhost()


@pytest.fixture(scope="session")
def pg_url():
    yield from infra.pg_database()


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
MODULES = ["services.roster.service", "services.question_bank.service",
           "services.attempts.service", "services.ranking.service",
           "services.awards.service", "gateway.service"]
PLAY_AT = datetime(2018, 5, 20, 1, 0, tzinfo=timezone.utc)  # levels 1–3 open


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def fresh_backends():
    """A vhost and a database of this test's own (the platform's queues and tables)."""
    vhost, database = infra.rabbit_vhost(), infra.pg_database()
    try:
        yield next(vhost), next(database)
    finally:
        for generator in (vhost, database):
            generator.close()


@pytest.fixture
def platform(request, fresh_backends, tmp_path):
    """The distributed platform: `challenge migrate`, then each service and the gateway in its
    own `nameko run` process with deploy/config.yaml, configured from the environment only;
    the clock starts at PLAY_AT. Each process's log is tmp_path/<module>.log.

    Parametrize it indirectly with {"play_at": datetime, "env": {...}} to start the clock
    elsewhere or change settings."""
    amqp_vhost_uri, pg_url = fresh_backends
    options = getattr(request, "param", {})
    play_at = options.get("play_at", PLAY_AT)
    port = free_port()
    env = dict(
        os.environ,
        AMQP_URI=amqp_vhost_uri,
        DATABASE_URL=pg_url,
        WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
        SMS_BACKEND="file",
        SMS_FILE=str(tmp_path / "codes.log"),
        CHALLENGE_SECRET="integration-secret",
        CHALLENGE_CLOCK_OFFSET_SECONDS=str(
            (play_at - datetime.now(timezone.utc)).total_seconds()),
        OUTBOX_POLL_SECONDS="0.1",
        LOG_LEVEL="WARNING",
        PYTHONWARNINGS="ignore",
    )
    env.update(options.get("env", {}))
    subprocess.run([f"{BIN}/challenge", "migrate"], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=120)
    procs, logs = [], []
    for module in MODULES:
        log = open(tmp_path / f"{module}.log", "w+")
        logs.append((module, log))
        procs.append(subprocess.Popen(
            [f"{BIN}/nameko", "run", "--config", "deploy/config.yaml", module],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True))
    base = f"http://127.0.0.1:{port}"
    try:
        def ready():
            for module, proc in zip(MODULES, procs):
                if proc.poll() is not None:
                    raise AssertionError(f"{module} exited: {_tail(tmp_path, module)}")
            try:
                return requests.get(f"{base}/readyz", timeout=5).status_code == 200
            except requests.ConnectionError:
                return False
        wait_for(ready, timeout=60, every=0.5, what="the distributed platform to be ready")
        yield {"base": base, "env": env, "sms": env["SMS_FILE"], "logs": tmp_path,
               "rpc_config": {"AMQP_URI": amqp_vhost_uri}}
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        for module, log in logs:
            log.close()


def _tail(tmp_path, module, lines=30):
    with open(tmp_path / f"{module}.log") as f:
        return "".join(f.readlines()[-lines:])
