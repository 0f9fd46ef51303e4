"""The tenants service's composition root."""

from pathlib import Path

from fastapi import FastAPI

from services.tenants.api import router
from services.tenants.aws import RoleValidator
from services.tenants.settings import TenantsSettings
from shared.events import TENANTS_TOPIC
from shared.service import ServiceSpec, create_app

MIGRATIONS = Path(__file__).parent / "migrations"


def build_app(settings: TenantsSettings) -> FastAPI:
    app = create_app(
        ServiceSpec(
            name="tenants",
            settings=settings,
            routers=[router],
            migrations=MIGRATIONS,
            publishes=[TENANTS_TOPIC],
        )
    )
    secret = settings.aws_secret_access_key
    app.state.role_validator = RoleValidator(
        region=settings.aws_region,
        endpoint_url=settings.aws_endpoint_url,
        access_key_id=settings.aws_access_key_id,
        secret_access_key=secret.get_secret_value() if secret else None,
    )
    return app
