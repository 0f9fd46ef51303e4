"""Helpers that drive auth, tenants and the emulator's pages the way the gateway and a
person in a browser would."""

import contextlib
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
from fastapi import FastAPI

from devstack.aws.server import EmulatorServer
from services.auth.settings import AuthSettings
from services.tenants.templates import trust_policy
from tests.support.stack import read_all

SESSION_HEADER = "X-Cloudivize-Session"
MANAGEMENT_KEYS = {"aws_access_key_id": "AKIATESTMANAGEMENT00", "aws_secret_access_key": "x"}


@dataclass
class Stack:
    auth: httpx.AsyncClient
    tenants: httpx.AsyncClient
    auth_app: FastAPI
    settings: AuthSettings
    emulator: EmulatorServer
    info: dict[str, Any]

    @property
    def auth_events_topic(self) -> str:
        return f"{self.settings.kafka_topic_prefix}auth.events"

    def password_of(self, user_name: str) -> str:
        return next(u["password"] for u in self.info["users"] if u["user_name"] == user_name)

    def aws(self, service: str) -> Any:
        """A boto3 client acting as the customer's management account."""
        return boto3.client(
            service,
            endpoint_url=self.emulator.url,
            region_name=self.info["region"],
            **MANAGEMENT_KEYS,
        )


def browser_binding() -> str:
    return secrets.token_urlsafe(24)


async def create_tenant(stack: Stack, name: str | None = None) -> dict[str, Any]:
    name = name or f"Company {uuid.uuid4().hex[:8]}"
    response = await stack.tenants.post(
        "/internal/tenants", json={"name": name, "root_email": "root@example.com"}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def create_sso_tenant(stack: Stack, **sso: Any) -> dict[str, Any]:
    tenant = await create_tenant(stack)
    body = {"start_url": stack.info["start_url"], "region": stack.info["region"], **sso}
    response = await stack.tenants.put(f"/internal/tenants/{tenant['id']}/sso", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def deactivate(stack: Stack, tenant_id: str) -> None:
    response = await stack.tenants.post(f"/internal/tenants/{tenant_id}/deactivate")
    assert response.status_code == 200, response.text


async def start_sso(stack: Stack, slug: str, binding: str) -> dict[str, Any]:
    response = await stack.auth.post(
        f"/internal/sso/{slug}/start", json={"browser_binding": binding}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def complete_sso(stack: Stack, slug: str, attempt_id: str, binding: str) -> httpx.Response:
    return await stack.auth.post(
        f"/internal/sso/{slug}/complete",
        json={"attempt_id": attempt_id, "browser_binding": binding},
    )


async def decide_on_aws_page(
    stack: Stack, verification_uri: str, user_name: str, decision: str = "allow"
) -> None:
    """Sign in on the verification page and press "Allow access" or "Deny"."""
    async with httpx.AsyncClient(base_url=stack.emulator.url) as browser:
        page = await browser.get(verification_uri)
        signed_in = await browser.post(
            "/login",
            data={
                "username": user_name,
                "password": stack.password_of(user_name),
                "next": _hidden(page.text, "next"),
            },
            follow_redirects=True,
        )
        answer = await browser.post(
            "/device/decision",
            data={
                "user_code": _hidden(signed_in.text, "user_code"),
                "csrf": _hidden(signed_in.text, "csrf"),
                "decision": decision,
            },
        )
        assert answer.status_code == 200, answer.text


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name} in the page"
    return match.group(1)


async def sso_login(stack: Stack, slug: str, user_name: str) -> dict[str, Any]:
    """The whole device flow for one user; returns auth's answer (token and session)."""
    binding = browser_binding()
    started = await start_sso(stack, slug, binding)
    await decide_on_aws_page(stack, started["verification_uri_complete"], user_name)
    response = await complete_sso(stack, slug, started["attempt_id"], binding)
    assert response.status_code == 200, response.text
    return response.json()


async def current(stack: Stack, token: str) -> httpx.Response:
    return await stack.auth.get("/internal/sessions/current", headers={SESSION_HEADER: token})


def account_ids(session: dict[str, Any]) -> list[str]:
    return sorted(account["account_id"] for account in session["granted_accounts"])


def accounts_by_name(stack: Stack) -> dict[str, str]:
    accounts = stack.aws("organizations").list_accounts()["Accounts"]
    return {account["Name"]: account["Id"] for account in accounts}


async def logins_on_bus(stack: Stack, count: int) -> list[Any]:
    """The `user.logged_in` records on auth.events, once at least `count` are there."""
    records = await read_all(
        stack.settings.kafka_bootstrap_servers,
        stack.auth_events_topic,
        until=lambda found: len(found) >= count,
    )
    return records


def user_id_in_store(stack: Stack, user_name: str) -> str:
    store = stack.aws("identitystore")
    return store.get_user_id(
        IdentityStoreId=stack.info["identity_store_id"],
        AlternateIdentifier={
            "UniqueAttribute": {"AttributePath": "UserName", "AttributeValue": user_name}
        },
    )["UserId"]


def permission_set_arn(stack: Stack, name: str) -> str:
    admin = stack.aws("sso-admin")
    instance = stack.info["sso_instance_arn"]
    for arn in admin.list_permission_sets(InstanceArn=instance)["PermissionSets"]:
        described = admin.describe_permission_set(InstanceArn=instance, PermissionSetArn=arn)
        if described["PermissionSet"]["Name"] == name:
            return arn
    raise AssertionError(f"no permission set {name}")


def assignment(stack: Stack, user_name: str, account_id: str, permission_set: str) -> dict:
    """Arguments of sso-admin's create/delete_account_assignment for one user."""
    return {
        "InstanceArn": stack.info["sso_instance_arn"],
        "TargetId": account_id,
        "TargetType": "AWS_ACCOUNT",
        "PermissionSetArn": permission_set_arn(stack, permission_set),
        "PrincipalType": "USER",
        "PrincipalId": user_id_in_store(stack, user_name),
    }


def role_trusting_cloudivize(stack: Stack, account_id: str, name: str, external_id: str) -> str:
    """A role in a customer account that Cloudivize may assume with the external ID."""
    trust = trust_policy(stack.info["cloudivize_principal_arn"], external_id)
    iam = _iam_in(stack, account_id)
    # Role names are per account and the emulator lives for the whole session.
    with contextlib.suppress(iam.exceptions.NoSuchEntityException):
        iam.delete_role(RoleName=name)
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def _iam_in(stack: Stack, account_id: str) -> Any:
    if account_id == stack.info["management_account_id"]:
        return stack.aws("iam")
    answer = stack.aws("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="test-setup",
    )
    keys = answer["Credentials"]
    return boto3.client(
        "iam",
        endpoint_url=stack.emulator.url,
        region_name=stack.info["region"],
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    )


async def external_id_of(stack: Stack, tenant_id: str) -> str:
    response = await stack.tenants.get(f"/internal/tenants/{tenant_id}/aws-link")
    assert response.status_code == 200, response.text
    return response.json()["external_id"]
