"""The gateway's composition root: the only door for browsers."""

from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI

from services.gateway.settings import GatewaySettings
from shared.service import ServiceSpec, create_app


def upstream_probe(base_url: str) -> Callable[[], Awaitable[None]]:
    """Readiness of one service behind the gateway: its `/healthz` answers 200."""

    async def probe() -> None:
        async with httpx.AsyncClient(timeout=2.0) as client:
            response = await client.get(f"{base_url}/healthz")
            response.raise_for_status()

    return probe


def build_app(settings: GatewaySettings) -> FastAPI:
    checks = {name: upstream_probe(url) for name, url in settings.upstreams().items()}
    return create_app(ServiceSpec(name="gateway", settings=settings, readiness_checks=checks))
