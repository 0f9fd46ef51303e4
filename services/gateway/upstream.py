"""Calls from the gateway to the services behind it, each signed with an internal identity.

An upstream's expected refusal (a 4xx with `{error, detail}`) passes through to the
browser unchanged; its failures become 502 and its absence 503, with no upstream text.
"""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import httpx

from shared.errors import AppError
from shared.identity import Identity, headers_for
from shared.logging import get_logger

log = get_logger(__name__)

SESSION_HEADER = "X-Cloudivize-Session"
GATEWAY = Identity(caller="gateway")


class UpstreamError(AppError):
    """A service refused the call; its status, code and reason are the answer."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail, error=error)
        self.status_code = HTTPStatus(status)


class UpstreamUnavailable(AppError):
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    error = "upstream_unavailable"


class UpstreamFailed(AppError):
    status_code = HTTPStatus.BAD_GATEWAY
    error = "upstream_failed"


class Upstreams:
    """One pooled HTTP client per service, signing every call as the gateway."""

    def __init__(
        self,
        base_urls: Mapping[str, str],
        signing_key: str,
        *,
        timeout: float,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self._key = signing_key
        self._clients = {
            name: httpx.AsyncClient(
                base_url=url, timeout=timeout, transport=(transports or {}).get(name)
            )
            for name, url in base_urls.items()
        }

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        identity: Identity = GATEWAY,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        session_token: str | None = None,
    ) -> Any:
        """The decoded JSON answer (None for an empty one), or the error that stands for it."""
        response = await self.send(
            service,
            method,
            path,
            identity=identity,
            json=json,
            params=params,
            session_token=session_token,
        )
        if response.is_success:
            return response.json() if response.content else None
        raise _refusal(service, response)

    async def send(
        self,
        service: str,
        method: str,
        path: str,
        *,
        identity: Identity = GATEWAY,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        session_token: str | None = None,
    ) -> httpx.Response:
        """The raw answer, for callers that interpret an upstream's statuses themselves."""
        headers = headers_for(identity, self._key)
        if session_token is not None:
            headers[SESSION_HEADER] = session_token
        try:
            return await self._clients[service].request(
                method, path, json=json, params=params, headers=headers
            )
        except httpx.HTTPError as error:
            log.warning(
                "upstream.unreachable",
                service=service,
                method=method,
                path=path,
                error=type(error).__name__,
            )
            raise UpstreamUnavailable(f"the {service} service is not reachable; retry") from None


def _refusal(service: str, response: httpx.Response) -> AppError:
    body = _json_or_none(response)
    status = response.status_code
    error = body.get("error") if isinstance(body, dict) else None
    # `unauthenticated` means our own signature was refused: a gateway fault, not the user's.
    if 400 <= status < 500 and error is not None and error != "unauthenticated":
        return UpstreamError(status, str(error), _detail(body.get("detail")))
    log.warning("upstream.failed", service=service, status=status)
    return UpstreamFailed(f"the {service} service could not complete the request")


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _detail(detail: Any) -> str:
    return detail if isinstance(detail, str) else "the request was refused"
