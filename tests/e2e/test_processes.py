"""The processes as an operator starts and stops them (subprocesses, each bounded in time):
`nameko run` and `challenge migrate` refuse to start without a usable token secret, in one
line; `challenge dev` keeps its own secret in its data folder, holds the folder against a
second `challenge dev`, and is gone within seconds of SIGTERM with its port free again."""
import os
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest
import requests

from tests.distributed import ROOT, free_port
from tests.thin_path import wait_for

BIN = os.path.dirname(sys.executable)
ADVICE = "set it to a random string of at least 32 bytes"
SHORT_SECRET = "x" * 31
LONG_SECRET = "y" * 32
NOBODY = "amqp://guest:guest@127.0.0.1:9//"  # a process that got past the check waits here


def environment(**settings):
    """This process's environment without any token secret, with a development SMS backend
    (so a refusal is the secret's), plus `settings`."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("CHALLENGE_SECRET", "CHALLENGE_SECRET_PREVIOUS")}
    env.update({"PYTHONWARNINGS": "ignore", "SMS_BACKEND": "log", **settings})
    return env


def refusal(command, env):
    """Run `command` to its end (it must refuse within the bound): its exit code and stderr."""
    started = time.monotonic()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=30)
    assert time.monotonic() - started < 20
    return done.returncode, done.stderr


def assert_one_line(stderr, line_start):
    lines = [line for line in stderr.splitlines() if line.startswith(line_start)]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr, stderr
    return lines[0]


# -- no public default secret ---------------------------------------------------------------

@pytest.mark.parametrize("module", ["gateway.service", "services.roster.service"])
@pytest.mark.parametrize("secret", [None, SHORT_SECRET])
def test_nameko_run_refuses_without_a_usable_secret(module, secret):
    env = environment(AMQP_URI=NOBODY, LOG_FORMAT="text")
    if secret is not None:
        env["CHALLENGE_SECRET"] = secret
    code, stderr = refusal([f"{BIN}/nameko", "run", "--config", "deploy/config.yaml", module],
                           env)
    assert code != 0
    line = assert_one_line(stderr, "CHALLENGE_SECRET is not set (or shorter than 32 bytes)")
    assert ADVICE in line and "secrets.token_urlsafe(48)" in line


def test_nameko_run_refuses_a_short_previous_secret_while_rotating():
    env = environment(AMQP_URI=NOBODY, LOG_FORMAT="text", CHALLENGE_SECRET=LONG_SECRET,
                      CHALLENGE_SECRET_PREVIOUS=SHORT_SECRET)
    code, stderr = refusal(
        [f"{BIN}/nameko", "run", "--config", "deploy/config.yaml", "gateway.service"], env)
    assert code != 0
    assert_one_line(stderr, "CHALLENGE_SECRET_PREVIOUS is shorter than 32 bytes")


@pytest.mark.parametrize("secret", [None, SHORT_SECRET])
def test_challenge_migrate_refuses_without_a_usable_secret_and_touches_nothing(tmp_path, secret):
    database = tmp_path / "challenge.db"
    env = environment(DATABASE_URL=f"sqlite:///{database}")
    if secret is not None:
        env["CHALLENGE_SECRET"] = secret
    code, stderr = refusal([f"{BIN}/challenge", "migrate"], env)
    assert code == 2
    assert_one_line(stderr, "CHALLENGE_SECRET is not set (or shorter than 32 bytes)")
    assert not database.exists()


# -- no default SMS sender ------------------------------------------------------------------

@pytest.mark.parametrize("backend, says", [
    ("", "SMS_BACKEND is not set: name the SMS provider that sends login codes, or set "
         "SMS_BACKEND=log"),
    ("sms", "SMS_BACKEND='sms' is not one of file, log"),
])
def test_roster_refuses_to_start_without_a_way_to_send_login_codes(backend, says):
    """Production has no sender by default: deploy/config.yaml's SMS_BACKEND is empty, and
    roster stops with one line instead of writing codes to a log nobody chose."""
    env = environment(AMQP_URI=NOBODY, LOG_FORMAT="text", CHALLENGE_SECRET=LONG_SECRET,
                      SMS_BACKEND=backend)
    code, stderr = refusal([f"{BIN}/nameko", "run", "--config", "deploy/config.yaml",
                            "services.roster.service"], env)
    assert code != 0
    assert_one_line(stderr, says)


# -- challenge dev ----------------------------------------------------------------------------

class Dev:
    """`challenge dev --no-demo` on a data folder and a free port, without CHALLENGE_SECRET."""

    def __init__(self, folder, port=None):
        self.folder, self.port = folder, port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(folder.parent / f"dev-{self.port}.log", "w+")
        self.proc = subprocess.Popen(
            [f"{BIN}/challenge", "dev", "--no-demo", "--data", str(folder),
             "--port", str(self.port)],
            env=environment(), cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def healthy(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"challenge dev exited: {self.output()}")
        try:
            return requests.get(f"{self.base}/healthz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def wait_healthy(self):
        wait_for(self.healthy, timeout=60, every=0.2, what="challenge dev to answer")
        return self

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def end(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def dev_processes():
    started = []
    yield lambda *args: started.append(Dev(*args)) or started[-1]
    for dev in started:
        dev.end()


def port_is_free(port):
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def stop_with_sigterm(dev):
    """Seconds from SIGTERM to the process's end."""
    sent = time.monotonic()
    dev.proc.send_signal(signal.SIGTERM)
    try:
        dev.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise AssertionError("challenge dev outlived SIGTERM by 30 s") from None
    return time.monotonic() - sent


def test_challenge_dev_keeps_its_own_secret_in_its_data_folder(tmp_path, dev_processes):
    folder = tmp_path / "var"
    first = dev_processes(folder).wait_healthy()
    path = folder / "secret"
    secret = path.read_text().strip()
    assert len(secret.encode()) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stop_with_sigterm(first)

    dev_processes(folder).wait_healthy()  # a restart signs with the same one: tokens survive
    assert path.read_text().strip() == secret
    other = tmp_path / "elsewhere"
    dev_processes(other).wait_healthy()
    assert (other / "secret").read_text().strip() != secret


def test_a_second_challenge_dev_on_the_folder_is_refused(tmp_path, dev_processes):
    folder = tmp_path / "var"
    first = dev_processes(folder).wait_healthy()

    second = dev_processes(folder)
    assert second.proc.wait(timeout=30) == 2
    assert (f"another challenge dev is running on {folder} (pid {first.proc.pid}); "
            f"stop it first") in second.output()
    assert port_is_free(second.port)  # it never served
    assert first.healthy()  # the first goes on

    stop_with_sigterm(first)
    dev_processes(folder).wait_healthy()  # the folder is free again


def test_sigterm_ends_challenge_dev_within_seconds_and_frees_its_port(tmp_path, dev_processes):
    dev = dev_processes(tmp_path / "var").wait_healthy()
    for _ in range(5):
        requests.get(f"{dev.base}/", timeout=10)
        requests.get(f"{dev.base}/readyz", timeout=10)  # every service over the bus

    time.sleep(2)  # idle, the in-memory consumers polling: where SIGTERM used to be lost
    took = stop_with_sigterm(dev)
    assert took < 7.5, took  # 4.5 s at most by design (challenge/dev.py); a margin for load
    assert dev.proc.returncode in (0, 1)
    assert port_is_free(dev.port)
