"""A throwaway PostgreSQL cluster from the distribution's own binaries, in a temp dir."""

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from devstack.infra import procs
from devstack.infra.errors import InfraUnavailable

_START_TIMEOUT = 60.0
_TOOLS = ("initdb", "postgres", "pg_isready")


@dataclass(frozen=True)
class PostgresServer:
    base_dir: Path
    port: int
    process: subprocess.Popen

    @property
    def admin_url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"


def find_bin_dir(
    patterns: tuple[str, ...] = ("/usr/lib/postgresql/*/bin",), which=shutil.which
) -> Path | None:
    """The newest installed server binaries: Debian's versioned dirs first, then PATH."""
    candidates = sorted(
        (Path(found) for pattern in patterns for found in glob.glob(pattern)),
        key=lambda path: _version_key(path.parent.name),
        reverse=True,
    )
    for candidate in candidates:
        if all((candidate / tool).exists() for tool in _TOOLS):
            return candidate
    initdb = which("initdb")
    return Path(initdb).parent if initdb else None


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _server_user() -> str | None:
    """PostgreSQL refuses to run as root, so root runs it as the `postgres` account."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres").pw_name
    except KeyError as exc:
        raise InfraUnavailable(
            "PostgreSQL cannot run as root and there is no `postgres` user to run it as"
        ) from exc


def start_server(bin_dir: Path, base_dir: Path, port: int) -> PostgresServer:
    """initdb into base_dir, then run postgres on 127.0.0.1:port with trust auth."""
    user = _server_user()
    data_dir, socket_dir = base_dir / "data", base_dir / "socket"
    socket_dir.mkdir()
    if user is not None:
        for path in (base_dir, socket_dir):
            shutil.chown(path, user)

    _initdb(bin_dir, data_dir, user, base_dir / "initdb.log")
    log_path = base_dir / "postgres.log"
    argv = [
        str(bin_dir / "postgres"),
        *("-D", str(data_dir), "-p", str(port), "-h", "127.0.0.1", "-k", str(socket_dir)),
        # Durability is pointless for a database deleted after the run; speed is not.
        *("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"),
        *("-c", "max_connections=300"),
    ]
    with open(log_path, "ab") as sink:
        process = procs.spawn(argv, output=sink, user=user)
    server = PostgresServer(base_dir, port, process)
    try:
        procs.wait_until(
            lambda: _accepting(bin_dir, port),
            timeout=_START_TIMEOUT,
            proc=process,
            what=f"PostgreSQL on port {port}",
            log=log_path,
        )
    except BaseException:
        stop_server(server)
        raise
    return server


def _initdb(bin_dir: Path, data_dir: Path, user: str | None, log_path: Path) -> None:
    argv = [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", "-A", "trust"]
    argv += ["-E", "UTF8", "--locale=C", "--no-sync"]
    with open(log_path, "wb") as sink:
        result = subprocess.run(argv, stdout=sink, stderr=subprocess.STDOUT, user=user, check=False)
    if result.returncode != 0:
        raise InfraUnavailable(f"initdb failed: {procs.tail(log_path)}")


def _accepting(bin_dir: Path, port: int) -> bool:
    argv = [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]
    return subprocess.run(argv, check=False).returncode == 0


def stop_server(server: PostgresServer) -> None:
    # SIGINT is PostgreSQL's fast shutdown: it disconnects clients instead of waiting for them.
    procs.stop(server.process, sig=signal.SIGINT, grace=15.0)


@contextlib.contextmanager
def running_server(bin_dir: Path | None = None) -> Iterator[PostgresServer]:
    """A server for the life of the block, in a temp dir deleted afterwards."""
    bin_dir = bin_dir or find_bin_dir()
    if bin_dir is None:
        raise InfraUnavailable("no PostgreSQL server binaries (initdb) found")
    base_dir = Path(tempfile.mkdtemp(prefix="cloudivize-pg-"))
    try:
        server = start_server(bin_dir, base_dir, procs.free_port())
        try:
            yield server
        finally:
            stop_server(server)
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)


def asyncpg_dsn(url: str) -> str:
    """The libpq form of a SQLAlchemy URL: asyncpg does not know the `+driver` suffix."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"


def with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + name
    return f"{base}?{query}" if query else base


async def create_database(admin_url: str, name: str | None = None) -> str:
    """Create a new, empty database and return its SQLAlchemy asyncpg URL."""
    import asyncpg

    name = name or f"test_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(_as_sqlalchemy(admin_url), name)


async def drop_database(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        # FORCE ends sessions a test left open, so the drop cannot hang on them.
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _as_sqlalchemy(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"postgresql+asyncpg://{rest}" if scheme.startswith("postgres") else url
