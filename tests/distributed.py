"""The distributed platform as production runs it: `challenge migrate`, then each service and
the gateway in its own `nameko run --config deploy/config.yaml` process, configured from the
environment only. Used by the integration tests' fixtures and by bench/load.py.

A process can be killed (SIGKILL, as the kernel's OOM killer or a lost node would) and started
again; `peak_memory()` reads each process's high-water mark of resident memory."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from tests.thin_path import wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
MODULES = ["services.roster.service", "services.question_bank.service",
           "services.attempts.service", "services.ranking.service",
           "services.awards.service", "gateway.service"]
# the image's PYTHONWARNINGS (Dockerfile): eventlet's import-time text filtered, so a log is JSON
QUIET_IMPORTS = "ignore::DeprecationWarning,ignore::Warning:nameko.cli.commands"
# the token secret every process gets (at least 32 bytes, or they refuse to start)
SECRET = "integration-secret-at-least-32-bytes-long"
SHORT = {module.split(".")[-2] if module.startswith("services.") else "gateway": module
         for module in MODULES}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Distributed:
    """`with Distributed(amqp_uri, database_url, folder, play_at=…, env={…}) as p:`; then
    `p.base`, `p.env`, `p.sms`, `p.kill("ranking")`, `p.start("ranking")`, `p.peak_memory()`.

    `modules` replaces the gateway module (a benchmark's gateway with an extra route) or adds
    processes; `short` names are what kill/start take: roster … awards, gateway."""

    def __init__(self, amqp_uri, database_url, folder, play_at=None, env=None,
                 modules=None):
        self.folder = Path(folder)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.modules = dict(modules or SHORT)
        self.env = dict(
            os.environ,
            AMQP_URI=amqp_uri,
            DATABASE_URL=database_url,
            WEB_SERVER_ADDRESS=f"127.0.0.1:{self.port}",
            SMS_BACKEND="file",
            SMS_FILE=str(self.folder / "codes.log"),
            CHALLENGE_SECRET=SECRET,
            OUTBOX_POLL_SECONDS="0.1",
            LOG_LEVEL="WARNING",
            PYTHONWARNINGS="ignore",
        )
        if play_at is not None:
            self.env["CHALLENGE_CLOCK_OFFSET_SECONDS"] = str(
                (play_at - datetime.now(timezone.utc)).total_seconds())
        self.env.update(env or {})
        self.sms = self.env["SMS_FILE"]
        self.rpc_config = {"AMQP_URI": amqp_uri}
        # each service's Prometheus metrics on a port of its own (as each container's 9100)
        self.metrics_ports = {name: free_port() for name in self.modules if name != "gateway"}
        self.procs: dict[str, subprocess.Popen] = {}
        self._logs = {}

    # -- lifecycle ------------------------------------------------------------------------------

    def __enter__(self):
        subprocess.run([f"{BIN}/challenge", "migrate"], env=self.env, cwd=ROOT, check=True,
                       capture_output=True, timeout=120)
        try:
            for name in self.modules:
                self.start(name, wait=False)
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self, name, wait=True):
        module = self.modules[name]
        log = self._logs.get(name)
        if log is None:
            log = self._logs[name] = open(self.folder / f"{module}.log", "a+")
        self.procs[name] = subprocess.Popen(
            [f"{BIN}/nameko", "run", "--config", "deploy/config.yaml", module],
            env=self.env_of(name), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        if wait:
            self.wait_ready()

    def env_of(self, name) -> dict:
        if name not in self.metrics_ports:
            return self.env
        return dict(self.env, METRICS_PORT=str(self.metrics_ports[name]))

    def metrics_url(self, name) -> str:
        """Where Prometheus scrapes a process: a service's METRICS_PORT, the gateway's own."""
        if name == "gateway":
            return f"{self.base}/metrics"
        return f"http://127.0.0.1:{self.metrics_ports[name]}/metrics"

    def start_gateway_replica(self):
        """A second gateway process on its own port (as a second pod behind the Service):
        the same broker, database and settings; its base URL. Stopped with the others."""
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = self._logs["gateway-2"] = open(self.folder / "gateway.service.2.log", "a+")
        self.procs["gateway-2"] = proc = subprocess.Popen(
            [f"{BIN}/nameko", "run", "--config", "deploy/config.yaml", self.modules["gateway"]],
            env=dict(self.env, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}"), cwd=ROOT, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)

        def ready():
            if proc.poll() is not None:
                log.seek(0)
                raise AssertionError(f"the second gateway exited: {log.read()[-3000:]}")
            try:
                return requests.get(f"{base}/readyz", timeout=5).status_code == 200
            except requests.ConnectionError:
                return False
        wait_for(ready, timeout=60, every=0.5, what="the second gateway to be ready")
        return base

    def kill(self, name, sig=signal.SIGKILL):
        proc = self.procs[name]
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)
        return proc.returncode

    def stop(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
        for log in self._logs.values():
            log.close()
        self._logs = {}

    def wait_ready(self, timeout=60):
        def ready():
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise AssertionError(f"{name} exited: {self.tail(name)}")
            try:
                return requests.get(f"{self.base}/readyz", timeout=5).status_code == 200
            except requests.ConnectionError:
                return False
        wait_for(ready, timeout=timeout, every=0.5, what="the distributed platform to be ready")

    # -- looking inside ---------------------------------------------------------------------

    def log_path(self, name):
        return self.folder / f"{self.modules[name]}.log"

    def tail(self, name, lines=30):
        with open(self.log_path(name)) as f:
            return "".join(f.readlines()[-lines:])

    def sql(self, schema, query, **params):
        """Rows of `query` in a service's schema of the platform's database."""
        engine = create_engine(self.env["DATABASE_URL"],
                               connect_args={"options": f"-csearch_path={schema}"})
        try:
            with engine.connect() as conn:
                return conn.execute(text(query), params).all()
        finally:
            engine.dispose()

    def cpu_seconds(self):
        """{name: CPU seconds (user + system) each running process has used so far}."""
        ticks = os.sysconf("SC_CLK_TCK")
        used = {}
        for name, proc in self.procs.items():
            try:
                with open(f"/proc/{proc.pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                used[name] = (int(fields[11]) + int(fields[12])) / ticks
            except FileNotFoundError:
                continue
        return used

    def peak_memory(self):
        """{name: peak resident memory in MiB} (VmHWM of each running process)."""
        peaks = {}
        for name, proc in self.procs.items():
            try:
                with open(f"/proc/{proc.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            peaks[name] = int(line.split()[1]) / 1024
            except FileNotFoundError:
                continue
        return peaks

    def as_dict(self):
        """What the `platform` fixture has always yielded, plus this object."""
        return {"base": self.base, "env": self.env, "sms": self.sms, "logs": self.folder,
                "rpc_config": self.rpc_config, "processes": self}
