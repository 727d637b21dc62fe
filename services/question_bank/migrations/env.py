from alembic import context

from kernel.migrations import run_env
from services.question_bank.models import Base

run_env(context, Base.metadata)
