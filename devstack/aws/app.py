"""The emulator's WSGI application: one endpoint for every emulated API.

Requests unsigned or signed for `sso-oauth` / `awsssoportal` that hit an SSO
OIDC, SSO portal, portal page or `/_emulator` path are answered here.
`sts:AssumeRole` is checked against the role's trust policy. Everything
else goes to moto's own server application unchanged.
"""

import json
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from .directory import Directory
from .errors import AwsError, invalid_request, portal_error
from .moto_gateway import MotoGateway
from .oidc import OidcService
from .pages import PortalPages
from .portal import PortalService
from .principals import ensure_cloudivize_principal
from .settings import (
    CLOUDIVIZE_ACCESS_KEY_ID,
    CLOUDIVIZE_ACCOUNT_ID,
    CLOUDIVIZE_SECRET_ACCESS_KEY,
    MANAGEMENT_ACCOUNT_ID,
    EmulatorSettings,
)
from .sts_guard import Signature, check_assume_role, read_signature

log = logging.getLogger("devstack.aws.app")

OWN_SIGNING_NAMES = {"sso-oauth", "awsssoportal"}
OIDC_PATHS = {"/client/register", "/device_authorization", "/token"}
PORTAL_PATHS = {"/assignment/accounts", "/assignment/roles", "/federation/credentials", "/logout"}

Handler = Callable[[Request], Response]


def _json(body: dict[str, Any] | None, status: int = 200) -> Response:
    return Response(
        json.dumps(body) if body is not None else "",
        status=status,
        content_type="application/json",
        headers={"x-amzn-RequestId": str(uuid.uuid4())},
    )


def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.get_data() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise invalid_request("Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid_request("Request body must be a JSON object")
    return body


def _bearer(request: Request) -> str | None:
    # The header is `x-amz-sso_bearer_token`; the server keeps its underscore.
    return request.environ.get("HTTP_X_AMZ_SSO_BEARER_TOKEN")


def _emulator_error(error: str, detail: str, status: int = 400) -> Response:
    return Response(
        json.dumps({"error": error, "detail": detail}),
        status=status,
        content_type="application/json",
    )


class EmulatorApp:
    """Composition root: settings in, a WSGI callable out."""

    def __init__(self, settings: EmulatorSettings):
        self.settings = settings
        self.directory = Directory(settings)
        self.oidc = OidcService(settings)
        self.portal = PortalService(settings, self.oidc, self.directory)
        self.pages = PortalPages(settings, self.oidc, self.directory)
        self.moto = MotoGateway()
        self.cloudivize_principal_arn = ensure_cloudivize_principal()
        self.ready = threading.Event()
        self.routes: dict[tuple[str, str], Handler] = {
            ("POST", "/client/register"): self._register_client,
            ("POST", "/device_authorization"): self._start_device_authorization,
            ("POST", "/token"): self._create_token,
            ("GET", "/assignment/accounts"): self._list_accounts,
            ("GET", "/assignment/roles"): self._list_account_roles,
            ("GET", "/federation/credentials"): self._get_role_credentials,
            ("POST", "/logout"): self._logout,
            ("GET", "/device"): self.pages.device,
            ("POST", "/login"): self.pages.sign_in,
            ("POST", "/device/decision"): self.pages.decide,
            ("GET", "/start"): self.pages.start,
            ("GET", "/_emulator/info"): self._info,
            ("GET", "/_emulator/health"): lambda _: _json({"status": "ok"}),
            ("POST", "/_emulator/passwords"): self._set_password,
        }

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        signature = read_signature(request)
        response = self._dispatch(request, signature)
        if response is None:
            return self.moto(environ, start_response, signature.service if signature else None)
        return response(environ, start_response)

    def _dispatch(self, request: Request, signature: Signature | None) -> Response | None:
        if signature is None or signature.service in OWN_SIGNING_NAMES:
            return self._own(request)
        if signature.service == "sts":
            denied = check_assume_role(request, signature)
            return denied.to_response() if denied else None
        return None

    def _own(self, request: Request) -> Response | None:
        path = request.path.rstrip("/") or "/"
        handler = self.routes.get((request.method, path))
        if handler is None and path in OIDC_PATHS:
            return invalid_request(f"Unknown operation {request.method} {path}").to_response()
        if handler is None and path in PORTAL_PATHS:
            message = f"Unknown operation {request.method} {path}"
            return portal_error("InvalidRequestException", message, 400).to_response()
        if handler is None:
            return None
        try:
            return handler(request)
        except AwsError as error:
            return error.to_response()

    def _register_client(self, request: Request) -> Response:
        return _json(self.oidc.register_client(_json_body(request)))

    def _start_device_authorization(self, request: Request) -> Response:
        body = _json_body(request)
        return _json(self.oidc.start_device_authorization(body, request.host_url))

    def _create_token(self, request: Request) -> Response:
        if "aws_iam" in request.args:
            raise invalid_request("CreateTokenWithIAM is not emulated")
        return _json(self.oidc.create_token(_json_body(request)))

    def _list_accounts(self, request: Request) -> Response:
        token = self.portal.authorize(_bearer(request))
        return _json(self.portal.list_accounts(token, request.args.to_dict()))

    def _list_account_roles(self, request: Request) -> Response:
        token = self.portal.authorize(_bearer(request))
        return _json(self.portal.list_account_roles(token, request.args.to_dict()))

    def _get_role_credentials(self, request: Request) -> Response:
        token = self.portal.authorize(_bearer(request))
        return _json(self.portal.get_role_credentials(token, request.args.to_dict()))

    def _logout(self, request: Request) -> Response:
        bearer = _bearer(request)
        self.portal.authorize(bearer)
        self.portal.logout(bearer or "")
        return _json(None)

    def _info(self, request: Request) -> Response:
        """GET /_emulator/info: the demo organization, users and Cloudivize principal."""
        # Callers wait on this route, so it answers only once the seed is in.
        if not self.ready.is_set():
            return _emulator_error("starting", "The emulator is still starting", 503)
        return _json(self.info(request.host_url))

    def _set_password(self, request: Request) -> Response:
        """POST /_emulator/passwords: set an Identity Store user's portal password."""
        try:
            body = json.loads(request.get_data() or b"{}")
        except (ValueError, UnicodeDecodeError):
            return _emulator_error("invalid_json", "Request body is not valid JSON")
        user_name = body.get("user_name") if isinstance(body, dict) else None
        password = body.get("password") if isinstance(body, dict) else None
        if not isinstance(user_name, str) or not isinstance(password, str) or not password:
            return _emulator_error("invalid_request", "user_name and password are required")
        self.pages.set_password(user_name, password)
        return Response(status=204)

    def info(self, base_url: str) -> dict[str, Any]:
        """What tests and people need to know to use the emulated organization."""
        base_url = base_url.rstrip("/")
        users = [
            {
                "user_name": u.user_name,
                "password": self.pages.password_of(u.user_name),
                "display_name": u.display_name,
                "email": u.email,
            }
            for u in self.directory.users()
        ]
        return {
            "endpoint_url": base_url,
            # Shaped like AWS's, so the services validate it as they would a real one; it
            # only identifies the organization in StartDeviceAuthorization.
            "start_url": f"https://{self.directory.identity_store_id}.awsapps.com/start",
            "portal_url": f"{base_url}/start",
            "region": self.settings.region,
            "identity_store_id": self.directory.identity_store_id,
            "sso_instance_arn": self.directory.instance_arn,
            "management_account_id": MANAGEMENT_ACCOUNT_ID,
            "member_account_ids": self.directory.member_account_ids(),
            "users": users,
            "cloudivize_account_id": CLOUDIVIZE_ACCOUNT_ID,
            "cloudivize_principal_arn": self.cloudivize_principal_arn,
            "cloudivize_credentials": {
                "access_key_id": CLOUDIVIZE_ACCESS_KEY_ID,
                "secret_access_key": CLOUDIVIZE_SECRET_ACCESS_KEY,
            },
        }
