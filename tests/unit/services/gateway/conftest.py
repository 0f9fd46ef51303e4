"""The gateway alone, over ASGI, in front of the in-memory fakes of the other services."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.gateway.app import build_app
from services.gateway.settings import GatewaySettings
from tests.unit.services.gateway.fakes import FakeUser, World, fake_aws_read, transports

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def gateway_app(world: World, **settings: Any) -> FastAPI:
    app = build_app(GatewaySettings(**settings), transports=transports(world))
    app.state.gateway.read_aws = fake_aws_read
    return app


def browser(app: FastAPI) -> httpx.AsyncClient:
    """A client that behaves like a page's script: it echoes the CSRF cookie in a header."""
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")

    async def add_csrf(request: httpx.Request) -> None:
        token = client.cookies.get("cloudivize_csrf")
        if request.method in UNSAFE and token and "x-csrf-token" not in request.headers:
            request.headers["X-CSRF-Token"] = token

    client.event_hooks["request"].append(add_csrf)
    return client


async def signed_in(app: FastAPI, user: FakeUser | None) -> httpx.AsyncClient:
    client = browser(app)
    await client.get("/login")
    if user is not None:
        response = await client.post(
            "/api/login", json={"email": user.email, "password": user.password}
        )
        assert response.status_code == 200, response.text
    return client


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
async def make_client(world: World) -> AsyncIterator[Callable[..., Any]]:
    clients: list[httpx.AsyncClient] = []
    app = gateway_app(world, rate_limit_login=1000, rate_limit_signup=1000)

    async def make(user: FakeUser | None = None) -> httpx.AsyncClient:
        client = await signed_in(app, user)
        clients.append(client)
        return client

    make.app = app  # type: ignore[attr-defined]
    yield make
    for client in clients:
        await client.aclose()
