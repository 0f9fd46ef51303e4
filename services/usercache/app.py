"""The user cache's composition root."""

from pathlib import Path

from fastapi import FastAPI

from services.usercache.api import router
from services.usercache.consumers import BATCH_HANDLERS, HANDLERS
from services.usercache.settings import UsercacheSettings
from shared.events import AUTH_TOPIC, TENANTS_TOPIC, USERCACHE_TOPIC
from shared.service import Consumes, ServiceSpec, create_app

MIGRATIONS = Path(__file__).parent / "migrations"


def build_app(settings: UsercacheSettings) -> FastAPI:
    return create_app(
        ServiceSpec(
            name="usercache",
            settings=settings,
            routers=[router],
            migrations=MIGRATIONS,
            publishes=[USERCACHE_TOPIC],
            consumes=Consumes(
                group=settings.consumer_group,
                # its own topic too: removals and limits are rebuilt from it on catch-up
                topics=[TENANTS_TOPIC, AUTH_TOPIC, USERCACHE_TOPIC],
                handlers=HANDLERS,
                batch=True,
                max_records=settings.consumer_batch_size,
                batch_handlers=BATCH_HANDLERS,
            ),
        )
    )
