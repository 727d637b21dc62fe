"""docs/getting-started.md, run as written (issue 19 item 5): the commands of its blocks marked
`<!-- walk-through -->`, in a folder of their own (the repository's .venv and docs linked in,
so `var/` is the test's), `challenge dev --no-demo` on a free port; then the member the page
names logs in and passes level 1, and the admin page's checklist is all ticked."""
import os
import re
import signal
import subprocess

import requests

from tests.distributed import free_port
from tests.thin_path import answers_for, login, start, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGE = os.path.join(ROOT, "docs", "getting-started.md")
MEMBER = "13900000002"  # what step 9 tells the reader to log in with


def walk_through_commands() -> list[str]:
    """The lines of the shell blocks that follow a `<!-- walk-through -->` marker."""
    with open(PAGE, encoding="utf-8") as page:
        text = page.read()
    blocks = re.findall(r"<!-- walk-through -->\s*```sh\n(.*?)```", text, flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_the_page_names_every_step_in_order():
    commands = walk_through_commands()
    order = ["admin create", "dev --no-demo", "login", "org import", "campaign template",
             "campaign import", "campaign publish", "roster import", "bank import"]
    positions = [next(i for i, c in enumerate(commands) if step in c) for step in order]
    assert positions == sorted(positions)
    assert f"log in with\n`{MEMBER}`" in open(PAGE, encoding="utf-8").read()


def test_a_fresh_install_to_a_member_passing_level_1(tmp_path):
    commands = walk_through_commands()
    [dev_at] = [i for i, c in enumerate(commands) if " dev " in c]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    os.symlink(os.path.join(ROOT, ".venv"), tmp_path / ".venv")
    os.symlink(os.path.join(ROOT, "docs"), tmp_path / "docs")
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "ROSTER_DATABASE_URL", "CHALLENGE_TOKEN")}
    env["CHALLENGE_URL"] = base

    def bash(lines):
        script = "set -euo pipefail\n" + "\n".join(lines)
        done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, text=True,
                              capture_output=True, timeout=300)
        assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
        return done

    bash(commands[:dev_at])
    log = open(tmp_path / "dev.log", "w")
    dev = subprocess.Popen(commands[dev_at].split() + ["--port", str(port)], cwd=tmp_path,
                           env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        def up():
            try:
                return requests.get(f"{base}/readyz", timeout=2).status_code == 200
            except requests.ConnectionError:
                return dev.poll() is not None  # ended: fail below rather than wait
        wait_for(up, timeout=60, what="challenge dev to be ready")
        assert dev.poll() is None, open(tmp_path / "dev.log").read()[-3000:]
        done = bash(commands[dev_at + 1:] + ['echo "token=$CHALLENGE_TOKEN"'])
        assert "2027  current   12 levels" in done.stdout
        admin = {"Authorization": "Bearer " + done.stdout.split("token=")[-1].strip()}

        sms = str(tmp_path / "var" / "login-codes.log")
        auth, member = login(base, sms, MEMBER)
        campaign = requests.get(f"{base}/api/v1/campaign", headers=auth, timeout=10).json()
        assert campaign["campaign"]["name"] == "2027年“每月一关”学习答题闯关"
        paper = start(base, auth, 1)
        r = requests.post(f"{base}/api/v1/attempts/{paper['attempt_id']}/submit",
                          json={"answers": answers_for(paper)}, headers=auth, timeout=30)
        assert r.status_code == 200 and r.json()["passed"], r.text

        setup = requests.get(f"{base}/api/v1/admin/setup", headers=admin, timeout=10).json()
        assert [setup[k] for k in ("organisation", "campaign", "members", "questions")] == [
            True] * 4

        def on_board():
            board = requests.get(f"{base}/api/v1/leaderboards/system", headers=auth,
                                 timeout=10).json()
            return [e for e in board["entries"] if e["member_id"] == member["member_id"]]
        [entry] = wait_for(on_board, what="the pass on the system board")
        assert entry["levels"] == 1
    finally:
        dev.send_signal(signal.SIGTERM)
        dev.wait(timeout=30)
        log.close()
