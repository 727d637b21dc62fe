from alembic import context

from gateway.counters import metadata
from kernel.migrations import run_env

run_env(context, metadata)
