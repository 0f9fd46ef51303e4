"""SSO OIDC: client registration, the device authorization grant and tokens.

State lives in memory and is guarded by one lock, since the HTTP server
answers each request on its own thread.
"""

import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import invalid_request, oidc_error
from .settings import EmulatorSettings

log = logging.getLogger("devstack.aws.oidc")

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
KNOWN_GRANTS = {DEVICE_GRANT, REFRESH_GRANT, "authorization_code"}
# Letters a person will not misread when typing the code by hand.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"


@dataclass
class Client:
    client_id: str
    secret: str
    name: str
    grant_types: set[str]
    issued_at: float
    expires_at: float


@dataclass
class DeviceAuthorization:
    device_code: str
    user_code: str
    client: Client
    expires_at: float
    interval: float
    state: str = "pending"  # pending, approved, denied, redeemed
    user_id: str | None = None
    user_name: str | None = None
    last_poll: float | None = None


@dataclass
class AccessToken:
    user_id: str
    user_name: str
    client_id: str
    expires_at: float
    refresh_token: str | None = None


@dataclass
class RefreshToken:
    user_id: str
    user_name: str
    client_id: str


@dataclass
class OidcStore:
    # Nothing is ever purged: an emulator run is short and restarts empty.
    clients: dict[str, Client] = field(default_factory=dict)
    devices: dict[str, DeviceAuthorization] = field(default_factory=dict)
    user_codes: dict[str, str] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)


def _require_str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise invalid_request(f"Missing or invalid parameter: {name}")
    return value


def _optional_str_list(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid_request(f"Invalid parameter: {name} must be a list of strings")
    return value


def _new_user_code() -> str:
    letters = [secrets.choice(USER_CODE_ALPHABET) for _ in range(8)]
    return "".join(letters[:4]) + "-" + "".join(letters[4:])


class OidcService:
    """The three SSO OIDC operations, plus the approvals the verification page makes."""

    def __init__(self, settings: EmulatorSettings, clock: Callable[[], float] = time.time):
        self.settings = settings
        self.clock = clock
        self.store = OidcStore()
        self.lock = threading.Lock()

    def register_client(self, body: dict[str, Any]) -> dict[str, Any]:
        name = _require_str(body, "clientName")
        client_type = _require_str(body, "clientType")
        grant_types = set(_optional_str_list(body, "grantTypes"))
        _optional_str_list(body, "scopes")
        if client_type != "public":
            raise oidc_error(
                "InvalidClientMetadataException", "invalid_client_metadata", "Invalid client type"
            )
        if not grant_types <= KNOWN_GRANTS:
            raise oidc_error(
                "UnsupportedGrantTypeException", "unsupported_grant_type", "Invalid grant type"
            )

        now = self.clock()
        client = Client(
            client_id=secrets.token_urlsafe(16),
            secret=secrets.token_urlsafe(48),
            name=name,
            grant_types=grant_types,
            issued_at=now,
            expires_at=now + self.settings.client_expires_in,
        )
        with self.lock:
            self.store.clients[client.client_id] = client
        log.info("sso.client.registered client_name=%s", name)
        return {
            "clientId": client.client_id,
            "clientSecret": client.secret,
            "clientIdIssuedAt": int(client.issued_at),
            "clientSecretExpiresAt": int(client.expires_at),
        }

    def start_device_authorization(self, body: dict[str, Any], base_url: str) -> dict[str, Any]:
        client = self._authenticate_client(body)
        start_url = _require_str(body, "startUrl")
        if not _is_start_url(start_url):
            raise invalid_request("Invalid start URL")

        now = self.clock()
        device = DeviceAuthorization(
            device_code=secrets.token_urlsafe(48),
            user_code=_new_user_code(),
            client=client,
            expires_at=now + self.settings.device_code_expires_in,
            interval=self.settings.device_poll_interval,
        )
        with self.lock:
            self.store.devices[device.device_code] = device
            self.store.user_codes[device.user_code] = device.device_code
        log.info("sso.device.started client_name=%s", client.name)
        verification_uri = f"{base_url.rstrip('/')}/device"
        return {
            "deviceCode": device.device_code,
            "userCode": device.user_code,
            "verificationUri": verification_uri,
            "verificationUriComplete": f"{verification_uri}?user_code={device.user_code}",
            "expiresIn": math.ceil(self.settings.device_code_expires_in),
            "interval": math.ceil(device.interval),
        }

    def create_token(self, body: dict[str, Any]) -> dict[str, Any]:
        client = self._authenticate_client(body)
        grant_type = _require_str(body, "grantType")
        if grant_type == DEVICE_GRANT:
            return self._redeem_device_code(client, _require_str(body, "deviceCode"))
        if grant_type == REFRESH_GRANT:
            return self._redeem_refresh_token(client, _require_str(body, "refreshToken"))
        raise oidc_error(
            "UnsupportedGrantTypeException", "unsupported_grant_type", "Unsupported grant type"
        )

    def _authenticate_client(self, body: dict[str, Any]) -> Client:
        client_id = _require_str(body, "clientId")
        secret = _require_str(body, "clientSecret")
        client = self.store.clients.get(client_id)
        if client is None or not secrets.compare_digest(client.secret, secret):
            raise oidc_error("InvalidClientException", "invalid_client", "Invalid client", 401)
        if client.expires_at <= self.clock():
            raise oidc_error("InvalidClientException", "invalid_client", "Client expired", 401)
        return client

    def _redeem_device_code(self, client: Client, device_code: str) -> dict[str, Any]:
        with self.lock:
            device = self.store.devices.get(device_code)
            if device is None or device.client.client_id != client.client_id:
                raise oidc_error("InvalidGrantException", "invalid_grant", "Invalid device code")
            self._check_device_redeemable(device)
            device.state = "redeemed"
            assert device.user_id is not None
            assert device.user_name is not None
            response = self._issue_tokens(client, device.user_id, device.user_name)
        log.info("sso.token.issued grant=device_code user_name=%s", device.user_name)
        return response

    def _check_device_redeemable(self, device: DeviceAuthorization) -> None:
        now = self.clock()
        if device.state == "redeemed":
            raise oidc_error("InvalidGrantException", "invalid_grant", "Device code already used")
        if device.expires_at <= now:
            raise oidc_error("ExpiredTokenException", "expired_token", "Device code expired")
        if device.state == "denied":
            raise oidc_error("AccessDeniedException", "access_denied", "Access denied")
        if device.state == "approved":
            return

        # RFC 8628: polling faster than the interval is answered with slow_down.
        too_fast = device.last_poll is not None and now - device.last_poll < device.interval
        device.last_poll = now
        if too_fast:
            raise oidc_error("SlowDownException", "slow_down", "Client is polling too fast")
        raise oidc_error(
            "AuthorizationPendingException", "authorization_pending", "Authorization is pending"
        )

    def _redeem_refresh_token(self, client: Client, refresh_token: str) -> dict[str, Any]:
        with self.lock:
            grant = self.store.refresh_tokens.get(refresh_token)
            if grant is None or grant.client_id != client.client_id:
                raise oidc_error("InvalidGrantException", "invalid_grant", "Invalid refresh token")
            # Refresh tokens rotate: the one just used is spent.
            del self.store.refresh_tokens[refresh_token]
            response = self._issue_tokens(client, grant.user_id, grant.user_name)
        log.info("sso.token.issued grant=refresh_token user_name=%s", grant.user_name)
        return response

    def _issue_tokens(self, client: Client, user_id: str, user_name: str) -> dict[str, Any]:
        expires_in = self.settings.access_token_expires_in
        token = AccessToken(user_id, user_name, client.client_id, self.clock() + expires_in)
        access_token = "aoa" + secrets.token_urlsafe(48)
        response: dict[str, Any] = {
            "accessToken": access_token,
            "tokenType": "Bearer",
            "expiresIn": math.ceil(expires_in),
        }
        # AWS hands out refresh tokens only to clients registered for that grant.
        if REFRESH_GRANT in client.grant_types:
            token.refresh_token = "aor" + secrets.token_urlsafe(48)
            self.store.refresh_tokens[token.refresh_token] = RefreshToken(
                user_id, user_name, client.client_id
            )
            response["refreshToken"] = token.refresh_token
        self.store.access_tokens[access_token] = token
        return response

    def find_access_token(self, access_token: str) -> AccessToken | None:
        """The live grant behind a bearer token, or None if unknown, expired or revoked."""
        token = self.store.access_tokens.get(access_token)
        if token is None or token.expires_at <= self.clock():
            return None
        return token

    def revoke(self, access_token: str) -> None:
        with self.lock:
            token = self.store.access_tokens.pop(access_token, None)
            if token is not None and token.refresh_token:
                self.store.refresh_tokens.pop(token.refresh_token, None)

    def find_pending(self, user_code: str) -> DeviceAuthorization:
        """The device authorization a person may still approve, by its user code."""
        device_code = self.store.user_codes.get(user_code.strip().upper())
        device = self.store.devices.get(device_code or "")
        if device is None or device.state != "pending":
            raise DeviceCodeUnusable("This code is not valid or has already been used.")
        if device.expires_at <= self.clock():
            raise DeviceCodeUnusable("This code has expired. Start the sign-in again.")
        return device

    def decide(self, user_code: str, user_id: str, user_name: str, allow: bool) -> Client:
        with self.lock:
            device = self.find_pending(user_code)
            device.state = "approved" if allow else "denied"
            device.user_id, device.user_name = user_id, user_name
        log.info("sso.device.decided allowed=%s user_name=%s", allow, user_name)
        return device.client


class DeviceCodeUnusable(Exception):
    """A user code that is unknown, spent or expired, shown to the person as a page."""


def _is_start_url(start_url: str) -> bool:
    parts = urlsplit(start_url)
    return parts.scheme in ("http", "https") and parts.path.rstrip("/") == "/start"
