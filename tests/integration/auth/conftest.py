"""Auth and tenants in-process, against real PostgreSQL and Kafka and the AWS emulator."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from devstack.aws.server import EmulatorServer
from services.auth.app import build_app as build_auth
from services.auth.settings import AuthSettings
from services.tenants.app import build_app as build_tenants
from services.tenants.settings import TenantsSettings
from tests.integration.auth.support import Stack
from tests.support.stack import serving

AWS_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_REGION",
)


@pytest.fixture
def aws_env(
    monkeypatch: pytest.MonkeyPatch, aws_emulator: EmulatorServer, aws_info: dict[str, Any]
) -> None:
    """What a deployment sets: the emulator's endpoint and Cloudivize's own keys."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    keys = aws_info["cloudivize_credentials"]
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_emulator.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", aws_info["region"])


@pytest.fixture
def start_stack(new_database, service_env, aws_env, aws_emulator, aws_info, tenants_aws_settings):  # type: ignore[no-untyped-def]
    """Starts tenants and auth; auth reaches tenants over ASGI, AWS through the emulator."""

    @asynccontextmanager
    async def start(
        *, auth_env: dict[str, Any] | None = None, **auth_overrides: Any
    ) -> AsyncIterator[Stack]:
        tenants_app = build_tenants(
            TenantsSettings(
                database_url=await new_database(), **service_env, **tenants_aws_settings
            )
        )
        auth_settings = AuthSettings(
            database_url=await new_database(),
            **{**service_env, **(auth_env or {})},
            **auth_overrides,
        )
        auth_app = build_auth(auth_settings, tenants_transport=httpx.ASGITransport(tenants_app))
        async with serving(tenants_app) as tenants, serving(auth_app) as auth:
            yield Stack(
                auth=auth,
                tenants=tenants,
                auth_app=auth_app,
                settings=auth_settings,
                emulator=aws_emulator,
                info=aws_info,
            )

    return start


@pytest.fixture
async def stack(start_stack) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    async with start_stack() as running:
        yield running
