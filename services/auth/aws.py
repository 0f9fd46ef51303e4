"""Every AWS call the auth service makes, through plain boto3 in worker threads.

Clients find their endpoint the standard way (`AWS_ENDPOINT_URL`, else AWS itself).
botocore's own retries are off: throttling of the portal API is retried here with
back-off, and every other error is mapped to one outcome the callers handle.
"""

import asyncio
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from services.auth.errors import AwsRefused, DependencyUnavailable
from shared.logging import get_logger

log = get_logger(__name__)

T = TypeVar("T")

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
SSO_SCOPES = ["sso:account:access"]


class DeviceOutcome(Exception):
    """CreateToken did not issue a token; the subclass says why."""


class DevicePending(DeviceOutcome):
    pass


class DeviceSlowDown(DeviceOutcome):
    pass


class DeviceExpired(DeviceOutcome):
    pass


class DeviceDenied(DeviceOutcome):
    pass


class ClientRejected(Exception):
    """SSO OIDC no longer accepts a client registration (expired or deleted early)."""


class SsoTokenInvalid(Exception):
    """The user's SSO token (or refresh token) is no longer accepted."""


class NotPermitted(Exception):
    """AWS refused access to a resource (ForbiddenException, AccessDenied)."""


DEVICE_OUTCOMES = {
    "AuthorizationPendingException": DevicePending,
    "SlowDownException": DeviceSlowDown,
    "ExpiredTokenException": DeviceExpired,
    "AccessDeniedException": DeviceDenied,
    # A device code that was already redeemed or never existed cannot become valid,
    # and neither can one whose client registration AWS has dropped.
    "InvalidGrantException": DeviceExpired,
    "InvalidClientException": DeviceExpired,
}


@dataclass(frozen=True)
class ClientRegistration:
    client_id: str
    client_secret: str
    expires_at: datetime


@dataclass(frozen=True)
class DeviceAuthorization:
    device_code: str
    user_code: str
    verification_uri_complete: str
    expires_in: int
    interval: int


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime

    def client_arguments(self) -> dict[str, str]:
        return {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "aws_session_token": self.session_token,
        }


def _tokens(answer: dict[str, Any]) -> dict[str, Any]:
    expires_at = datetime.now(UTC) + timedelta(seconds=int(answer.get("expiresIn", 0)))
    return {
        "access_token": answer["accessToken"],
        "refresh_token": answer.get("refreshToken"),
        "expires_at": expires_at.isoformat(),
    }


class Aws:
    """boto3 clients per service and region, built once and shared across threads."""

    def __init__(self, *, timeout: float, max_attempts: int, backoff: float) -> None:
        self._config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=timeout,
            read_timeout=timeout,
        )
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._session = boto3.session.Session()
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def _client(self, service: str, region: str) -> Any:
        # The SSO OIDC and portal operations carry no SigV4 signature.
        with self._lock:
            client = self._clients.get((service, region))
            if client is None:
                config = self._config.merge(Config(signature_version=UNSIGNED))
                client = self._session.client(service, region_name=region, config=config)  # type: ignore[call-overload]
                self._clients[(service, region)] = client
            return client

    def _signed_client(self, service: str, region: str, credentials: Credentials | None) -> Any:
        arguments = credentials.client_arguments() if credentials else {}
        with self._lock:
            return self._session.client(  # type: ignore[call-overload]
                service, region_name=region, config=self._config, **arguments
            )

    # SSO OIDC

    async def register_client(self, region: str, name: str) -> ClientRegistration:
        answer = await _call(
            self._client("sso-oidc", region).register_client,
            clientName=name,
            clientType="public",
            scopes=SSO_SCOPES,
            grantTypes=[DEVICE_GRANT, REFRESH_GRANT],
        )
        expires_at = datetime.fromtimestamp(answer["clientSecretExpiresAt"], UTC)
        return ClientRegistration(answer["clientId"], answer["clientSecret"], expires_at)

    async def start_device_authorization(
        self, region: str, client: ClientRegistration, start_url: str
    ) -> DeviceAuthorization:
        answer = await _call(
            self._client("sso-oidc", region).start_device_authorization,
            clientId=client.client_id,
            clientSecret=client.client_secret,
            startUrl=start_url,
            outcomes={"InvalidClientException": ClientRejected},
        )
        return DeviceAuthorization(
            device_code=answer["deviceCode"],
            user_code=answer["userCode"],
            verification_uri_complete=answer["verificationUriComplete"],
            expires_in=int(answer["expiresIn"]),
            interval=int(answer.get("interval") or 5),
        )

    async def redeem_device_code(
        self, region: str, client: ClientRegistration, device_code: str
    ) -> dict[str, Any]:
        """One CreateToken call: the tokens, or the `DeviceOutcome` that says why not."""
        try:
            answer = await _call(
                self._client("sso-oidc", region).create_token,
                clientId=client.client_id,
                clientSecret=client.client_secret,
                grantType=DEVICE_GRANT,
                deviceCode=device_code,
                outcomes=DEVICE_OUTCOMES,
            )
        except SsoTokenInvalid:
            raise DeviceExpired() from None
        return _tokens(answer)

    async def refresh_tokens(
        self, region: str, client: ClientRegistration, refresh_token: str
    ) -> dict[str, Any]:
        answer = await _call(
            self._client("sso-oidc", region).create_token,
            clientId=client.client_id,
            clientSecret=client.client_secret,
            grantType=REFRESH_GRANT,
            refreshToken=refresh_token,
            outcomes={
                "InvalidGrantException": SsoTokenInvalid,
                "ExpiredTokenException": SsoTokenInvalid,
            },
        )
        return _tokens(answer)

    # SSO portal

    async def list_accounts(self, region: str, access_token: str) -> list[dict[str, Any]]:
        return await self._all_pages(
            "accountList", self._client("sso", region).list_accounts, accessToken=access_token
        )

    async def list_account_roles(
        self, region: str, access_token: str, account_id: str
    ) -> list[str]:
        roles = await self._all_pages(
            "roleList",
            self._client("sso", region).list_account_roles,
            accessToken=access_token,
            accountId=account_id,
        )
        return [role["roleName"] for role in roles]

    async def role_credentials(
        self, region: str, access_token: str, account_id: str, role_name: str
    ) -> Credentials:
        answer = await self._portal(
            self._client("sso", region).get_role_credentials,
            accessToken=access_token,
            accountId=account_id,
            roleName=role_name,
        )
        found = answer["roleCredentials"]
        return Credentials(
            found["accessKeyId"],
            found["secretAccessKey"],
            found["sessionToken"],
            datetime.fromtimestamp(found["expiration"] / 1000, UTC),
        )

    async def logout(self, region: str, access_token: str) -> None:
        await _call(self._client("sso", region).logout, accessToken=access_token)

    async def _all_pages(self, key: str, operation: Callable[..., Any], **kw: Any) -> list[Any]:
        items: list[Any] = []
        next_token: str | None = None
        while True:
            page_kw = {**kw, "nextToken": next_token} if next_token else kw
            page = await self._portal(operation, **page_kw)
            items.extend(page.get(key, []))
            next_token = page.get("nextToken")
            if not next_token:
                return items

    async def _portal(self, operation: Callable[..., Any], **kw: Any) -> Any:
        """A portal call, retried with jittered exponential back-off while throttled."""
        for attempt in range(1, self._max_attempts + 1):
            try:
                return await _call(operation, **kw)
            except _Throttled:
                if attempt == self._max_attempts:
                    break
                delay = self._backoff * 2 ** (attempt - 1) * (0.5 + random.random())  # noqa: S311
                log.info("sso.portal.throttled", attempt=attempt, delay=round(delay, 3))
                await asyncio.sleep(delay)
        raise DependencyUnavailable("AWS is throttling the SSO portal; retry in a moment")

    # STS and Identity Store

    async def caller_arn(self, region: str, credentials: Credentials) -> str:
        sts = self._signed_client("sts", region, credentials)
        return (await _call(sts.get_caller_identity))["Arn"]

    async def assume_role(
        self, region: str, role_arn: str, session_name: str, external_id: str | None
    ) -> Credentials:
        """AssumeRole as Cloudivize's own principal (credentials from the environment)."""
        sts = self._signed_client("sts", region, None)
        extra: dict[str, Any] = {"ExternalId": external_id} if external_id else {}
        answer = await _call(
            sts.assume_role, RoleArn=role_arn, RoleSessionName=session_name, **extra
        )
        found = answer["Credentials"]
        return Credentials(
            found["AccessKeyId"],
            found["SecretAccessKey"],
            found["SessionToken"],
            found["Expiration"],
        )

    async def directory_user(
        self, region: str, credentials: Credentials, identity_store_id: str, user_name: str
    ) -> dict[str, Any] | None:
        store = self._signed_client("identitystore", region, credentials)
        answer = await _call(
            store.list_users,
            IdentityStoreId=identity_store_id,
            Filters=[{"AttributePath": "UserName", "AttributeValue": user_name}],
        )
        users = answer.get("Users", [])
        return users[0] if users else None


class _Throttled(Exception):
    pass


THROTTLING = {"TooManyRequestsException", "ThrottlingException", "Throttling"}
INVALID_TOKEN = {"UnauthorizedException", "InvalidGrantException", "ExpiredTokenException"}
NOT_PERMITTED = {"ForbiddenException", "AccessDenied", "AccessDeniedException"}


async def _call(
    operation: Callable[..., T],
    *,
    outcomes: Mapping[str, type[Exception]] | None = None,
    **kw: Any,
) -> T:
    """Run one boto3 call in a thread and turn its failure into this module's outcomes."""
    try:
        return await asyncio.to_thread(operation, **kw)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise _outcome(code, outcomes or {}) from None
    except BotoCoreError as error:
        log.warning("aws.unreachable", error=type(error).__name__)
        raise DependencyUnavailable("AWS cannot be reached; retry in a moment") from None


def _outcome(code: str, outcomes: Mapping[str, type[Exception]]) -> Exception:
    if code in outcomes:
        return outcomes[code]()
    if code in THROTTLING:
        return _Throttled()
    if code in INVALID_TOKEN:
        return SsoTokenInvalid()
    if code in NOT_PERMITTED:
        return NotPermitted()
    # Only the code is logged: AWS messages can echo request parameters.
    log.warning("aws.refused", code=code)
    return AwsRefused(f"AWS refused the request ({code})")
