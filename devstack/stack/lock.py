"""One `make run` per checkout: an fcntl lock the kernel releases when the holder dies."""

import fcntl
import os
from pathlib import Path
from typing import IO


class AlreadyRunning(Exception):
    def __init__(self, pid: str) -> None:
        super().__init__(
            f"cloudivize is already running (pid {pid}); stop it with Ctrl-C in its terminal"
        )


def acquire(path: Path) -> IO:
    """Hold the lock for as long as the returned file stays open."""
    handle = open(path, "a+")  # noqa: SIM115 - the open file is the lock
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid = handle.read().strip() or "unknown"
        handle.close()
        raise AlreadyRunning(pid) from None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
