"""The tenants service, asked for the current truth whenever a decision depends on it."""

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from services.auth.errors import DependencyUnavailable, UnknownTenant
from shared.identity import Identity, headers_for
from shared.logging import get_logger

log = get_logger(__name__)

DEFAULT_SSO_ROLE = "author"


class SsoConfig(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    start_url: str
    region: str
    identity_store_id: str | None = None
    management_role_arn: str | None = None
    default_role: str | None = None


class Tenant(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: uuid.UUID
    slug: str
    status: str
    mode: str
    sso: SsoConfig | None = None
    default_role: str | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def sso_ready(self) -> bool:
        return self.mode == "sso" and self.sso is not None

    @property
    def sso_default_role(self) -> str:
        role = self.default_role or (self.sso.default_role if self.sso else None)
        return role if role in ("viewer", "author") else DEFAULT_SSO_ROLE


@dataclass(frozen=True)
class LinkedAccount:
    account_id: str
    role_arn: str
    name: str


class TenantsClient:
    """Signed calls to the tenants service's internal API."""

    def __init__(
        self,
        base_url: str,
        signing_key: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 5.0,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), transport=transport, timeout=timeout
        )
        self._key = signing_key

    async def close(self) -> None:
        await self._client.aclose()

    async def by_slug(self, slug: str) -> Tenant:
        return Tenant.model_validate(await self._get(f"/internal/tenants/by-slug/{slug}"))

    async def get(self, tenant_id: uuid.UUID) -> Tenant:
        return Tenant.model_validate(await self._get(f"/internal/tenants/{tenant_id}"))

    async def external_id(self, tenant_id: uuid.UUID) -> str | None:
        link = await self._get(f"/internal/tenants/{tenant_id}/aws-link", missing_ok=True)
        return link.get("external_id") if isinstance(link, dict) else None

    async def linked_accounts(self, tenant_id: uuid.UUID) -> list[LinkedAccount]:
        body = await self._get(f"/internal/tenants/{tenant_id}/aws-accounts", missing_ok=True)
        # A link whose role failed its last check gives no access until it passes again.
        return [_linked_account(item) for item in _items(body) if item.get("valid") is not False]

    async def _get(self, path: str, *, missing_ok: bool = False) -> Any:
        headers = headers_for(Identity(caller="auth"), self._key)
        try:
            response = await self._client.get(path, headers=headers)
        except httpx.HTTPError as error:
            log.warning("tenants.unreachable", path=path, error=type(error).__name__)
            raise DependencyUnavailable("the tenants service cannot be reached; retry") from None
        if response.status_code in (404, 405) and missing_ok:
            return None
        if response.status_code == 404:
            log.info("tenants.unknown", path=path)
            raise UnknownTenant("no tenant has this address")
        if response.status_code != 200:
            log.warning("tenants.failed", path=path, status=response.status_code)
            raise DependencyUnavailable("the tenants service did not answer; retry")
        return response.json()


def _items(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict):
        body = body.get("items") or body.get("accounts") or []
    return [item for item in body or [] if isinstance(item, dict)]


def _linked_account(item: dict[str, Any]) -> LinkedAccount:
    account_id = str(item.get("aws_account_id") or item.get("account_id"))
    name = item.get("name") or item.get("account_name") or account_id
    return LinkedAccount(account_id=account_id, role_arn=str(item.get("role_arn")), name=name)
