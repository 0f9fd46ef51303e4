"""Linking AWS accounts: the role is checked against the AWS emulator before it is saved."""

import json
from typing import Any

import pytest

from services.tenants.templates import trust_policy
from tests.integration.tenants.conftest import acting


async def _setup(tenants, tenant_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await tenants.client.get(f"/internal/tenants/{tenant_id}/aws-link")
    assert response.status_code == 200, response.text
    return response.json()


def _template_trust(setup: dict[str, Any]) -> dict[str, Any]:
    """The trust policy the tenant's CloudFormation template would create."""
    template = json.loads(setup["template"])
    trust = template["Resources"]["CloudivizeRole"]["Properties"]["AssumeRolePolicyDocument"]
    external_id = template["Parameters"]["ExternalId"]["Default"]
    rendered = json.dumps(trust).replace('{"Ref": "ExternalId"}', json.dumps(external_id))
    return json.loads(rendered)


def _allow(principal: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


async def _link(tenants, tenant_id: str, account: str, role_arn: str):  # type: ignore[no-untyped-def]
    return await tenants.client.post(
        f"/internal/tenants/{tenant_id}/aws-accounts",
        json={"aws_account_id": account, "role_arn": role_arn},
        auth=acting(tenant_id),
    )


async def test_the_setup_names_the_principal_and_a_long_random_external_id(tenants) -> None:  # type: ignore[no-untyped-def]
    first = await tenants.sign_up("One")
    second = await tenants.sign_up("Two")

    setup = await _setup(tenants, first["id"])
    other = await _setup(tenants, second["id"])

    assert setup["principal_arn"] == tenants.settings.cloudivize_principal_arn
    assert len(setup["external_id"]) >= 22  # 128 bits in URL-safe base64
    assert setup["external_id"] != other["external_id"]
    assert setup["external_id"] in setup["quick_create_url"]
    assert _template_trust(setup) == trust_policy(setup["principal_arn"], setup["external_id"])


async def test_a_role_made_from_the_template_is_linked_and_announced(tenants, customer) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()
    setup = await _setup(tenants, tenant["id"])
    role_arn = customer.create_role(_template_trust(setup))

    linked = await _link(tenants, tenant["id"], customer.account(), role_arn)
    listed = await tenants.client.get(f"/internal/tenants/{tenant['id']}/aws-accounts")

    assert linked.status_code == 201, linked.text
    assert linked.json()["valid"] is True
    assert listed.json()[0]["aws_account_id"] == customer.account()
    assert listed.json()[0]["validation_result"] == "ok"
    assert listed.json()[0]["validated_at"] is not None
    events = await tenants.events(tenant["id"], until_type="tenant.aws_account_linked")
    assert events[-1].payload["role_arn"] == role_arn


@pytest.mark.parametrize(
    ("condition", "error"),
    [
        (None, "missing_external_id_condition"),
        ({"StringLike": {"sts:ExternalId": "*"}}, "missing_external_id_condition"),
        ({"StringEquals": {"sts:ExternalId": "someone-elses-id"}}, "role_not_assumable"),
    ],
    ids=["no-condition", "any-external-id", "wrong-external-id"],
)
async def test_a_role_without_the_right_condition_is_refused_with_the_reason(
    tenants, customer, aws_info, condition, error
) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()
    role_arn = customer.create_role(_allow(aws_info["cloudivize_principal_arn"], condition))

    refused = await _link(tenants, tenant["id"], customer.account(), role_arn)

    assert refused.status_code == 422
    assert refused.json()["error"] == error
    listed = await tenants.client.get(f"/internal/tenants/{tenant['id']}/aws-accounts")
    assert listed.json() == []


async def test_the_missing_condition_error_explains_the_confused_deputy_hole(
    tenants, customer, aws_info
) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()
    role_arn = customer.create_role(_allow(aws_info["cloudivize_principal_arn"]))

    refused = await _link(tenants, tenant["id"], customer.account(), role_arn)

    assert "lacks the sts:ExternalId condition" in refused.json()["detail"]


async def test_a_role_that_trusts_someone_else_or_does_not_exist_is_refused(
    tenants, customer, aws_info
) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()
    setup = await _setup(tenants, tenant["id"])
    condition = {"StringEquals": {"sts:ExternalId": setup["external_id"]}}
    stranger = customer.create_role(_allow("arn:aws:iam::999988887777:root", condition))
    missing = f"arn:aws:iam::{customer.account()}:role/NoSuchRole"

    untrusted = await _link(tenants, tenant["id"], customer.account(), stranger)
    absent = await _link(tenants, tenant["id"], customer.account(), missing)

    for refused in (untrusted, absent):
        assert refused.status_code == 422
        assert refused.json()["error"] == "role_not_assumable"
        for cause in ("does not exist", "does not name Cloudivize's principal", "external ID"):
            assert cause in refused.json()["detail"]


async def test_an_arn_in_another_account_is_refused_before_asking_aws(tenants, customer) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()

    refused = await _link(
        tenants, tenant["id"], customer.account(0), f"arn:aws:iam::{customer.account(1)}:role/X"
    )

    assert refused.status_code == 422
    assert [f["field"] for f in refused.json()["fields"]] == ["role_arn"]


async def test_revalidation_records_a_role_whose_trust_was_loosened(
    tenants, customer, aws_info
) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()
    setup = await _setup(tenants, tenant["id"])
    role_arn = customer.create_role(_template_trust(setup))
    await _link(tenants, tenant["id"], customer.account(), role_arn)
    customer.update_trust(role_arn, _allow(aws_info["cloudivize_principal_arn"]))

    checked = await tenants.client.post(
        f"/internal/tenants/{tenant['id']}/aws-accounts/{customer.account()}/validate",
        auth=acting(tenant["id"]),
    )

    assert checked.status_code == 200, checked.text
    assert (checked.json()["valid"], checked.json()["validation_result"]) == (
        False,
        "missing_external_id_condition",
    )
    events = await tenants.events(tenant["id"], until_type="tenant.aws_account_validated")
    assert events[-1].payload["reason"] == "missing_external_id_condition"


async def test_regenerating_the_external_id_revalidates_every_link(tenants, customer) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()
    base = f"/internal/tenants/{tenant['id']}"
    setup = await _setup(tenants, tenant["id"])
    role_arn = customer.create_role(_template_trust(setup), index=1)
    await _link(tenants, tenant["id"], customer.account(1), role_arn)

    regenerated = await tenants.client.post(
        f"{base}/aws-link/external-id", auth=acting(tenant["id"])
    )
    new_setup = regenerated.json()["setup"]
    customer.update_trust(role_arn, _template_trust(new_setup))
    rechecked = await tenants.client.post(
        f"{base}/aws-accounts/{customer.account(1)}/validate", auth=acting(tenant["id"])
    )

    assert regenerated.status_code == 200, regenerated.text
    assert new_setup["external_id"] != setup["external_id"]
    [account] = regenerated.json()["accounts"]
    assert account["validation_result"] == "wrong_external_id"
    assert "previous external ID" in account["validation_detail"]
    assert rechecked.json()["validation_result"] == "ok"


async def test_unlinking_removes_the_account_and_announces_it(tenants, customer) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()
    setup = await _setup(tenants, tenant["id"])
    role_arn = customer.create_role(_template_trust(setup))
    await _link(tenants, tenant["id"], customer.account(), role_arn)
    path = f"/internal/tenants/{tenant['id']}/aws-accounts/{customer.account()}"

    unlinked = await tenants.client.delete(path, auth=acting(tenant["id"]))
    again = await tenants.client.delete(path, auth=acting(tenant["id"]))

    assert (unlinked.status_code, again.status_code) == (204, 404)
    events = await tenants.events(tenant["id"], until_type="tenant.aws_account_unlinked")
    assert [e.type for e in events][-2:] == [
        "tenant.aws_account_linked",
        "tenant.aws_account_unlinked",
    ]
