"""The gateway's guard on every request: body size, CSRF, security headers, cookies.

CSRF uses a double-submit token bound to this browser: a random value in an HttpOnly
cookie that pages embed in their forms (field `csrf_token`) and in a meta tag that
scripts send back as `X-CSRF-Token`. A cross-site page can neither read the cookie nor
the page, so it cannot produce the matching value. Every POST, PUT, PATCH and DELETE
must carry it, sign-up and login included (a forged login is an attack too), and a
request whose `Origin` names another site is refused before that.
"""

import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from services.gateway.errors import render_error

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SESSION_COOKIE = "cloudivize_session"
CSRF_COOKIE = "cloudivize_csrf"
SSO_BINDING_COOKIE = "cloudivize_sso_binding"
SSO_ATTEMPT_COOKIE = "cloudivize_sso_attempt"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    # Pages carry device codes and account IDs; none of it may leak in a Referer.
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
}


def new_token() -> str:
    return secrets.token_urlsafe(32)


def secure_cookies(request: Request) -> bool:
    """Secure everywhere except plain-HTTP localhost, where a browser would drop it."""
    return not (request.url.scheme == "http" and request.url.hostname in LOCAL_HOSTS)


def set_cookie(
    response: Response, request: Request, name: str, value: str, *, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(
        name, path="/", httponly=True, samesite="lax", secure=secure_cookies(request)
    )


def csrf_token(request: Request) -> str:
    return str(request.state.csrf_token)


class Guard:
    """Pure ASGI middleware, so that the body it checks is the body the route reads."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        cookie = request.cookies.get(CSRF_COOKIE, "")
        token = cookie if _well_formed(cookie) else new_token()
        scope.setdefault("state", {})["csrf_token"] = token
        send = _decorated(send, request, None if token == cookie else token)

        refusal, receive = await self._check(request, receive, cookie)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _check(
        self, request: Request, receive: Receive, cookie: str
    ) -> tuple[Response | None, Receive]:
        path = request.url.path
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            return _too_large(path, self.max_body), receive
        if request.method not in UNSAFE:
            return None, receive

        body = await _read_at_most(receive, self.max_body)
        if body is None:
            return _too_large(path, self.max_body), receive
        problem = _csrf_problem(request, body, cookie)
        if problem is not None:
            return render_error(path, 403, "csrf_failed", problem), receive
        return None, _replay(body)


def _well_formed(value: str) -> bool:
    return 32 <= len(value) <= 64 and all(c.isalnum() or c in "-_" for c in value)


def _too_large(path: str, limit: int) -> Response:
    return render_error(path, 413, "payload_too_large", f"the body exceeds {limit} bytes")


def _csrf_problem(request: Request, body: bytes, cookie: str) -> str | None:
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        return "the request came from another site"
    sent = request.headers.get(CSRF_HEADER) or _form_token(request, body)
    if not cookie or not sent:
        return "the form has expired or was not sent from Cloudivize; reload the page"
    if not secrets.compare_digest(sent.encode(), cookie.encode()):
        return "the form has expired; reload the page and try again"
    return None


def _form_token(request: Request, body: bytes) -> str | None:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    try:
        values = parse_qs(body.decode(), max_num_fields=100).get(CSRF_FIELD)
    except (UnicodeDecodeError, ValueError):
        return None
    return values[0] if values else None


async def _read_at_most(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it grows past `limit` (a lying Content-Length)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _decorated(send: Send, request: Request, new_csrf: str | None) -> Send:
    """Adds the security headers, no-store caching and a first CSRF cookie to responses."""
    cookie_header: bytes | None = None
    if new_csrf is not None:
        probe = Response()
        set_cookie(probe, request, CSRF_COOKIE, new_csrf)
        cookie_header = probe.headers["set-cookie"].encode()
    static = request.url.path.startswith("/static/")

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {name.lower() for name, _ in headers}
            for name, value in SECURITY_HEADERS.items():
                if name.encode() not in present:
                    headers.append((name.encode(), value.encode()))
            if not static and b"cache-control" not in present:
                headers.append((b"cache-control", b"no-store"))
            if cookie_header is not None:
                headers.append((b"set-cookie", cookie_header))
            message["headers"] = headers
        await send(message)

    return wrapped
