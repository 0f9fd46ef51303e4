"""The demo tenant a newcomer signs in to straight after `make run`.

It is made through the services' own internal APIs, as a sign-up would be: the tenant,
its root user (with a documented demo password), then SSO with the emulated
organization, reading user names and emails through a role in its management account.
"""

import asyncio
import json
from collections.abc import Callable
from typing import Any

import boto3
import httpx

from services.tenants.templates import trust_policy
from shared.identity import Identity, headers_for

DEMO_TENANT = {"name": "Demo Company", "root_email": "root@demo.example"}
DEMO_SLUG = "demo-company"
# Only ever valid against the local stack; printed by `make run` so people can sign in.
DEMO_ROOT_PASSWORD = "Demo-Root-Password-1"  # noqa: S105
READER_ROLE = f"CloudivizeIdentityReader-{DEMO_SLUG}"

Say = Callable[[str], None]


class SeedError(Exception):
    pass


def internal_headers(signing_key: str | None) -> dict[str, str]:
    """The signed identity internal routes demand; the seed calls as the `devstack` service."""
    if not signing_key:
        return {}
    return headers_for(Identity(caller="devstack"), signing_key)


def seed_demo_tenant(
    urls: dict[str, str], info: dict[str, Any], say: Say, headers: dict[str, str]
) -> None:
    """Create the demo tenant unless it exists; a failure only warns: the stack still runs."""

    async def run() -> None:
        async with (
            httpx.AsyncClient(base_url=urls["tenants"], headers=headers, timeout=30) as tenants,
            httpx.AsyncClient(base_url=urls["auth"], headers=headers, timeout=30) as auth,
        ):
            await seed(tenants, auth, info, say)

    try:
        asyncio.run(run())
    except (httpx.HTTPError, SeedError, KeyError) as exc:
        say(f"warning: demo tenant not complete: {type(exc).__name__}: {exc}")


async def seed(
    tenants: httpx.AsyncClient, auth: httpx.AsyncClient, info: dict[str, Any], say: Say
) -> None:
    if (await tenants.get(f"/internal/tenants/by-slug/{DEMO_SLUG}")).status_code == 200:
        say(f"demo tenant exists: slug={DEMO_SLUG}")
        return

    tenant = _ok(await tenants.post("/internal/tenants", json=DEMO_TENANT))
    root = {"tenant_id": tenant["id"], "email": DEMO_TENANT["root_email"]}
    _ok(await auth.post("/internal/users/root", json={**root, "password": DEMO_ROOT_PASSWORD}))
    say(f"demo tenant created: slug={tenant['slug']}")
    say(f"  root user: {DEMO_TENANT['root_email']} / {DEMO_ROOT_PASSWORD}")

    if info.get("start_url"):
        sso = await _sso_settings(tenants, tenant["id"], info)
        _ok(await tenants.put(f"/internal/tenants/{tenant['id']}/sso", json=sso))
        say(f"  SSO connected to the emulated organization ({sso['start_url']})")


async def _sso_settings(
    tenants: httpx.AsyncClient, tenant_id: str, info: dict[str, Any]
) -> dict[str, Any]:
    settings = {"start_url": info["start_url"], "region": info["region"]}
    if not info.get("identity_store_id"):
        return settings
    link = _ok(await tenants.get(f"/internal/tenants/{tenant_id}/aws-link"))
    role_arn = await asyncio.to_thread(_identity_reader_role, info, link["external_id"])
    return {
        **settings,
        "identity_store_id": info["identity_store_id"],
        "management_role_arn": role_arn,
    }


def _identity_reader_role(info: dict[str, Any], external_id: str) -> str:
    """What the customer's admin would create in the management account: a role that
    Cloudivize may assume, with the tenant's external ID, to read user names and emails."""
    # The emulator treats a key it does not know as the management account's root.
    iam = boto3.client(
        "iam",
        endpoint_url=info["endpoint_url"],
        region_name=info["region"],
        aws_access_key_id="AKIADEMOMANAGEMENT01",
        aws_secret_access_key="demo-management-account",  # noqa: S106
    )
    trust = trust_policy(info["cloudivize_principal_arn"], external_id)
    read_users = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["identitystore:DescribeUser", "identitystore:ListUsers"],
                "Resource": "*",
            }
        ],
    }
    try:
        role = iam.create_role(RoleName=READER_ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    except iam.exceptions.EntityAlreadyExistsException:
        iam.update_assume_role_policy(RoleName=READER_ROLE, PolicyDocument=json.dumps(trust))
        role = iam.get_role(RoleName=READER_ROLE)
    iam.put_role_policy(
        RoleName=READER_ROLE, PolicyName="read-users", PolicyDocument=json.dumps(read_users)
    )
    return role["Role"]["Arn"]


def _ok(response: httpx.Response) -> Any:
    if not response.is_success:
        detail = response.text[:200]
        raise SeedError(f"{response.request.method} {response.request.url.path}: {detail}")
    return response.json()
