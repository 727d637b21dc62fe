from alembic import context

from kernel.migrations import run_env
from services.awards.models import Base

run_env(context, Base.metadata)
