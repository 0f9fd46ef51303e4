"""The SSO portal API: what a signed-in user may reach, and credentials for it."""

import base64
import binascii
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .directory import Directory, Grant
from .errors import AwsError, portal_error
from .oidc import AccessToken, OidcService
from .principals import assume_sso_role
from .settings import EmulatorSettings

log = logging.getLogger("devstack.aws.portal")

MAX_PAGE_SIZE = 100


def _invalid(message: str) -> AwsError:
    return portal_error("InvalidRequestException", message, 400)


class RateLimiter:
    """A fixed window of `limit` calls per `window` seconds for each token."""

    def __init__(self, settings: EmulatorSettings, clock: Callable[[], float]):
        self.settings = settings
        self.clock = clock
        self.windows: dict[str, tuple[float, int]] = {}
        self.lock = threading.Lock()

    def check(self, key: str) -> None:
        now = self.clock()
        with self.lock:
            started, count = self.windows.get(key, (now, 0))
            if now - started >= self.settings.portal_rate_window:
                started, count = now, 0
            self.windows[key] = (started, count + 1)
        if count >= self.settings.portal_rate_limit:
            raise portal_error("TooManyRequestsException", "Rate exceeded", 429)


def _page(items: list[Any], kind: str, max_result: str | None, next_token: str | None):
    size = _page_size(max_result)
    offset = _decode_token(next_token, kind) if next_token else 0
    end = offset + size
    token = _encode_token(kind, end) if end < len(items) else None
    return items[offset:end], token


def _page_size(max_result: str | None) -> int:
    if max_result is None:
        return MAX_PAGE_SIZE
    if not max_result.isdigit() or int(max_result) < 1:
        raise _invalid("maxResults must be a number from 1 to 100")
    return min(int(max_result), MAX_PAGE_SIZE)


def _encode_token(kind: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}|{offset}".encode()).decode()


def _decode_token(token: str, kind: str) -> int:
    try:
        token_kind, offset = base64.urlsafe_b64decode(token.encode()).decode().rsplit("|", 1)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _invalid("Invalid nextToken") from None
    if token_kind != kind or not offset.isdigit():
        raise _invalid("Invalid nextToken")
    return int(offset)


class PortalService:
    """ListAccounts, ListAccountRoles, GetRoleCredentials and Logout."""

    def __init__(
        self,
        settings: EmulatorSettings,
        oidc: OidcService,
        directory: Directory,
        clock: Callable[[], float] = time.time,
    ):
        self.settings = settings
        self.oidc = oidc
        self.directory = directory
        self.limiter = RateLimiter(settings, clock)

    def authorize(self, bearer: str | None) -> AccessToken:
        """The grant behind a bearer token, counted against the rate limit."""
        token = self.oidc.find_access_token(bearer) if bearer else None
        # A user deleted from the Identity Store loses their sessions, as in AWS.
        if token is not None and self.directory.find_user_by_id(token.user_id) is None:
            token = None
        if token is None:
            raise portal_error("UnauthorizedException", "Session token not found or invalid", 401)
        self.limiter.check(bearer or "")
        return token

    def _grants(self, token: AccessToken) -> list[Grant]:
        return self.directory.grants_of(token.user_id)

    def list_accounts(self, token: AccessToken, query: dict[str, str]) -> dict[str, Any]:
        account_ids = sorted({g.account_id for g in self._grants(token)})
        page, next_token = _page(
            account_ids, "accounts", query.get("max_result"), query.get("next_token")
        )
        body: dict[str, Any] = {"accountList": [self.directory.account_info(a) for a in page]}
        if next_token:
            body["nextToken"] = next_token
        return body

    def list_account_roles(self, token: AccessToken, query: dict[str, str]) -> dict[str, Any]:
        account_id = _require(query, "account_id")
        names = sorted(
            {g.permission_set.name for g in self._grants(token) if g.account_id == account_id}
        )
        page, next_token = _page(
            names, f"roles:{account_id}", query.get("max_result"), query.get("next_token")
        )
        body: dict[str, Any] = {
            "roleList": [{"roleName": n, "accountId": account_id} for n in page]
        }
        if next_token:
            body["nextToken"] = next_token
        return body

    def get_role_credentials(self, token: AccessToken, query: dict[str, str]) -> dict[str, Any]:
        account_id = _require(query, "account_id")
        role_name = _require(query, "role_name")
        grant = next(
            (
                g
                for g in self._grants(token)
                if g.account_id == account_id and g.permission_set.name == role_name
            ),
            None,
        )
        if grant is None:
            raise portal_error("ForbiddenException", "No access", 403)

        session = assume_sso_role(
            account_id,
            grant.permission_set,
            token.user_name,
            self.settings.region,
            self.settings.role_session_duration,
        )
        log.info(
            "sso.credentials.issued user_name=%s account_id=%s role_name=%s",
            token.user_name,
            account_id,
            role_name,
        )
        return {
            "roleCredentials": {
                "accessKeyId": session.access_key_id,
                "secretAccessKey": session.secret_access_key,
                "sessionToken": session.session_token,
                "expiration": _epoch_millis(session.expiration),
            }
        }

    def logout(self, bearer: str) -> None:
        self.oidc.revoke(bearer)
        log.info("sso.session.logged_out")


def _epoch_millis(moment: datetime) -> int:
    # Moto keeps naive UTC datetimes; AWS sends milliseconds since the epoch.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _require(query: dict[str, str], name: str) -> str:
    value = query.get(name)
    if not value:
        raise _invalid(f"Missing required parameter: {name}")
    return value
