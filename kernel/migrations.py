"""Alembic, one history per service (`services/<name>/migrations`).

On PostgreSQL with one shared `DATABASE_URL`, each service lives in its own schema (created
here), and keeps its own version table in it. With `<SERVICE>_DATABASE_URL`, it has the
database to itself. SQLite files (embedded mode) work the same way.
"""
from __future__ import annotations

import os

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import make_url

from kernel.db import service_engine, shared_database
from kernel.settings import SERVICES, database_url

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def script_location(service: str) -> str:
    if service == "gateway":  # its shared limit counters (gateway/counters.py)
        return os.path.join(ROOT, "gateway", "migrations")
    return os.path.join(ROOT, "services", service, "migrations")


def alembic_config(service: str, nameko_config: dict) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location(service))
    cfg.attributes["service"] = service
    cfg.attributes["nameko_config"] = nameko_config
    return cfg


def schema_for(service: str, nameko_config: dict) -> str | None:
    url = database_url(nameko_config, service)
    if make_url(url).get_backend_name() == "postgresql" and shared_database(
        nameko_config, service
    ):
        return service
    return None


def upgrade(nameko_config: dict, services=SERVICES, revision: str = "head") -> None:
    for service in services:
        command.upgrade(alembic_config(service, nameko_config), revision)


def run_env(context, metadata) -> None:
    """The body of every service's migrations/env.py."""
    cfg = context.config
    service = cfg.attributes["service"]
    nameko_config = cfg.attributes["nameko_config"]
    schema = schema_for(service, nameko_config)
    engine = service_engine(nameko_config, service)
    with engine.connect() as connection:
        if schema:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table="alembic_version",
            version_table_schema=schema,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def autogenerate(service: str, message: str) -> None:
    """Write a new revision from the models' difference with the current head (developers)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        config = {"DATABASE_URL": f"sqlite:///{tmp}/{service}.db"}
        upgrade(config, [service])
        versions = os.path.join(script_location(service), "versions")
        number = 1 + sum(1 for f in os.listdir(versions) if f.endswith(".py"))
        command.revision(
            alembic_config(service, config), message=message, autogenerate=True,
            rev_id=f"{number:04d}",
        )
