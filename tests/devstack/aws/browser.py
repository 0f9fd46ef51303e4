"""The verification page, clicked through with plain HTTP as a browser would."""

import re
from typing import Any

import httpx

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def hidden_field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name} in the page"
    return match.group(1)


def sign_in(browser: httpx.Client, verification_uri: str, user_name: str, password: str):
    """Open the verification link and sign in; return the page shown after sign-in."""
    page = browser.get(verification_uri)
    target = hidden_field(page.text, "next")
    return browser.post(
        "/login",
        data={"username": user_name, "password": password, "next": target},
        follow_redirects=True,
    )


def decide(browser: httpx.Client, authorize_page: str, decision: str) -> httpx.Response:
    """Press "Allow access" (allow) or "Deny" (deny) on the authorize page."""
    return browser.post(
        "/device/decision",
        data={
            "user_code": hidden_field(authorize_page, "user_code"),
            "csrf": hidden_field(authorize_page, "csrf"),
            "decision": decision,
        },
    )


def register(oidc: Any, **register: Any) -> dict[str, Any]:
    arguments = {"clientName": "cloudivize-test", "clientType": "public", **register}
    return oidc.register_client(**arguments)


def start(oidc: Any, client: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    return oidc.start_device_authorization(
        clientId=client["clientId"],
        clientSecret=client["clientSecret"],
        startUrl=info["start_url"],
    )


def redeem(oidc: Any, client: dict[str, Any], device: dict[str, Any]) -> dict[str, Any]:
    return oidc.create_token(
        clientId=client["clientId"],
        clientSecret=client["clientSecret"],
        grantType=DEVICE_GRANT,
        deviceCode=device["deviceCode"],
    )


def run_device_flow(
    oidc: Any,
    base_url: str,
    info: dict[str, Any],
    user_name: str,
    password: str,
    oidc_client: dict[str, Any] | None = None,
) -> dict[str, Any]:
    client = oidc_client or register(oidc)
    device = start(oidc, client, info)
    with httpx.Client(base_url=base_url) as browser:
        page = sign_in(browser, device["verificationUriComplete"], user_name, password)
        decide(browser, page.text, "allow").raise_for_status()
    return redeem(oidc, client, device)
