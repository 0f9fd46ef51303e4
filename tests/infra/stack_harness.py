"""Runs the supervisor on a plan given as JSON, as `make run` would with the real one."""

import json
import sys
from pathlib import Path

from devstack.stack.children import ChildSpec
from devstack.stack.plan import Plan
from devstack.stack.supervisor import Supervisor


def plan_from_json(text: str) -> Plan:
    raw = json.loads(text)
    return Plan(
        var_dir=Path(raw["var_dir"]),
        kafka=None,
        emulator=ChildSpec(**raw["emulator"]) if raw.get("emulator") else None,
        services=[ChildSpec(**spec) for spec in raw["services"]],
        seed_demo_tenant=raw.get("seed", False),
        tenants_url=raw.get("tenants_url", ""),
        ready_timeout=raw.get("ready_timeout", 30.0),
    )


if __name__ == "__main__":
    sys.exit(Supervisor(plan_from_json(sys.argv[1])).run())
