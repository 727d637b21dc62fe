"""The services of the platform, and the embedded way to run them all in one process."""
from __future__ import annotations

import logging
import os
import secrets

from kernel import bus
from kernel.migrations import upgrade
from kernel.settings import SERVICES, Settings

log = logging.getLogger(__name__)


def service_classes():
    from gateway.service import GatewayService
    from services.attempts.service import AttemptsService
    from services.awards.service import AwardsService
    from services.question_bank.service import QuestionBankService
    from services.ranking.service import RankingService
    from services.roster.service import RosterService

    return [RosterService, QuestionBankService, AttemptsService, RankingService,
            AwardsService, GatewayService]


def embedded_settings(data_dir: str, port: int, base: Settings | None = None) -> Settings:
    """Settings for one process: the in-memory bus and a SQLite file per service, and the
    data folder's own token secret unless CHALLENGE_SECRET is set."""
    base = base or Settings.from_env()
    return base.with_(
        secret=base.secret or folder_secret(data_dir),
        amqp_uri=bus.EMBEDDED_URI,
        database_url=None,
        service_database_urls={
            name: f"sqlite:///{data_dir}/{name}.db" for name in SERVICES
        },
        sms_backend="file",
        sms_file=f"{data_dir}/login-codes.log",
        web_address=f"127.0.0.1:{port}",
    )


def folder_secret(data_dir: str) -> str:
    """The token secret kept in the data folder (`secret`, readable by its owner only): made
    at random on the first start, read on every later one, so tokens outlive a restart and
    no two folders share one. Only the embedded platform may run without CHALLENGE_SECRET."""
    path = os.path.join(data_dir, "secret")
    os.makedirs(data_dir, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, encoding="utf-8") as kept:
            return kept.read().strip()
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="utf-8") as made:
        made.write(secret + "\n")
    return secret


class EmbeddedPlatform:
    """All five services and the gateway in one nameko runner."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.config = settings.nameko_config()
        self.runner = None

    def start(self):
        from nameko.runners import ServiceRunner

        bus.install()
        upgrade(self.config)
        self.runner = ServiceRunner(self.config)
        for cls in service_classes():
            self.runner.add_service(cls)
        self.runner.start()
        return self

    def rpc(self):
        """A standalone RPC proxy to the platform (use in a `with`)."""
        from nameko.standalone.rpc import ClusterRpcProxy

        return ClusterRpcProxy(self.config, timeout=30)

    def stop(self):
        if self.runner is not None:
            self.runner.stop()
            self.runner = None

    def kill(self):
        """Stop at once, not waiting for workers to finish (when stopping takes too long)."""
        if self.runner is not None:
            self.runner.kill()
            self.runner = None

    def wait(self):
        runner = self.runner  # None once a signal's stop has finished
        if runner is not None:
            runner.wait()
