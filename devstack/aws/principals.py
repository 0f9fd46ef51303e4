"""Who an access key belongs to, and the IAM side of Identity Center.

Moto picks the account of a request from its access key: a key of an IAM
user or of an assumed role belongs to the account that holds it, any other
key to the management account. The same rule names the caller of
`sts:AssumeRole` for the trust-policy check.
"""

import hashlib
import json
from typing import Any

from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends
from moto.sts.models import AssumedRole, sts_backends

from .settings import (
    CLOUDIVIZE_ACCESS_KEY_ID,
    CLOUDIVIZE_ACCOUNT_ID,
    CLOUDIVIZE_SECRET_ACCESS_KEY,
    CLOUDIVIZE_USER_NAME,
    MANAGEMENT_ACCOUNT_ID,
)
from .trust import Caller

SSO_ROLE_PATH = "/aws-reserved/sso.amazonaws.com/"


def _iam(account_id: str) -> Any:
    return iam_backends[account_id]["aws"]


def _sts(account_id: str) -> Any:
    return sts_backends[account_id]["aws"]


def resolve_caller(access_key_id: str) -> Caller:
    """The principal behind an access key ID, as IAM would name it."""
    for account_id, _ in list(iam_backends.items()):
        key = _iam(account_id).access_keys.get(access_key_id)
        if key is None:
            continue
        if key.role_arn:
            session = _sts(account_id).get_assumed_role_from_access_key(access_key_id)
            arn = session.arn if session else key.role_arn
            return Caller(arn=arn, account_id=account_id, role_arn=key.role_arn)
        user = _iam(account_id).get_user_from_access_key_id(access_key_id)
        if user is not None:
            return Caller(arn=user.arn, account_id=account_id)
    return Caller(
        arn=f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:root", account_id=MANAGEMENT_ACCOUNT_ID
    )


def find_role(role_arn: str) -> Any | None:
    parts = role_arn.split(":")
    if len(parts) < 6 or not parts[4].isdigit():
        return None
    try:
        return _iam(parts[4]).get_role_by_arn(role_arn)
    except NotFoundException:
        return None


def ensure_cloudivize_principal() -> str:
    """Create Cloudivize's IAM user with the fixed demo keys; return its ARN."""
    iam = _iam(CLOUDIVIZE_ACCOUNT_ID)
    if CLOUDIVIZE_USER_NAME not in iam.users:
        iam.create_user(region_name="us-east-1", user_name=CLOUDIVIZE_USER_NAME, path="/", tags=[])
    user = iam.users[CLOUDIVIZE_USER_NAME]
    if CLOUDIVIZE_ACCESS_KEY_ID not in iam.access_keys:
        key = iam.create_access_key(CLOUDIVIZE_USER_NAME)
        del iam.access_keys[key.access_key_id]
        key.access_key_id = CLOUDIVIZE_ACCESS_KEY_ID
        key.secret_access_key = CLOUDIVIZE_SECRET_ACCESS_KEY
        iam.access_keys[CLOUDIVIZE_ACCESS_KEY_ID] = key
    return user.arn


def sso_role_name(permission_set_name: str, account_id: str, permission_set_arn: str) -> str:
    # AWS suffixes the role with 16 hex digits, stable per permission set and account.
    digest = hashlib.sha256(f"{account_id}:{permission_set_arn}".encode()).hexdigest()
    return f"AWSReservedSSO_{permission_set_name}_{digest[:16]}"


def assume_sso_role(
    account_id: str, permission_set: Any, user_name: str, region: str, duration: int
) -> AssumedRole:
    """Credentials of the permission set's role in the account, for this user."""
    role = _ensure_sso_role(account_id, permission_set)
    return _sts(account_id).assume_role(
        region_name=region,
        role_session_name=user_name,
        role_arn=role.arn,
        policy=None,
        duration=duration,
        external_id=None,
    )


def _ensure_sso_role(account_id: str, permission_set: Any) -> Any:
    iam = _iam(account_id)
    name = sso_role_name(permission_set.name, account_id, permission_set.permission_set_arn)
    try:
        return iam.get_role(name)
    except NotFoundException:
        pass
    role = iam.create_role(
        role_name=name,
        assume_role_policy_document=json.dumps(_saml_trust(account_id)),
        path=SSO_ROLE_PATH,
        permissions_boundary=None,
        description="Created by the AWS SSO emulator for a permission set",
        tags=[],
        max_session_duration="43200",
    )
    _copy_policies(iam, name, permission_set)
    return role


def _saml_trust(account_id: str) -> dict[str, Any]:
    provider = f"arn:aws:iam::{account_id}:saml-provider/AWSSSO_emulator_DO_NOT_DELETE"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider},
                "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
            }
        ],
    }


def _copy_policies(iam: Any, role_name: str, permission_set: Any) -> None:
    if permission_set.inline_policy:
        iam.put_role_policy(role_name, "AwsSSOInlinePolicy", permission_set.inline_policy)
    for policy in permission_set.managed_policies:
        # Moto loads AWS managed policies only when asked to; without them the
        # role still works, it just lists no attached policy.
        try:
            iam.attach_role_policy(policy.arn, role_name)
        except NotFoundException:
            continue
