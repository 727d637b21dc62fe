"""What the deployment files must agree on with the code, shared by the compose and the
Kubernetes tests: the modules that run, the settings deploy/config.yaml reads, and which of
those have no usable default."""
import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = os.path.join(ROOT, "deploy", "config.yaml")


def modules() -> dict[str, str]:
    """Service name -> the module `nameko run` runs, found in the repository."""
    found = {os.path.basename(os.path.dirname(path)): f"services.{os.path.basename(os.path.dirname(path))}.service"
             for path in glob.glob(os.path.join(ROOT, "services", "*", "service.py"))}
    found["gateway"] = "gateway.service"
    return found


def run_command(module: str) -> list[str]:
    return ["nameko", "run", "--config", "deploy/config.yaml", module]


def config_variables() -> dict[str, str]:
    """Every `${NAME:default}` of deploy/config.yaml -> its default ('' when there is none)."""
    text = open(CONFIG, encoding="utf-8").read()
    return {name: default for name, default in re.findall(r"\$\{(\w+):?([^}]*)\}", text)}


# settings the platform cannot run on defaults in production: the broker, the database (their
# defaults are for a developer's machine), the token secret and the SMS sender (they have none)
REQUIRED = {"AMQP_URI", "DATABASE_URL", "CHALLENGE_SECRET", "SMS_BACKEND"}
SECRETS = {"AMQP_URI", "DATABASE_URL", "CHALLENGE_SECRET", "CHALLENGE_SECRET_PREVIOUS",
           "AGENCY_API_KEYS",
           "ROSTER_DATABASE_URL", "QUESTION_BANK_DATABASE_URL", "ATTEMPTS_DATABASE_URL",
           "RANKING_DATABASE_URL", "AWARDS_DATABASE_URL"}
