from services.usercache import models  # noqa: F401  (registers the tables)
from shared.db import Base
from shared.migrations import run_env

run_env(Base.metadata)
