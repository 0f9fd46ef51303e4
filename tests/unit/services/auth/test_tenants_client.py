"""The tenants client against a fake tenants API served by httpx's MockTransport."""

import uuid

import httpx
import pytest

from services.auth.errors import DependencyUnavailable, UnknownTenant
from services.auth.tenants import TenantsClient
from shared.identity import HEADER, verify

KEY = "k" * 40
TENANT_ID = uuid.uuid4()


def _tenants_api(request: httpx.Request) -> httpx.Response:
    verify(request.headers[HEADER], KEY)  # every call is signed
    path = request.url.path
    if path == "/internal/tenants/by-slug/acme":
        body = {"id": str(TENANT_ID), "slug": "acme", "status": "active", "mode": "sso"}
        return httpx.Response(200, json={**body, "sso": {"start_url": "u", "region": "eu-west-1"}})
    if path == f"/internal/tenants/{TENANT_ID}/aws-accounts":
        return httpx.Response(
            200,
            json=[
                {
                    "aws_account_id": "111111111111",
                    "role_arn": "arn:aws:iam::1:role/A",
                    "valid": True,
                },
                {
                    "aws_account_id": "222222222222",
                    "role_arn": "arn:aws:iam::2:role/B",
                    "valid": False,
                },
            ],
        )
    if path == "/internal/tenants/by-slug/broken":
        return httpx.Response(500)
    return httpx.Response(404, json={"error": "not_found"})


@pytest.fixture
async def client():  # type: ignore[no-untyped-def]
    tenants = TenantsClient("http://tenants", KEY, transport=httpx.MockTransport(_tenants_api))
    yield tenants
    await tenants.close()


async def test_a_tenant_is_read_with_its_sso_settings(client: TenantsClient) -> None:
    tenant = await client.by_slug("acme")

    assert tenant.sso_ready
    assert tenant.active
    assert tenant.sso is not None
    assert tenant.sso.region == "eu-west-1"


async def test_only_links_that_passed_their_check_give_access(client: TenantsClient) -> None:
    linked = await client.linked_accounts(TENANT_ID)

    assert [account.account_id for account in linked] == ["111111111111"]


async def test_an_unknown_slug_and_a_failing_service_are_told_apart(client: TenantsClient) -> None:
    with pytest.raises(UnknownTenant):
        await client.by_slug("nobody")
    with pytest.raises(DependencyUnavailable):
        await client.by_slug("broken")
