"""The `migrated` fixture copies a template migrated once per session: each test still gets
its own five databases at alembic head, as if it had run the migrations itself."""
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from kernel.migrations import alembic_config
from kernel.settings import SERVICES


def revision(url):
    engine = create_engine(url)
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    engine.dispose()
    return current


def test_every_database_is_at_head(migrated):
    for service in SERVICES:
        head = ScriptDirectory.from_config(alembic_config(service, migrated)).get_current_head()
        assert revision(migrated[f"{service.upper()}_DATABASE_URL"]) == head


def test_a_test_writes_in_its_own_copy(migrated, migrated_template, tmp_path):
    url = migrated["ROSTER_DATABASE_URL"]
    assert url == f"sqlite:///{tmp_path}/roster.db"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE scribble (x INTEGER)"))
    engine.dispose()
    template = create_engine(f"sqlite:///{migrated_template}/roster.db")
    with template.connect() as conn:
        names = conn.execute(text("SELECT name FROM sqlite_master")).scalars().all()
    template.dispose()
    assert "scribble" not in names
