"""The auth service's composition root."""

from pathlib import Path

from fastapi import FastAPI

from services.auth.settings import AuthSettings
from shared.events import AUTH_TOPIC
from shared.service import ServiceSpec, create_app

MIGRATIONS = Path(__file__).parent / "migrations"


def build_app(settings: AuthSettings) -> FastAPI:
    return create_app(
        ServiceSpec(
            name="auth",
            settings=settings,
            migrations=MIGRATIONS,
            publishes=[AUTH_TOPIC],
        )
    )
