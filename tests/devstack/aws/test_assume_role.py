"""sts:AssumeRole through boto3, with the role's trust policy enforced as AWS does."""

import json

import pytest

from tests.devstack.aws.conftest import role_credentials

EXTERNAL_ID = "cloudivize-tenant-7f3a9c"


@pytest.fixture(scope="module")
def member_admin(client, info):
    """Credentials of OrganizationAccountAccessRole in the first member account."""
    account = info["member_account_ids"][0]
    answer = client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName="setup",
    )
    return role_credentials(answer["Credentials"])


@pytest.fixture(scope="module")
def cloudivize_role(client, info, member_admin):
    """The role a customer creates for Cloudivize: trusts its principal, needs the external ID."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": info["cloudivize_principal_arn"]},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
            }
        ],
    }
    role = client("iam", member_admin).create_role(
        RoleName="CloudivizeReadOnly", AssumeRolePolicyDocument=json.dumps(trust)
    )
    return role["Role"]["Arn"]


@pytest.fixture(scope="module")
def cloudivize_sts(client, info):
    keys = info["cloudivize_credentials"]
    return client(
        "sts",
        {
            "aws_access_key_id": keys["access_key_id"],
            "aws_secret_access_key": keys["secret_access_key"],
        },
    )


def test_cloudivize_credentials_identify_as_its_principal(cloudivize_sts, info):
    identity = cloudivize_sts.get_caller_identity()

    assert identity["Arn"] == info["cloudivize_principal_arn"]
    assert identity["Account"] == "444455556666"


def test_assume_role_with_the_right_external_id_is_allowed(cloudivize_sts, cloudivize_role, info):
    answer = cloudivize_sts.assume_role(
        RoleArn=cloudivize_role, RoleSessionName="link-check", ExternalId=EXTERNAL_ID
    )

    account = info["member_account_ids"][0]
    expected = f"arn:aws:sts::{account}:assumed-role/CloudivizeReadOnly/link-check"
    assert answer["AssumedRoleUser"]["Arn"] == expected


def test_assumed_role_credentials_act_in_the_customer_account(
    cloudivize_sts, cloudivize_role, client, info
):
    answer = cloudivize_sts.assume_role(
        RoleArn=cloudivize_role, RoleSessionName="overview", ExternalId=EXTERNAL_ID
    )

    identity = client("sts", role_credentials(answer["Credentials"])).get_caller_identity()

    assert identity["Account"] == info["member_account_ids"][0]


@pytest.mark.parametrize(
    "external_id", [None, "cloudivize-tenant-other", "cloudivize-tenant-7f3a9"]
)
def test_assume_role_without_the_right_external_id_is_denied(
    cloudivize_sts, cloudivize_role, external_id
):
    extra = {} if external_id is None else {"ExternalId": external_id}

    with pytest.raises(cloudivize_sts.exceptions.ClientError) as denied:
        cloudivize_sts.assume_role(RoleArn=cloudivize_role, RoleSessionName="probe", **extra)

    error = denied.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Message"] == (
        "User: arn:aws:iam::444455556666:user/cloudivize-platform is not authorized to "
        f"perform: sts:AssumeRole on resource: {cloudivize_role}"
    )


def test_a_principal_the_role_does_not_trust_is_denied(client, cloudivize_role):
    management = client("sts")

    with pytest.raises(management.exceptions.ClientError) as denied:
        management.assume_role(
            RoleArn=cloudivize_role, RoleSessionName="probe", ExternalId=EXTERNAL_ID
        )

    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_a_role_that_does_not_exist_is_denied(cloudivize_sts, info):
    account = info["member_account_ids"][1]

    with pytest.raises(cloudivize_sts.exceptions.ClientError) as denied:
        cloudivize_sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/NoSuchRole",
            RoleSessionName="probe",
            ExternalId=EXTERNAL_ID,
        )

    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_management_account_may_use_organization_access_role(client, info):
    account = info["member_account_ids"][2]

    answer = client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName="ops",
    )

    assert answer["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{account}:")


def test_a_member_account_may_not_use_another_members_organization_role(client, info, member_admin):
    other = info["member_account_ids"][1]
    member = client("sts", member_admin)

    with pytest.raises(member.exceptions.ClientError) as denied:
        member.assume_role(
            RoleArn=f"arn:aws:iam::{other}:role/OrganizationAccountAccessRole",
            RoleSessionName="probe",
        )

    assert denied.value.response["Error"]["Code"] == "AccessDenied"
