"""One seeded emulator per test session, and helpers that drive it like a client would."""

from collections.abc import Callable
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
def emulator(aws_emulator: EmulatorServer) -> EmulatorServer:
    return aws_emulator


@pytest.fixture(scope="session")
def info(aws_info: dict[str, Any]) -> dict[str, Any]:
    return aws_info


@pytest.fixture
def settings(emulator_settings: EmulatorSettings) -> EmulatorSettings:
    return emulator_settings


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
