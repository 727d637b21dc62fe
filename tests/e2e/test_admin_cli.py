"""`challenge admin create|list` (issue 19, item 1): the first system administrator, straight to
roster's database, in the embedded data folder and on PostgreSQL (DATABASE_URL)."""
import json
import os
import sqlite3
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from tests import infra

CHALLENGE = os.path.join(os.path.dirname(sys.executable), "challenge")


def run(*args, env_extra=None, drop=("DATABASE_URL", "ROSTER_DATABASE_URL")):
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(env_extra or {})
    return subprocess.run([CHALLENGE, "admin", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def check_first_and_second(where, env_extra=None):
    """The first is made; a second is refused unless --another; list names both."""
    empty = run("list", "--json", *where, env_extra=env_extra)
    assert empty.returncode == 0, empty.stderr
    assert json.loads(empty.stdout) == []
    first = run("create", "--phone", "139 0000 0001", "--name", "张三", "--json", *where,
                env_extra=env_extra)
    assert first.returncode == 0, first.stderr
    made = json.loads(first.stdout)
    assert made["phone"] == "13900000001" and made["created"] and made["granted"]
    second = run("create", "--phone", "13900000002", "--name", "李四", *where,
                 env_extra=env_extra)
    assert second.returncode == 2
    assert "exists already" in second.stderr and "--another" in second.stderr
    another = run("create", "--phone", "13900000002", "--name", "李四", "--another",
                  "--org", "省总工会", *where, env_extra=env_extra)
    assert another.returncode == 0, another.stderr
    listed = run("list", "--json", *where, env_extra=env_extra)
    admins = json.loads(listed.stdout)
    assert [(a["role"], a["phone"]) for a in admins] == [
        ("system_admin", "13900000001"), ("system_admin", "13900000002")]
    assert {a["org_unit_name"] for a in admins} == {"全系统"}  # the role sits on the root
    return made


def test_admin_create_and_list_in_an_embedded_data_folder(tmp_path):
    made = check_first_and_second(["--data", str(tmp_path)])
    db = sqlite3.connect(tmp_path / "roster.db")
    actions = [row[0] for row in db.execute("select action from audit_log order by id")]
    assert actions.count("system_admin_created") == 2
    assert "role_granted" in actions and "org_unit_created" in actions
    member = db.execute("select org_unit_id, participation from members where id = ?",
                        (made["member_id"],)).fetchone()
    assert member == ("system", "voluntary")  # the root, made since the tree was empty
    second_place = db.execute(
        "select o.kind, o.name, o.parent_id from members m join org_units o "
        "on o.id = m.org_unit_id where m.phone = '13900000002'").fetchone()
    assert second_place == ("organisation", "省总工会", "system")  # --org made it
    # the platform publishes these when it runs: the other services learn the members
    types = [row[0] for row in db.execute("select type from outbox")]
    assert types.count("member_registered") == 2 and types.count("role_granted") == 2


def test_admin_create_refuses_a_bad_phone(tmp_path):
    bad = run("create", "--phone", "12345", "--name", "张三", "--data", str(tmp_path))
    assert bad.returncode == 2 and "not a mobile number" in bad.stderr
    assert json.loads(run("list", "--json", "--data", str(tmp_path)).stdout) == []


@pytest.fixture
def pg_url():
    yield from infra.pg_database()


def test_admin_create_and_list_on_postgresql(pg_url):
    check_first_and_second([], env_extra={"DATABASE_URL": pg_url})
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        actions = conn.execute(text(
            "select action from roster.audit_log order by id")).scalars().all()
    engine.dispose()
    assert actions.count("system_admin_created") == 2
