"""The emulated access portal a person uses in a browser.

`/device` is the device verification page: sign in with an Identity Store
user's name and password, then allow or deny the request. `/start` is the
portal's landing page listing the accounts and roles granted to the user.
Plain HTML forms; no JavaScript.
"""

import html
import logging
import secrets
import threading
from dataclasses import dataclass
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from .directory import Directory, DirectoryUser
from .oidc import DeviceCodeUnusable, OidcService
from .settings import EmulatorSettings

log = logging.getLogger("devstack.aws.pages")

COOKIE = "aws-emulator-portal"
STYLE = (
    "body{font-family:sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#16191f}"
    "form{margin:1rem 0}label{display:block;margin:.6rem 0}input{display:block;width:100%;"
    "padding:.4rem}button{padding:.5rem 1rem;margin-right:.5rem}.error{color:#d13212}"
    ".code{font-family:monospace;font-size:1.3rem}"
)


@dataclass(frozen=True)
class PortalSession:
    user: DirectoryUser
    csrf: str


class PortalPages:
    """Sign-in, device approval and the account list, with a cookie session."""

    def __init__(self, settings: EmulatorSettings, oidc: OidcService, directory: Directory):
        self.settings = settings
        self.oidc = oidc
        self.directory = directory
        self.passwords: dict[str, str] = {}
        self.sessions: dict[str, PortalSession] = {}
        self.lock = threading.Lock()

    def set_password(self, user_name: str, password: str) -> None:
        with self.lock:
            self.passwords[user_name] = password

    def password_of(self, user_name: str) -> str:
        return self.passwords.get(user_name, self.settings.default_password)

    def _session(self, request: Request) -> PortalSession | None:
        session = self.sessions.get(request.cookies.get(COOKIE, ""))
        # A user deleted from the Identity Store loses the portal at once.
        if session and self.directory.find_user(session.user.user_name) is None:
            return None
        return session

    def device(self, request: Request) -> Response:
        """GET /device: ask for the code, sign in, then show the authorize page."""
        user_code = request.args.get("user_code", "").strip().upper()
        if not user_code:
            return _page("Authorize request", _code_form())
        try:
            device = self.oidc.find_pending(user_code)
        except DeviceCodeUnusable as problem:
            return _page("Authorize request", _error(str(problem)) + _code_form(), 400)

        session = self._session(request)
        if session is None:
            return _page("Sign in", _sign_in_form(f"/device?user_code={quote(user_code)}"))
        return _page("Authorize request", _authorize(device.client.name, user_code, session))

    def sign_in(self, request: Request) -> Response:
        """POST /login: check the Identity Store user's password and set the cookie."""
        user_name = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        target = _safe_next(request.form.get("next", "/start"))
        user = self.directory.find_user(user_name)
        if user is None or not secrets.compare_digest(password, self.password_of(user_name)):
            log.info("sso.portal.sign_in_failed user_name=%s", user_name)
            form = _error("Incorrect user name or password.") + _sign_in_form(target)
            return _page("Sign in", form, 401)

        session_id = secrets.token_urlsafe(32)
        with self.lock:
            self.sessions[session_id] = PortalSession(user, secrets.token_urlsafe(16))
        log.info("sso.portal.signed_in user_name=%s", user_name)
        response = Response(status=303, headers={"Location": target})
        response.set_cookie(COOKIE, session_id, httponly=True, samesite="Lax")
        return response

    def decide(self, request: Request) -> Response:
        """POST /device/decision: allow or deny the pending request."""
        session = self._session(request)
        user_code = request.form.get("user_code", "").strip().upper()
        if session is None:
            return _page("Sign in", _sign_in_form(f"/device?user_code={quote(user_code)}"), 401)
        if not secrets.compare_digest(request.form.get("csrf", ""), session.csrf):
            return _page("Authorize request", _error("The form has expired; reload it."), 403)

        allow = request.form.get("decision") == "allow"
        try:
            self.oidc.decide(user_code, session.user.user_id, session.user.user_name, allow)
        except DeviceCodeUnusable as problem:
            return _page("Authorize request", _error(str(problem)), 400)
        if allow:
            text = "Request approved. You can close this window and return to the application."
            return _page("Request approved", f"<p>{text}</p>")
        return _page("Request denied", "<p>Request denied. You can close this window.</p>")

    def start(self, request: Request) -> Response:
        """GET /start: the access portal, listing the user's accounts and roles."""
        session = self._session(request)
        if session is None:
            return _page("Sign in", _sign_in_form("/start"))
        grants = self.directory.grants_of(session.user.user_id)
        rows = "".join(
            f"<li>{_e(self.directory.account_info(g.account_id)['accountName'])} "
            f"({_e(g.account_id)}): {_e(g.permission_set.name)}</li>"
            for g in grants
        )
        body = (
            f"<p>Signed in as {_e(session.user.user_name)}.</p>"
            f"<h2>AWS accounts</h2><ul>{rows or '<li>No accounts assigned.</li>'}</ul>"
        )
        return _page("AWS access portal", body)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _safe_next(target: str) -> str:
    # Only paths on this site, so the sign-in form cannot redirect elsewhere.
    if target.startswith("/") and not target.startswith("//"):
        return target
    return "/start"


def _page(title: str, body: str, status: int = 200) -> Response:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{_e(title)}</h1>{body}</body></html>"
    )
    return Response(document, status=status, content_type="text/html; charset=utf-8")


def _error(message: str) -> str:
    return f'<p class="error" role="alert">{_e(message)}</p>'


def _code_form() -> str:
    return (
        '<form method="get" action="/device"><label>Code'
        '<input name="user_code" autocomplete="off" required></label>'
        '<button type="submit">Next</button></form>'
    )


def _sign_in_form(target: str) -> str:
    return (
        '<form method="post" action="/login">'
        f'<input type="hidden" name="next" value="{_e(target)}">'
        '<label>Username<input name="username" autocomplete="username" required></label>'
        '<label>Password<input name="password" type="password" '
        'autocomplete="current-password" required></label>'
        '<button type="submit">Sign in</button></form>'
    )


def _authorize(client_name: str, user_code: str, session: PortalSession) -> str:
    return (
        "<h2>Sign in to AWS CLI</h2>"
        f"<p>The application <strong>{_e(client_name)}</strong> is requesting access to your "
        "AWS IAM Identity Center data.</p>"
        f'<p>Code: <span class="code">{_e(user_code)}</span></p>'
        f"<p>Signed in as {_e(session.user.user_name)}.</p>"
        '<form method="post" action="/device/decision">'
        f'<input type="hidden" name="user_code" value="{_e(user_code)}">'
        f'<input type="hidden" name="csrf" value="{_e(session.csrf)}">'
        '<button type="submit" name="decision" value="allow">Allow access</button>'
        '<button type="submit" name="decision" value="deny">Deny</button></form>'
    )
