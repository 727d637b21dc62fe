"""How roster sends login codes (services/roster/sms.py): no sender unless one is named, and
the development log backend never writes a whole phone (the process refusing to start:
tests/e2e/test_processes.py)."""
import logging
from datetime import datetime, timezone

import pytest

from services.roster.sms import FileSender, LogSender, sender_for, sender_problem
from tests.unit.deploy_checks import config_variables
from tests.unit.test_knobs import configmap

AT = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


def test_the_log_backend_masks_the_phone_and_shows_the_code(caplog):
    caplog.set_level(logging.INFO, logger="services.roster.sms")
    sender_for({"SMS_BACKEND": "log"}).send("13800000005", "272908", AT)
    [record] = caplog.records
    line = record.getMessage()
    assert "138****0005" in line and "272908" in line
    assert "13800000005" not in line


def test_the_file_backend_keeps_the_whole_phone_on_the_developers_machine(tmp_path):
    path = tmp_path / "codes.log"
    sender = sender_for({"SMS_BACKEND": "file", "SMS_FILE": str(path)})
    assert isinstance(sender, FileSender)
    sender.send("13800000005", "272908", AT)
    assert path.read_text().endswith("\t13800000005\t272908\n")


@pytest.mark.parametrize("backend", [None, "", "sms"])
def test_no_sender_unless_one_is_named(backend):
    problem = sender_problem({"SMS_BACKEND": backend})
    assert problem.startswith("SMS_BACKEND") and "\n" not in problem
    with pytest.raises(RuntimeError):
        sender_for({"SMS_BACKEND": backend})
    assert isinstance(sender_for({"SMS_BACKEND": "log"}), LogSender)


def test_production_configs_name_no_sender_by_default():
    """deploy/config.yaml and the cluster's ConfigMap leave SMS_BACKEND empty: roster waits
    for the operator to name a provider (docker-compose sets `log`, a development choice)."""
    assert config_variables()["SMS_BACKEND"] == ""
    assert configmap()["SMS_BACKEND"] == ""
