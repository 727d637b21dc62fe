"""The token secret has no default: what counts as usable, where the embedded platform keeps
its own, and how deploy/config.yaml hands it over (the processes: tests/e2e/test_processes.py)."""
import os
import stat

import pytest
import yaml
from nameko.cli.main import setup_yaml_parser

from challenge.platform import embedded_settings, folder_secret
from kernel.settings import Settings, secret_problem
from tests.unit.deploy_checks import CONFIG, ROOT


def test_no_secret_in_the_environment_is_no_secret_at_all():
    settings = Settings.from_env({})
    assert settings.secret is None
    assert "CHALLENGE_SECRET is not set" in secret_problem(settings.nameko_config())
    assert Settings.from_env({"CHALLENGE_SECRET": ""}).secret is None


@pytest.mark.parametrize("secret, usable", [
    ("x" * 31, False), ("x" * 32, True),
    ("密" * 10, False), ("密" * 11, True),  # bytes, not characters: 3 bytes each
])
def test_a_secret_needs_32_bytes(secret, usable):
    assert (secret_problem({"CHALLENGE_SECRET": secret}) is None) == usable


def test_the_previous_secret_is_checked_only_while_rotating():
    long = "x" * 32
    assert secret_problem({"CHALLENGE_SECRET": long, "CHALLENGE_SECRET_PREVIOUS": ""}) is None
    assert secret_problem({"CHALLENGE_SECRET": long, "CHALLENGE_SECRET_PREVIOUS": None}) is None
    problem = secret_problem({"CHALLENGE_SECRET": long, "CHALLENGE_SECRET_PREVIOUS": "old"})
    assert problem.startswith("CHALLENGE_SECRET_PREVIOUS is shorter than 32 bytes")


def test_the_data_folder_keeps_its_own_secret_for_its_owner_only(tmp_path):
    first = folder_secret(str(tmp_path / "var"))
    path = tmp_path / "var" / "secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.encode()) >= 32
    assert folder_secret(str(tmp_path / "var")) == first  # kept: tokens outlive a restart
    assert folder_secret(str(tmp_path / "other")) != first


def test_the_embedded_platform_uses_the_folders_secret_unless_one_is_given(tmp_path):
    kept = embedded_settings(str(tmp_path), 8000, Settings()).secret
    assert kept == folder_secret(str(tmp_path))
    given = embedded_settings(str(tmp_path / "x"), 8000, Settings(secret="s" * 40)).secret
    assert given == "s" * 40 and not (tmp_path / "x" / "secret").exists()


def _config_with(env, monkeypatch):
    """deploy/config.yaml as `nameko run` reads it, with `env` as the environment."""
    for key in ("CHALLENGE_SECRET", "CHALLENGE_SECRET_PREVIOUS"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    setup_yaml_parser()
    with open(CONFIG, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_deploy_config_has_no_default_secret_and_reads_it_as_text(monkeypatch):
    assert secret_problem(_config_with({}, monkeypatch)) is not None
    digits = "1" * 40  # YAML would make a number of it
    config = _config_with({"CHALLENGE_SECRET": digits, "CHALLENGE_SECRET_PREVIOUS": ""},
                          monkeypatch)
    assert config["CHALLENGE_SECRET"] == digits
    assert secret_problem(config) is None


def test_the_kubernetes_example_secret_cannot_be_applied_as_it_is():
    with open(os.path.join(ROOT, "deploy", "k8s", "secret.example.yaml"), encoding="utf-8") as f:
        example = yaml.safe_load(f)["stringData"]
    assert secret_problem(example) is not None
