"""Bad input gets a 4xx naming the problem; conflicting changes at once end consistent."""

import asyncio
import uuid

import pytest

from services.tenants.templates import trust_policy
from tests.integration.tenants.conftest import acting


async def test_an_unknown_tenant_is_404_on_every_route(tenants) -> None:  # type: ignore[no-untyped-def]
    base = f"/internal/tenants/{uuid.uuid4()}"
    calls = [
        ("GET", base, None),
        ("GET", f"{base}/aws-link", None),
        ("GET", f"{base}/aws-accounts", None),
        ("GET", f"{base}/views", None),
        ("GET", f"{base}/audit", None),
        ("POST", f"{base}/deactivate", None),
        ("POST", f"{base}/reactivate", None),
        ("DELETE", f"{base}/sso", None),
        ("DELETE", f"{base}/signup", None),
        ("POST", f"{base}/aws-link/external-id", None),
        ("DELETE", f"{base}/aws-accounts/123456789012", None),
        ("POST", f"{base}/aws-accounts/123456789012/validate", None),
        ("PUT", f"{base}/sso", {"start_url": "https://x.awsapps.com/start", "region": "eu-west-1"}),
        (
            "POST",
            f"{base}/aws-accounts",
            {
                "aws_account_id": "123456789012",
                "role_arn": "arn:aws:iam::123456789012:role/R",
            },
        ),
    ]

    for method, path, body in calls:
        response = await tenants.client.request(method, path, json=body)
        assert (method, path, response.status_code) == (method, path, 404)
        assert response.json()["error"] == "not_found"
    missing_slug = await tenants.client.get("/internal/tenants/by-slug/nobody-here")
    assert missing_slug.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"aws_account_id": "12345", "role_arn": "arn:aws:iam::123456789012:role/R"},
            "aws_account_id",
        ),
        (
            {"aws_account_id": "123456789012", "role_arn": "arn:aws:iam::123456789012:user/R"},
            "role_arn",
        ),
        ({"aws_account_id": "123456789012", "role_arn": "role/R"}, "role_arn"),
    ],
)
async def test_a_malformed_account_id_or_arn_is_422_naming_the_field(tenants, body, field) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()

    response = await tenants.client.post(
        f"/internal/tenants/{tenant['id']}/aws-accounts", json=body
    )

    assert response.status_code == 422
    assert [problem["field"] for problem in response.json()["fields"]] == [field]


@pytest.mark.parametrize(
    ("start_url", "region"),
    [
        ("http://acme.awsapps.com/start", "eu-west-1"),
        ("https://acme.awsapps.com.evil.example/start", "eu-west-1"),
        ("https://acme.awsapps.com@evil.example/start", "eu-west-1"),
        ("https://evil.example/?x=acme.awsapps.com/start", "eu-west-1"),
        ("https://acme.awsapps.com:8443/start", "eu-west-1"),
        ("javascript:alert(1)//acme.awsapps.com/start", "eu-west-1"),
        ("https://acme.awsapps.com/start?next=https://evil.example", "eu-west-1"),
        ("https://ssoins-0123456789abcdef.portal.us-east-1.app.aws", "eu-west-1"),
    ],
)
async def test_a_start_url_of_another_shape_is_422_naming_start_url(
    tenants, start_url, region
) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()

    response = await tenants.client.put(
        f"/internal/tenants/{tenant['id']}/sso", json={"start_url": start_url, "region": region}
    )

    assert response.status_code == 422, response.text
    assert [problem["field"] for problem in response.json()["fields"]] == ["start_url"]


async def test_an_unknown_region_is_422_naming_region(tenants) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()

    response = await tenants.client.put(
        f"/internal/tenants/{tenant['id']}/sso",
        json={"start_url": "https://acme.awsapps.com/start", "region": "mars-north-1"},
    )

    assert response.status_code == 422
    assert [problem["field"] for problem in response.json()["fields"]] == ["region"]


async def test_the_emulators_start_url_passes_the_same_validation_as_a_real_one(
    tenants, aws_info
) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()

    response = await tenants.client.put(
        f"/internal/tenants/{tenant['id']}/sso",
        json={"start_url": aws_info["start_url"], "region": aws_info["region"]},
    )

    assert response.status_code == 200, response.text


@pytest.fixture(params=["postgresql", "sqlite"])
async def either_backend(request, start_tenants, tmp_path):  # type: ignore[no-untyped-def]
    """The service on PostgreSQL, and on the embedded SQLite that `make run` uses."""
    database_url = f"sqlite:///{tmp_path / 'tenants.db'}" if request.param == "sqlite" else None
    async with start_tenants(database_url=database_url) as instance:
        yield instance


async def test_two_disconnects_at_once_publish_one_event(either_backend) -> None:  # type: ignore[no-untyped-def]
    tenants = either_backend
    tenant = await tenants.sign_up()
    path = f"/internal/tenants/{tenant['id']}/sso"
    sso = {"start_url": "https://acme.awsapps.com/start", "region": "eu-west-1"}
    await tenants.client.put(path, json=sso)

    answers = await asyncio.gather(*(tenants.client.delete(path) for _ in range(2)))
    await tenants.client.post(f"/internal/tenants/{tenant['id']}/deactivate")

    assert [answer.status_code for answer in answers] == [200, 200]
    assert {answer.json()["mode"] for answer in answers} == {"iam_role"}
    events = await tenants.events(tenant["id"], until_type="tenant.deactivated")
    assert [e.type for e in events].count("tenant.sso_disconnected") == 1


async def test_a_link_racing_a_deactivation_ends_consistent(tenants, customer) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()
    base = f"/internal/tenants/{tenant['id']}"
    setup = (await tenants.client.get(f"{base}/aws-link")).json()
    trust = trust_policy(setup["principal_arn"], setup["external_id"])
    role_arn = await asyncio.to_thread(customer.create_role, trust, index=2)
    body = {"aws_account_id": customer.account(2), "role_arn": role_arn}

    link, deactivation = await asyncio.gather(
        tenants.client.post(f"{base}/aws-accounts", json=body),
        tenants.client.post(f"{base}/deactivate"),
    )

    assert deactivation.status_code == 200
    linked = (await tenants.client.get(f"{base}/aws-accounts")).json()
    if link.status_code == 201:
        assert [a["aws_account_id"] for a in linked] == [customer.account(2)]
        expected = {"tenant.aws_account_linked", "tenant.deactivated"}
    else:
        assert (link.status_code, link.json()["error"]) == (409, "tenant_deactivated")
        assert linked == []
        expected = {"tenant.deactivated"}
    events = await tenants.events(tenant["id"], until_type="tenant.deactivated")
    assert {e.type for e in events[1:]} == expected
    assert (await tenants.client.get(base)).json()["status"] == "deactivated"


async def test_a_deactivated_tenant_refuses_links_with_409_and_the_reason(tenants) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()
    base = f"/internal/tenants/{tenant['id']}"
    await tenants.client.post(f"{base}/deactivate")
    body = {"aws_account_id": "123456789012", "role_arn": "arn:aws:iam::123456789012:role/R"}

    answers = [
        await tenants.client.post(f"{base}/aws-accounts", json=body),
        await tenants.client.post(f"{base}/aws-link/external-id"),
        await tenants.client.delete(f"{base}/sso", auth=acting(tenant["id"])),
    ]

    for answer in answers:
        assert answer.status_code == 409
        assert answer.json()["error"] == "tenant_deactivated"


async def test_an_unsigned_call_is_refused_with_401(tenants) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()

    response = await tenants.client.get(f"/internal/tenants/{tenant['id']}", auth=None)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"
