"""Start a service process: load settings, check its dependencies once, serve.

Problems an operator must fix (a malformed setting, an unreachable database or broker)
end the process with one line naming the setting, not a traceback.
"""

import asyncio
import logging
import sys
import time
from collections.abc import Callable

import uvicorn
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from shared import db
from shared.settings import S, env_name, load_settings


class StartupError(Exception):
    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")


async def check_database(url: str, setting: str) -> None:
    engine = db.create_engine(url)
    try:
        await asyncio.wait_for(db.ping(engine), 10)
    except Exception as error:
        target = make_url(url).render_as_string(hide_password=True)
        raise StartupError(setting, f"cannot connect to {target} ({_reason(error)})") from None
    finally:
        await engine.dispose()


async def check_kafka(bootstrap_servers: str, wait_seconds: float) -> None:
    """Wait up to `wait_seconds` for the broker; it may still be starting."""
    deadline = time.monotonic() + wait_seconds
    while True:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap_servers.split(","), request_timeout_ms=5000
        )
        try:
            await admin.start()
            await admin.describe_cluster()
            return
        except Exception as error:
            if time.monotonic() >= deadline:
                raise StartupError(
                    "KAFKA_BOOTSTRAP_SERVERS",
                    f"no broker reachable at {bootstrap_servers} after {wait_seconds:.0f}s "
                    f"({_reason(error)})",
                ) from None
            await asyncio.sleep(1)
        finally:
            await admin.close()


def _reason(error: Exception) -> str:
    name = type(error).__name__
    text = str(error).splitlines()[0].removeprefix(f"{name}: ") if str(error) else ""
    return f"{name}: {text}"[:200] if text else name


def serve(
    settings_cls: type[S], create_app: Callable[[S], FastAPI], *, uses_database: bool
) -> None:
    """The `python -m services.<name>` entry point."""
    settings = load_settings(settings_cls)

    async def preflight() -> None:
        if uses_database:
            await check_database(settings.database_url, env_name(settings_cls, "database_url"))
        await check_kafka(settings.kafka_bootstrap_servers, settings.kafka_startup_timeout)

    # Until logging is set up, aiokafka would print each failed attempt on its own line.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        asyncio.run(preflight())
    except StartupError as error:
        print(f"startup error: {error}", file=sys.stderr)
        raise SystemExit(2) from None

    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)
