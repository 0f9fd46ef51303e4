"""The SSO portal API through boto3: grants read live from SSO Admin, credentials, limits."""

import pytest

from tests.devstack.aws.browser import run_device_flow
from tests.devstack.aws.conftest import role_credentials


@pytest.fixture
def sso(client):
    return client("sso")


def _account_names(sso, token):
    return sorted(a["accountName"] for a in sso.list_accounts(accessToken=token)["accountList"])


def _accounts_by_name(client):
    accounts = client("organizations").list_accounts()["Accounts"]
    return {a["Name"]: a["Id"] for a in accounts}


def test_list_accounts_shows_direct_assignments(sso, sign_in):
    token = sign_in("alice")["accessToken"]

    assert _account_names(sso, token) == ["Development", "Production", "Staging"]


def test_list_accounts_shows_assignments_through_a_group(sso, sign_in):
    token = sign_in("bob")["accessToken"]

    assert _account_names(sso, token) == ["Development", "Staging"]


def test_list_account_roles_names_the_permission_sets(sso, sign_in, client):
    token = sign_in("alice")["accessToken"]
    production = _accounts_by_name(client)["Production"]

    roles = sso.list_account_roles(accessToken=token, accountId=production)["roleList"]

    assert roles == [{"roleName": "AdministratorAccess", "accountId": production}]


def test_account_list_carries_name_and_email(sso, sign_in, client):
    token = sign_in("carol")["accessToken"]
    production = _accounts_by_name(client)["Production"]

    accounts = sso.list_accounts(accessToken=token)["accountList"]

    assert accounts == [
        {
            "accountId": production,
            "accountName": "Production",
            "emailAddress": "aws+production@example.com",
        }
    ]


def test_new_assignment_shows_at_the_next_call_and_goes_when_deleted(sso, sign_in, client, info):
    token = sign_in("carol")["accessToken"]
    admin = client("sso-admin")
    store = client("identitystore")
    staging = _accounts_by_name(client)["Staging"]
    carol = _user_id(store, info["identity_store_id"], "carol")
    read_only = _permission_set_arn(admin, info, "ReadOnlyAccess")
    assignment = {
        "InstanceArn": info["sso_instance_arn"],
        "TargetId": staging,
        "TargetType": "AWS_ACCOUNT",
        "PermissionSetArn": read_only,
        "PrincipalType": "USER",
        "PrincipalId": carol,
    }

    before = _account_names(sso, token)
    admin.create_account_assignment(**assignment)
    granted = _account_names(sso, token)
    roles = sso.list_account_roles(accessToken=token, accountId=staging)["roleList"]
    admin.delete_account_assignment(**assignment)
    after = _account_names(sso, token)

    assert before == ["Production"]
    assert granted == ["Production", "Staging"]
    assert [r["roleName"] for r in roles] == ["ReadOnlyAccess"]
    assert after == ["Production"]


def test_leaving_the_group_removes_its_grants(sso, sign_in, client, info):
    store = client("identitystore")
    token = sign_in("bob")["accessToken"]
    store_id = info["identity_store_id"]
    bob = _user_id(store, store_id, "bob")
    membership = store.list_group_memberships_for_member(
        IdentityStoreId=store_id, MemberId={"UserId": bob}
    )["GroupMemberships"][0]

    store.delete_group_membership(IdentityStoreId=store_id, MembershipId=membership["MembershipId"])
    without_group = _account_names(sso, token)
    store.create_group_membership(
        IdentityStoreId=store_id, GroupId=membership["GroupId"], MemberId={"UserId": bob}
    )

    assert without_group == []
    assert _account_names(sso, token) == ["Development", "Staging"]


def test_role_credentials_identify_as_the_sso_role_and_user(sso, sign_in, client):
    token = sign_in("alice")["accessToken"]
    development = _accounts_by_name(client)["Development"]

    credentials = sso.get_role_credentials(
        accessToken=token, accountId=development, roleName="AdministratorAccess"
    )["roleCredentials"]
    identity = client("sts", role_credentials(credentials)).get_caller_identity()

    assert identity["Account"] == development
    role, session = identity["Arn"].split("/")[1:]
    assert identity["Arn"].startswith(f"arn:aws:sts::{development}:assumed-role/")
    assert role.startswith("AWSReservedSSO_AdministratorAccess_")
    assert len(role.rsplit("_", 1)[1]) == 16
    assert session == "alice"
    assert credentials["expiration"] > 1_000_000_000_000  # milliseconds, as AWS sends


def test_role_credentials_act_in_the_member_account(sso, sign_in, client):
    token = sign_in("alice")["accessToken"]
    accounts = _accounts_by_name(client)
    dev = sso.get_role_credentials(
        accessToken=token, accountId=accounts["Development"], roleName="AdministratorAccess"
    )["roleCredentials"]
    prod = sso.get_role_credentials(
        accessToken=token, accountId=accounts["Production"], roleName="AdministratorAccess"
    )["roleCredentials"]

    client("s3", role_credentials(dev)).create_bucket(Bucket="dev-only-bucket")
    dev_buckets = client("s3", role_credentials(dev)).list_buckets()["Buckets"]
    prod_buckets = client("s3", role_credentials(prod)).list_buckets()["Buckets"]

    assert "dev-only-bucket" in [b["Name"] for b in dev_buckets]
    assert "dev-only-bucket" not in [b["Name"] for b in prod_buckets]


def test_role_not_granted_is_forbidden(sso, sign_in, client):
    token = sign_in("carol")["accessToken"]
    production = _accounts_by_name(client)["Production"]

    with pytest.raises(sso.exceptions.ClientError) as forbidden:
        sso.get_role_credentials(
            accessToken=token, accountId=production, roleName="AdministratorAccess"
        )

    assert forbidden.value.response["Error"]["Code"] == "ForbiddenException"
    assert forbidden.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_pagination_caps_pages_and_follows_next_token(sso, sign_in):
    token = sign_in("alice")["accessToken"]

    first = sso.list_accounts(accessToken=token, maxResults=2)
    second = sso.list_accounts(accessToken=token, maxResults=2, nextToken=first["nextToken"])
    large = sso.list_accounts(accessToken=token, maxResults=1000)
    paged = [
        a["accountName"]
        for page in sso.get_paginator("list_accounts").paginate(
            accessToken=token, PaginationConfig={"PageSize": 1}
        )
        for a in page["accountList"]
    ]

    assert len(first["accountList"]) == 2
    assert len(second["accountList"]) == 1
    assert "nextToken" not in second
    assert len(large["accountList"]) == 3
    assert sorted(paged) == ["Development", "Production", "Staging"]


def test_foreign_next_token_is_invalid_request(sso, sign_in, client):
    token = sign_in("alice")["accessToken"]
    accounts_page = sso.list_accounts(accessToken=token, maxResults=1)
    development = _accounts_by_name(client)["Development"]

    with pytest.raises(sso.exceptions.InvalidRequestException):
        sso.list_account_roles(
            accessToken=token, accountId=development, nextToken=accounts_page["nextToken"]
        )
    with pytest.raises(sso.exceptions.InvalidRequestException):
        sso.list_accounts(accessToken=token, nextToken="not-a-token")


def test_unknown_token_is_unauthorized(sso):
    with pytest.raises(sso.exceptions.UnauthorizedException):
        sso.list_accounts(accessToken="aoa-made-up")


def test_expired_token_is_unauthorized(sso, sign_in, settings):
    settings.access_token_expires_in = 0
    token = sign_in("alice")["accessToken"]

    with pytest.raises(sso.exceptions.UnauthorizedException):
        sso.list_accounts(accessToken=token)


def test_logout_ends_the_token(sso, sign_in):
    token = sign_in("alice")["accessToken"]

    sso.logout(accessToken=token)

    with pytest.raises(sso.exceptions.UnauthorizedException):
        sso.list_accounts(accessToken=token)


def test_too_many_requests_past_the_rate(sso, sign_in, settings):
    settings.portal_rate_limit = 2
    settings.portal_rate_window = 3600
    token = sign_in("alice")["accessToken"]

    sso.list_accounts(accessToken=token)
    sso.list_accounts(accessToken=token)
    with pytest.raises(sso.exceptions.TooManyRequestsException) as throttled:
        sso.list_accounts(accessToken=token)

    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_deleting_the_user_ends_their_sessions(sso, client, emulator, info):
    store = client("identitystore")
    store_id = info["identity_store_id"]
    erin = store.create_user(
        IdentityStoreId=store_id,
        UserName="erin",
        DisplayName="Erin Evans",
        Name={"GivenName": "Erin", "FamilyName": "Evans"},
    )["UserId"]
    password = emulator.settings.default_password
    token = run_device_flow(client("sso-oidc"), emulator.url, info, "erin", password)

    before = sso.list_accounts(accessToken=token["accessToken"])["accountList"]
    store.delete_user(IdentityStoreId=store_id, UserId=erin)

    assert before == []
    with pytest.raises(sso.exceptions.UnauthorizedException):
        sso.list_accounts(accessToken=token["accessToken"])


def _permission_set_arn(admin, info, name):
    arns = admin.list_permission_sets(InstanceArn=info["sso_instance_arn"])["PermissionSets"]
    for arn in arns:
        described = admin.describe_permission_set(
            InstanceArn=info["sso_instance_arn"], PermissionSetArn=arn
        )
        if described["PermissionSet"]["Name"] == name:
            return arn
    raise AssertionError(f"no permission set {name}")


def _user_id(store, store_id, user_name):
    return store.get_user_id(
        IdentityStoreId=store_id,
        AlternateIdentifier={
            "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": user_name}
        },
    )["UserId"]
