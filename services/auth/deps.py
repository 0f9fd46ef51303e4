"""What the use cases need besides a database session, built once per app."""

from dataclasses import dataclass

from services.auth.aws import Aws
from services.auth.crypto import SecretBox
from services.auth.settings import AuthSettings
from services.auth.tenants import TenantsClient


@dataclass(frozen=True)
class AuthDeps:
    settings: AuthSettings
    tenants: TenantsClient
    aws: Aws
    box: SecretBox
