"""When STS cannot be reached, nothing is decided about a role: 503, and links stay pending."""

import asyncio
import socket

import pytest

from services.tenants.templates import trust_policy
from tests.integration.tenants.conftest import acting


@pytest.fixture
def dead_endpoint() -> str:
    """An address on this machine where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_a_link_is_refused_with_503_and_not_saved_when_sts_is_unreachable(
    start_tenants, dead_endpoint
) -> None:  # type: ignore[no-untyped-def]
    async with start_tenants(aws_endpoint_url=dead_endpoint) as tenants:
        tenant = await tenants.sign_up()
        base = f"/internal/tenants/{tenant['id']}"
        body = {"aws_account_id": "123456789012", "role_arn": "arn:aws:iam::123456789012:role/R"}

        answer = await tenants.client.post(f"{base}/aws-accounts", json=body)

        assert answer.status_code == 503
        assert answer.json()["error"] == "aws_unavailable"
        assert (await tenants.client.get(f"{base}/aws-accounts")).json() == []


async def test_links_stay_pending_when_the_external_id_changes_while_sts_is_unreachable(
    start_tenants, new_database, customer, dead_endpoint
) -> None:  # type: ignore[no-untyped-def]
    database_url = await new_database()
    async with start_tenants(database_url=database_url) as tenants:
        tenant = await tenants.sign_up()
        base = f"/internal/tenants/{tenant['id']}"
        setup = (await tenants.client.get(f"{base}/aws-link")).json()
        trust = trust_policy(setup["principal_arn"], setup["external_id"])
        role_arn = await asyncio.to_thread(customer.create_role, trust)
        body = {"aws_account_id": customer.account(), "role_arn": role_arn}
        assert (await tenants.client.post(f"{base}/aws-accounts", json=body)).status_code == 201

    async with start_tenants(database_url=database_url, aws_endpoint_url=dead_endpoint) as cut_off:
        answer = await cut_off.client.post(
            f"{base}/aws-link/external-id", auth=acting(tenant["id"])
        )

    assert answer.status_code == 200, answer.text
    [account] = answer.json()["accounts"]
    assert (account["validation_result"], account["valid"]) == ("pending", False)
