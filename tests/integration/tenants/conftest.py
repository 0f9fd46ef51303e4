"""The tenants service in-process against real PostgreSQL and Kafka, and the AWS emulator."""

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from devstack.aws.server import EmulatorServer
from services.tenants.app import build_app
from services.tenants.settings import TenantsSettings
from shared.events import Envelope, parse_envelope
from shared.identity import Identity
from tests.support.stack import SignedCalls, read_all, serving

MANAGEMENT_KEYS = {
    "aws_access_key_id": "AKIATENANTSTESTS0000",
    "aws_secret_access_key": "tenants-tests-not-a-secret",
}


@dataclass
class Tenants:
    app: FastAPI
    client: httpx.AsyncClient
    settings: TenantsSettings

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.app.state.runtime.sessions

    @property
    def topic(self) -> str:
        return f"{self.settings.kafka_topic_prefix}tenants.events"

    async def sign_up(self, name: str = "Acme Corporation") -> dict[str, Any]:
        response = await self.client.post(
            "/internal/tenants", json={"name": name, "root_email": "root@example.com"}
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def events(self, tenant_id: str, *, until_type: str) -> list[Envelope]:
        """The tenant's events read from the topic's start until one of `until_type` shows."""

        def mine(records: list[Any]) -> list[Envelope]:
            return [
                envelope
                for envelope in (parse_envelope(r.value, r.key) for r in records)
                if str(envelope.tenant_id) == tenant_id
            ]

        records = await read_all(
            self.settings.kafka_bootstrap_servers,
            self.topic,
            until=lambda records: any(e.type == until_type for e in mine(records)),
        )
        found = mine(records)
        assert any(e.type == until_type for e in found), f"no {until_type} for {tenant_id}"
        return found


@pytest.fixture
def start_tenants(new_database, service_env, tenants_aws_settings):  # type: ignore[no-untyped-def]
    """Runs tenants instances; each gets a fresh database unless given one."""

    @asynccontextmanager
    async def start(
        *, database_url: str | None = None, identity: Identity | None = None, **overrides: Any
    ) -> AsyncIterator[Tenants]:
        settings = TenantsSettings(
            database_url=database_url or await new_database(),
            **{**service_env, **tenants_aws_settings, **overrides},
        )
        app = build_app(settings)
        async with serving(app, identity) as client:
            yield Tenants(app=app, client=client, settings=settings)

    return start


@pytest.fixture
async def tenants(start_tenants) -> AsyncIterator[Tenants]:  # type: ignore[no-untyped-def]
    async with start_tenants() as instance:
        yield instance


def acting(tenant_id: str | None = None, **claims: Any) -> SignedCalls:
    """Signs one call as the gateway acting for a user of a tenant."""
    identity = Identity(
        caller="gateway",
        tenant_id=uuid.UUID(tenant_id) if tenant_id else None,
        **{"user_id": "user-1", "role": "admin", "is_root": True, **claims},
    )
    return SignedCalls(identity)


class CustomerAccounts:
    """Creates roles in the emulator's member accounts, as a customer's admin would."""

    def __init__(self, aws_emulator: EmulatorServer, info: dict[str, Any]) -> None:
        self.url = aws_emulator.url
        self.info = info

    def account(self, index: int = 0) -> str:
        return self.info["member_account_ids"][index]

    def create_role(self, trust: dict[str, Any], *, index: int = 0) -> str:
        iam = self._client("iam", self.account(index))
        name = f"Cloudivize-{uuid.uuid4().hex[:10]}"
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        return role["Role"]["Arn"]

    def update_trust(self, role_arn: str, trust: dict[str, Any]) -> None:
        account = role_arn.split(":")[4]
        self._client("iam", account).update_assume_role_policy(
            RoleName=role_arn.rsplit("/", 1)[1], PolicyDocument=json.dumps(trust)
        )

    def _client(self, service: str, account: str) -> Any:
        sts = boto3.client("sts", endpoint_url=self.url, region_name="us-east-1", **MANAGEMENT_KEYS)
        answer = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
            RoleSessionName="customer-admin",
        )
        credentials = answer["Credentials"]
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )


@pytest.fixture(scope="session")
def customer(aws_emulator: EmulatorServer, aws_info: dict[str, Any]) -> CustomerAccounts:
    return CustomerAccounts(aws_emulator, aws_info)
