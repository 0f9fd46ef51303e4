from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.usercache.app import build_app
from services.usercache.settings import UsercacheSettings
from shared.identity import Identity
from tests.integration.usercache.support import Topics
from tests.support.stack import serving


@dataclass
class Usercache:
    app: FastAPI
    client: httpx.AsyncClient
    settings: UsercacheSettings

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.app.state.runtime.sessions

    @property
    def group(self) -> str:
        return self.settings.kafka_topic_prefix + self.settings.consumer_group


@pytest.fixture
def topics(service_env: dict[str, Any]) -> Topics:
    return Topics(service_env)


@pytest.fixture
async def start_usercache(new_database, service_env):  # type: ignore[no-untyped-def]
    """Runs user cache instances in-process; each gets a fresh database unless given one."""

    @asynccontextmanager
    async def start(
        *, database_url: str | None = None, identity: Identity | None = None, **overrides: Any
    ) -> AsyncIterator[Usercache]:
        settings = UsercacheSettings(
            database_url=database_url or await new_database(), **{**service_env, **overrides}
        )
        app = build_app(settings)
        async with serving(app, identity) as client:
            yield Usercache(app=app, client=client, settings=settings)

    return start


@pytest.fixture
async def usercache(start_usercache) -> AsyncIterator[Usercache]:  # type: ignore[no-untyped-def]
    async with start_usercache() as instance:
        yield instance
