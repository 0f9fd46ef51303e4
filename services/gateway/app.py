"""The gateway's composition root: the only door for browsers."""

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.gateway import api, pages
from services.gateway.consumers import Listener
from services.gateway.deps import Gateway
from services.gateway.errors import install_gateway_error_handlers
from services.gateway.overview import account_overview
from services.gateway.ratelimit import RateLimiter
from services.gateway.revocations import Revocations
from services.gateway.security import Guard
from services.gateway.sessions import SessionChecker
from services.gateway.settings import GatewaySettings
from services.gateway.upstream import Upstreams
from shared.service import ServiceSpec, create_app

STATIC = Path(__file__).parent / "static"


def upstream_probe(base_url: str) -> Callable[[], Awaitable[None]]:
    """Readiness of one service behind the gateway: its `/healthz` answers 200."""

    async def probe() -> None:
        async with httpx.AsyncClient(timeout=2.0) as client:
            response = await client.get(f"{base_url}/healthz")
            response.raise_for_status()

    return probe


def build_app(
    settings: GatewaySettings,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> FastAPI:
    """`transports` lets tests route upstream calls to in-process apps instead of ports."""
    gateway = _gateway(settings, transports)
    listener = Listener(gateway.revocations)
    checks = {name: upstream_probe(url) for name, url in settings.upstreams().items()}
    if transports is not None:
        checks = {}
    checks["events"] = listener.probe
    app = create_app(
        ServiceSpec(
            name="gateway", settings=settings, listens=listener.listens(), readiness_checks=checks
        )
    )
    app.state.gateway = gateway
    app.state.listener = listener
    _close_upstreams_on_shutdown(app, gateway.upstreams)
    install_gateway_error_handlers(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(Guard, max_body_bytes=settings.max_body_bytes)
    return app


def _gateway(
    settings: GatewaySettings, transports: Mapping[str, httpx.AsyncBaseTransport] | None
) -> Gateway:
    upstreams = Upstreams(
        settings.upstreams(),
        settings.internal_signing_key.get_secret_value(),
        timeout=settings.upstream_timeout,
        transports=transports,
    )
    revocations = Revocations()
    return Gateway(
        settings=settings,
        upstreams=upstreams,
        revocations=revocations,
        sessions=SessionChecker(
            upstreams, revocations, recheck_seconds=settings.session_recheck_seconds
        ),
        limiter=RateLimiter(settings.rate_limits(), settings.rate_window_seconds),
        read_aws=account_overview,
    )


def _close_upstreams_on_shutdown(app: FastAPI, upstreams: Upstreams) -> None:
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with inner(app):
            yield
        await upstreams.aclose()

    app.router.lifespan_context = lifespan
