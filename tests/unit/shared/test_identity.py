import uuid

import httpx
import pytest
from fastapi import FastAPI

from shared.identity import HEADER, Identity, IdentityDep, Unauthenticated, sign, verify
from shared.settings import ServiceSettings

KEY = "k" * 40
ADMIN = Identity(caller="gateway", tenant_id=uuid.uuid4(), user_id="u-1", role="admin")


def test_a_signed_identity_verifies_to_the_same_claims() -> None:
    token = sign(ADMIN, KEY, now=1000)

    identity = verify(token, KEY, now=1010)

    assert identity.model_copy(update={"expires_at": 0}) == ADMIN
    assert identity.actor == "u-1"


def test_a_token_signed_with_another_key_is_refused() -> None:
    token = sign(ADMIN, "x" * 40, now=1000)

    with pytest.raises(Unauthenticated, match="signature"):
        verify(token, KEY, now=1000)


def test_changed_claims_break_the_signature() -> None:
    version, claims, signature = sign(ADMIN, KEY, now=1000).split(".")
    forged = sign(ADMIN.model_copy(update={"role": "viewer"}), KEY, now=1000).split(".")[1]

    with pytest.raises(Unauthenticated, match="signature"):
        verify(f"{version}.{forged}.{signature}", KEY, now=1000)
    assert claims != forged


def test_during_a_rotation_a_token_signed_with_the_previous_key_is_accepted() -> None:
    old_key = "o" * 40
    token = sign(ADMIN, old_key, now=1000)

    assert verify(token, KEY, previous_key=old_key, now=1000).user_id == "u-1"
    with pytest.raises(Unauthenticated, match="signature"):
        verify(token, KEY, now=1000)


def test_an_expired_token_is_refused() -> None:
    token = sign(ADMIN, KEY, now=1000)

    with pytest.raises(Unauthenticated, match="expired"):
        verify(token, KEY, now=1000 + 60 + 31)


@pytest.mark.parametrize("token", ["", "v1", "v2.a.b", "v1..", "garbage.with.dots"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(Unauthenticated):
        verify(token, KEY)


class _Runtime:
    settings = ServiceSettings(internal_signing_key=KEY)


def _app() -> FastAPI:
    from shared.errors import install_error_handlers

    app = FastAPI()
    app.state.runtime = _Runtime()
    install_error_handlers(app)

    @app.get("/internal/whoami")
    async def whoami(identity: IdentityDep) -> dict[str, str]:
        return {"actor": identity.actor}

    return app


async def test_a_route_refuses_a_call_without_identity_with_401() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        missing = await client.get("/internal/whoami")
        signed = await client.get("/internal/whoami", headers={HEADER: sign(ADMIN, KEY)})

    assert missing.status_code == 401
    assert missing.json()["error"] == "unauthenticated"
    assert signed.json() == {"actor": "u-1"}


async def test_a_service_accepts_the_previous_key_it_is_configured_with() -> None:
    app = _app()
    old_key = "o" * 40
    app.state.runtime.settings = ServiceSettings(
        internal_signing_key=KEY, internal_signing_key_previous=old_key
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/internal/whoami", headers={HEADER: sign(ADMIN, old_key)})

    assert response.json() == {"actor": "u-1"}
