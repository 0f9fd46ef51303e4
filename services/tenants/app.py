"""The tenants service's composition root."""

from pathlib import Path

from fastapi import FastAPI

from services.tenants.api import router
from services.tenants.settings import TenantsSettings
from shared.events import TENANTS_TOPIC
from shared.service import ServiceSpec, create_app

MIGRATIONS = Path(__file__).parent / "migrations"


def build_app(settings: TenantsSettings) -> FastAPI:
    return create_app(
        ServiceSpec(
            name="tenants",
            settings=settings,
            routers=[router],
            migrations=MIGRATIONS,
            publishes=[TENANTS_TOPIC],
        )
    )
