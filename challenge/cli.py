"""`challenge`: the embedded platform and the operator's commands (contracts.md, "Commands")."""
from __future__ import annotations

import argparse
import sys
import warnings


def _quiet_imports():
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import eventlet

    eventlet.monkey_patch()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="challenge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run the embedded platform (what `make run` calls)")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--data", default="var", help="where the SQLite files and codes go")
    dev.add_argument("--no-demo", action="store_true", help="start empty")
    dev.add_argument("--now", help="start the clock at this ISO instant (with offset)")

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("services", nargs="*", help="default: every service")

    args = parser.parse_args(argv)
    _quiet_imports()
    if args.command == "dev":
        from challenge.dev import run

        return run(args)
    if args.command == "migrate":
        from challenge.ops import migrate as run_migrate

        return run_migrate(args.services)
    return 2


if __name__ == "__main__":
    sys.exit(main())
