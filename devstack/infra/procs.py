"""Child processes that never outlive their owner: own process group, death signal, atexit guard."""

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from devstack.infra.errors import InfraUnavailable

_live: dict[int, subprocess.Popen] = {}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports(count: int) -> list[int]:
    """Distinct free ports: the sockets stay bound until all are picked."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def _dying_with_parent(argv: Sequence[str]) -> list[str]:
    # The kernel kills the child when the thread that spawned it dies, even on SIGKILL of the
    # owner, where no finalizer or atexit hook runs. setpriv sets that after fork, in place
    # of a preexec_fn, which is unsafe once the owner runs threads.
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--", *argv] if setpriv else list(argv)


def spawn(
    argv: Sequence[str],
    *,
    output: IO | int | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> subprocess.Popen:
    """Start argv in its own process group, tracked for the atexit guard.

    Call it from a thread that lives as long as the child: the child dies with that thread.
    """
    proc = subprocess.Popen(
        _dying_with_parent(argv),
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
        env=env,
        cwd=cwd,
        user=user,
        start_new_session=True,
    )
    _live[proc.pid] = proc
    return proc


def stop(proc: subprocess.Popen, *, sig: int = signal.SIGTERM, grace: float = 10.0) -> None:
    """Ask the whole process group to stop, then kill what is left after `grace` seconds."""
    signal_group(proc, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    signal_group(proc, signal.SIGKILL)
    proc.wait()
    _live.pop(proc.pid, None)


def signal_group(proc: subprocess.Popen, sig: int) -> None:
    # The group outlives its leader when the leader's own children linger (postgres backends).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def wait_until(
    check: Callable[[], bool],
    *,
    timeout: float,
    proc: subprocess.Popen | None = None,
    what: str,
    log: Path | None = None,
) -> None:
    """Poll `check` until true; fail early if `proc` exits, and quote the log's tail."""
    deadline = time.monotonic() + timeout
    while not check():
        if proc is not None and proc.poll() is not None:
            raise InfraUnavailable(_with_tail(f"{what} exited with code {proc.returncode}", log))
        if time.monotonic() > deadline:
            raise InfraUnavailable(_with_tail(f"{what} not ready after {timeout:.0f}s", log))
        time.sleep(0.2)


def tail(path: Path | None, lines: int = 20) -> str:
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _with_tail(message: str, log: Path | None) -> str:
    last = tail(log)
    return f"{message}; last lines of {log}:\n{last}" if last else message


@atexit.register
def _kill_leftovers() -> None:
    for proc in list(_live.values()):
        signal_group(proc, signal.SIGKILL)
        with contextlib.suppress(Exception):
            proc.wait(timeout=5)
