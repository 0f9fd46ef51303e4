"""A clear line when a port the stack needs is taken, naming the program that holds it."""

import re
import shutil
import subprocess

from devstack.infra.procs import port_in_use

_HOLDER = re.compile(r'users:\(\("(?P<name>[^"]+)",pid=(?P<pid>\d+)')


def holder(port: int) -> str:
    """`name (pid N)` of the listener, when `ss` can tell; else a neutral phrase."""
    if shutil.which("ss") is None:
        return "another program"
    argv = ["ss", "-ltnpH", f"sport = :{port}"]
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=5)
    match = _HOLDER.search(result.stdout)
    return f"{match['name']} (pid {match['pid']})" if match else "another program"


def first_conflict(wanted: dict[int, str]) -> str | None:
    """A one-line message for the first taken port, or None when all are free."""
    for port, owner in wanted.items():
        if port_in_use(port):
            return (
                f"port {port} (for {owner}) is already in use by {holder(port)};"
                " stop that program, then run `make run` again"
            )
    return None
