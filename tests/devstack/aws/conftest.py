"""One seeded emulator per test session, and helpers that drive it like a client would."""

import dataclasses
import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from devstack.aws.server import EmulatorServer
from devstack.aws.settings import EmulatorSettings
from tests.devstack.aws.browser import run_device_flow

# No retries, so a throttling or server error reaches the test as it was sent.
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    assert "MOTO_ACCOUNT_ID" not in os.environ, "MOTO_ACCOUNT_ID defeats multi-account emulation"
    server = EmulatorServer(host="127.0.0.1", port=0, seed=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def info(emulator: EmulatorServer) -> dict[str, Any]:
    return emulator.info()


@pytest.fixture
def settings(emulator: EmulatorServer) -> Iterator[EmulatorSettings]:
    """The running server's settings; whatever a test changes is put back afterwards."""
    saved = dataclasses.replace(emulator.settings)
    yield emulator.settings
    for field in dataclasses.fields(saved):
        setattr(emulator.settings, field.name, getattr(saved, field.name))


ClientFactory = Callable[..., Any]


@pytest.fixture(scope="session")
def client(emulator: EmulatorServer) -> ClientFactory:
    """A boto3 client of the emulator; credentials default to the management account."""

    def make(service: str, credentials: dict[str, str] | None = None, **kwargs: Any) -> Any:
        creds = credentials or {
            "aws_access_key_id": "AKIATESTMANAGEMENT00",
            "aws_secret_access_key": "test-secret",
        }
        return boto3.client(
            service,
            endpoint_url=emulator.url,
            region_name=kwargs.pop("region_name", "us-east-1"),
            config=NO_RETRIES,
            **creds,
            **kwargs,
        )

    return make


def role_credentials(credentials: dict[str, Any]) -> dict[str, str]:
    """boto3 client arguments from STS or SSO portal credentials."""
    return {
        "aws_access_key_id": credentials.get("AccessKeyId") or credentials["accessKeyId"],
        "aws_secret_access_key": credentials.get("SecretAccessKey")
        or credentials["secretAccessKey"],
        "aws_session_token": credentials.get("SessionToken") or credentials["sessionToken"],
    }


@pytest.fixture(scope="session")
def sign_in(emulator: EmulatorServer, info: dict[str, Any], client: ClientFactory) -> Callable:
    """Run the whole device flow for a seeded user; return CreateToken's answer."""

    def run(user_name: str, oidc_client: dict[str, Any] | None = None) -> dict[str, Any]:
        password = next(u["password"] for u in info["users"] if u["user_name"] == user_name)
        oidc = client("sso-oidc")
        return run_device_flow(oidc, emulator.url, info, user_name, password, oidc_client)

    return run
