"""Child processes whose output lines reach the terminal prefixed with the child's name."""

import subprocess
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from devstack.infra import procs

Printer = Callable[[str, str], None]


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    ready_url: str | None = None
    url: str | None = None
    port: int | None = None


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=30))

    def tail(self) -> list[str]:
        return list(self.recent)

    def exited(self) -> bool:
        return self.process.poll() is not None


def start(spec: ChildSpec, base_env: dict[str, str], printer: Printer) -> Child:
    process = procs.spawn(spec.argv, output=subprocess.PIPE, env={**base_env, **spec.env})
    return attach(spec.name, process, printer)


def attach(name: str, process: subprocess.Popen, printer: Printer) -> Child:
    """Relay a process's output in a thread; the last lines are kept for failure reports."""
    child = Child(name, process)
    threading.Thread(target=_relay, args=(child, printer), daemon=True).start()
    return child


def _relay(child: Child, printer: Printer) -> None:
    assert child.process.stdout is not None
    for raw in child.process.stdout:
        line = raw.decode(errors="replace").rstrip()
        child.recent.append(line)
        printer(child.name, line)
