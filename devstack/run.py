"""`python -m devstack.run` (`make run`): the whole stack on one machine, until Ctrl-C."""

import sys
from pathlib import Path

from devstack.stack import lock
from devstack.stack.plan import default_plan
from devstack.stack.supervisor import Supervisor

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    plan = default_plan(ROOT)
    plan.var_dir.mkdir(exist_ok=True)
    try:
        held = lock.acquire(plan.var_dir / "run.lock")
    except lock.AlreadyRunning as exc:
        print(exc, file=sys.stderr)
        return 1
    with held:
        return Supervisor(plan).run()


if __name__ == "__main__":
    sys.exit(main())
