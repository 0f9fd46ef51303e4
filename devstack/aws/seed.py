"""Seed a running emulator with a demo organization, through boto3 only.

    python -m devstack.aws.seed --endpoint-url http://127.0.0.1:4566

Creates an organization with three member accounts, three Identity Store
users (bob through the `Developers` group), two permission sets and their
account assignments. Every user signs in to the portal with the emulator's
demo password (see GET /_emulator/info). Running it again changes nothing.
"""

import argparse
import logging
import sys
from typing import Any

import boto3
import httpx

log = logging.getLogger("devstack.aws.seed")

# Unknown keys act as the management account (see principals.py); these
# name the seed in logs and are no secret.
SEED_ACCESS_KEY_ID = "AKIAEMULATORSEED0000"
SEED_SECRET_ACCESS_KEY = "emulator-seed-not-a-secret"  # noqa: S105 - demo value

ACCOUNTS = ["Development", "Staging", "Production"]
USERS = [
    ("alice", "Alice", "Anders", "alice@example.com"),
    ("bob", "Bob", "Berg", "bob@example.com"),
    ("carol", "Carol", "Chen", "carol@example.com"),
]
GROUP = "Developers"
GROUP_MEMBERS = ["bob"]
PERMISSION_SETS = {
    "AdministratorAccess": ("arn:aws:iam::aws:policy/AdministratorAccess", "PT1H"),
    "ReadOnlyAccess": ("arn:aws:iam::aws:policy/ReadOnlyAccess", "PT8H"),
}
# (principal: user name or group, account name, permission set)
ASSIGNMENTS = [
    ("alice", "Development", "AdministratorAccess"),
    ("alice", "Staging", "AdministratorAccess"),
    ("alice", "Production", "AdministratorAccess"),
    (GROUP, "Development", "AdministratorAccess"),
    (GROUP, "Staging", "ReadOnlyAccess"),
    ("carol", "Production", "ReadOnlyAccess"),
]


def _clients(endpoint_url: str, region: str) -> dict[str, Any]:
    session = boto3.session.Session(
        aws_access_key_id=SEED_ACCESS_KEY_ID,
        aws_secret_access_key=SEED_SECRET_ACCESS_KEY,
        region_name=region,
    )
    names = ["organizations", "sso-admin", "identitystore"]
    return {n: session.client(n, endpoint_url=endpoint_url) for n in names}  # type: ignore[call-overload]


def seed_demo_organization(endpoint_url: str, region: str = "us-east-1") -> bool:
    """Seed the demo organization; False if the emulator already has one."""
    clients = _clients(endpoint_url, region)
    org = clients["organizations"]
    try:
        org.describe_organization()
        return False
    except org.exceptions.AWSOrganizationsNotInUseException:
        pass

    org.create_organization(FeatureSet="ALL")
    accounts = {name: _create_account(org, name) for name in ACCOUNTS}
    instance = clients["sso-admin"].list_instances()["Instances"][0]
    principals = _create_identities(clients["identitystore"], instance["IdentityStoreId"])
    permission_sets = _create_permission_sets(clients["sso-admin"], instance["InstanceArn"])
    for principal, account, permission_set in ASSIGNMENTS:
        clients["sso-admin"].create_account_assignment(
            InstanceArn=instance["InstanceArn"],
            TargetId=accounts[account],
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=permission_sets[permission_set],
            PrincipalType="GROUP" if principal == GROUP else "USER",
            PrincipalId=principals[principal],
        )
    log.info("aws_emulator.seeded accounts=%s users=%s", len(accounts), len(USERS))
    return True


def _create_account(org: Any, name: str) -> str:
    email = f"aws+{name.lower()}@example.com"
    status = org.create_account(AccountName=name, Email=email)["CreateAccountStatus"]
    return status["AccountId"]


def _create_identities(store: Any, store_id: str) -> dict[str, str]:
    ids: dict[str, str] = {}
    for user_name, given, family, email in USERS:
        ids[user_name] = store.create_user(
            IdentityStoreId=store_id,
            UserName=user_name,
            DisplayName=f"{given} {family}",
            Name={"GivenName": given, "FamilyName": family},
            Emails=[{"Value": email, "Type": "work", "Primary": True}],
        )["UserId"]
    ids[GROUP] = store.create_group(IdentityStoreId=store_id, DisplayName=GROUP)["GroupId"]
    for member in GROUP_MEMBERS:
        store.create_group_membership(
            IdentityStoreId=store_id, GroupId=ids[GROUP], MemberId={"UserId": ids[member]}
        )
    return ids


def _create_permission_sets(admin: Any, instance_arn: str) -> dict[str, str]:
    arns: dict[str, str] = {}
    for name, (policy_arn, duration) in PERMISSION_SETS.items():
        arn = admin.create_permission_set(
            InstanceArn=instance_arn, Name=name, SessionDuration=duration
        )["PermissionSet"]["PermissionSetArn"]
        admin.attach_managed_policy_to_permission_set(
            InstanceArn=instance_arn, PermissionSetArn=arn, ManagedPolicyArn=policy_arn
        )
        arns[name] = arn
    return arns


def fetch_info(endpoint_url: str) -> dict[str, Any]:
    response = httpx.get(f"{endpoint_url.rstrip('/')}/_emulator/info", timeout=10)
    response.raise_for_status()
    return response.json()


def describe(info: dict[str, Any]) -> str:
    """A short text for a terminal: where to sign in and as whom."""
    users = ", ".join(f"{u['user_name']} / {u['password']}" for u in info["users"])
    return "\n".join(
        [
            f"  start URL:        {info['start_url']}  (region {info['region']})",
            f"  management:       {info['management_account_id']}",
            f"  member accounts:  {', '.join(info['member_account_ids'])}",
            f"  portal users:     {users}",
            f"  Cloudivize:       {info['cloudivize_principal_arn']}",
            f"  Cloudivize keys:  {info['cloudivize_credentials']['access_key_id']} / "
            f"{info['cloudivize_credentials']['secret_access_key']}  (emulator-only demo keys)",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Seed the AWS emulator's demo organization.")
    parser.add_argument("--endpoint-url", default="http://127.0.0.1:4566")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)

    created = seed_demo_organization(args.endpoint_url, args.region)
    print("seeded" if created else "already seeded")
    print(describe(fetch_info(args.endpoint_url)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
