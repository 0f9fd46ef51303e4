"""The auth service's composition root."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.auth.api import router
from services.auth.aws import Aws
from services.auth.consumers import GROUP, handlers
from services.auth.crypto import SecretBox
from services.auth.deps import AuthDeps
from services.auth.errors import TooManyAttempts
from services.auth.settings import AuthSettings
from services.auth.sso_api import router as sso_router
from services.auth.tenants import TenantsClient
from shared.errors import error_body
from shared.events import AUTH_TOPIC, TENANTS_TOPIC, USERCACHE_TOPIC
from shared.service import Consumes, ServiceSpec, create_app

MIGRATIONS = Path(__file__).parent / "migrations"


def build_app(
    settings: AuthSettings, *, tenants_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """The auth app; tests pass `tenants_transport` to reach an in-process tenants app."""
    deps = AuthDeps(
        settings=settings,
        tenants=TenantsClient(
            str(settings.tenants_url),
            settings.internal_signing_key.get_secret_value(),
            transport=tenants_transport,
        ),
        aws=Aws(
            timeout=settings.aws_timeout_seconds,
            max_attempts=settings.portal_max_attempts,
            backoff=settings.portal_backoff_seconds,
        ),
        box=SecretBox(settings.token_encryption_key.get_secret_value()),
    )
    app = create_app(
        ServiceSpec(
            name="auth",
            settings=settings,
            routers=[router, sso_router],
            migrations=MIGRATIONS,
            publishes=[AUTH_TOPIC],
            consumes=Consumes(
                group=GROUP, topics=[TENANTS_TOPIC, USERCACHE_TOPIC], handlers=handlers(deps)
            ),
        )
    )
    app.state.auth = deps
    _quiet_aws_libraries()
    app.add_exception_handler(TooManyAttempts, _too_many_attempts)
    _close_on_shutdown(app, deps)
    return app


def _quiet_aws_libraries() -> None:
    # At DEBUG, botocore and urllib3 log whole request and response bodies: device
    # codes, client secrets and SSO tokens. They never log below INFO here.
    for name in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(name).setLevel(logging.INFO)


async def _too_many_attempts(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TooManyAttempts)
    body = {**error_body(exc.error, exc.detail), "retry_after": exc.retry_after}
    headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


def _close_on_shutdown(app: FastAPI, deps: AuthDeps) -> None:
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with inner(app):
            yield
        await deps.tenants.close()

    app.router.lifespan_context = lifespan
