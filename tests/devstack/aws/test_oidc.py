"""SSO OIDC through boto3: the device authorization grant and its errors."""

import httpx
import pytest

from tests.devstack.aws.browser import DEVICE_GRANT, decide, redeem, register, sign_in, start


@pytest.fixture
def oidc(client):
    return client("sso-oidc")


@pytest.fixture
def browser(emulator):
    with httpx.Client(base_url=emulator.url) as session:
        yield session


def test_register_client_returns_credentials_and_expiry(oidc):
    answer = register(oidc)

    assert answer["clientId"]
    assert answer["clientSecret"]
    assert answer["clientSecretExpiresAt"] > answer["clientIdIssuedAt"]


def test_device_authorization_points_at_the_verification_page(oidc, emulator, info):
    device = start(oidc, register(oidc), info)

    assert device["verificationUri"] == f"{emulator.url}/device"
    assert device["verificationUriComplete"] == (
        f"{emulator.url}/device?user_code={device['userCode']}"
    )
    assert len(device["userCode"]) == 9
    assert device["userCode"][4] == "-"
    assert device["expiresIn"] == 600
    assert device["interval"] == 1


def test_token_is_pending_until_the_user_approves(oidc, info, browser):
    client = register(oidc)
    device = start(oidc, client, info)

    with pytest.raises(oidc.exceptions.AuthorizationPendingException) as pending:
        redeem(oidc, client, device)
    page = sign_in(
        browser, device["verificationUriComplete"], "alice", info["users"][0]["password"]
    )
    decide(browser, page.text, "allow")
    token = redeem(oidc, client, device)

    assert pending.value.response["error"] == "authorization_pending"
    assert token["accessToken"]
    assert token["tokenType"] == "Bearer"
    assert token["expiresIn"] > 0


def test_polling_faster_than_the_interval_is_told_to_slow_down(oidc, info, settings):
    settings.device_poll_interval = 60
    client = register(oidc)
    device = start(oidc, client, info)

    with pytest.raises(oidc.exceptions.AuthorizationPendingException):
        redeem(oidc, client, device)
    with pytest.raises(oidc.exceptions.SlowDownException) as slow:
        redeem(oidc, client, device)

    assert device["interval"] == 60
    assert slow.value.response["error"] == "slow_down"


def test_device_code_expires_after_expires_in(oidc, info, settings, browser):
    settings.device_code_expires_in = 0
    client = register(oidc)
    device = start(oidc, client, info)

    with pytest.raises(oidc.exceptions.ExpiredTokenException) as expired:
        redeem(oidc, client, device)
    page = browser.get(device["verificationUriComplete"])

    assert expired.value.response["error"] == "expired_token"
    assert page.status_code == 400
    assert "expired" in page.text


def test_denied_request_is_access_denied(oidc, info, browser):
    client = register(oidc)
    device = start(oidc, client, info)

    page = sign_in(browser, device["verificationUriComplete"], "bob", info["users"][1]["password"])
    result = decide(browser, page.text, "deny")
    with pytest.raises(oidc.exceptions.AccessDeniedException) as denied:
        redeem(oidc, client, device)

    assert "Request denied" in result.text
    assert denied.value.response["error"] == "access_denied"


def test_device_code_cannot_be_redeemed_twice(oidc, info, browser):
    client = register(oidc)
    device = start(oidc, client, info)
    page = sign_in(
        browser, device["verificationUriComplete"], "alice", info["users"][0]["password"]
    )
    decide(browser, page.text, "allow")

    redeem(oidc, client, device)
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        redeem(oidc, client, device)


def test_unknown_client_is_invalid_client(oidc, info):
    with pytest.raises(oidc.exceptions.InvalidClientException) as unknown:
        start(oidc, {"clientId": "nobody", "clientSecret": "nothing"}, info)

    assert unknown.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401


def test_wrong_client_secret_is_invalid_client(oidc, info):
    client = register(oidc)

    with pytest.raises(oidc.exceptions.InvalidClientException):
        start(oidc, {**client, "clientSecret": client["clientSecret"] + "x"}, info)


def test_expired_client_is_invalid_client(oidc, info, settings):
    settings.client_expires_in = 0
    client = register(oidc)

    with pytest.raises(oidc.exceptions.InvalidClientException) as expired:
        start(oidc, client, info)

    assert expired.value.response["error_description"] == "Client expired"


def test_device_code_of_another_client_is_invalid_grant(oidc, info):
    device = start(oidc, register(oidc), info)
    other = register(oidc)

    with pytest.raises(oidc.exceptions.InvalidGrantException):
        redeem(oidc, other, device)


def test_unknown_start_url_is_invalid_request(oidc, info):
    client = register(oidc)

    with pytest.raises(oidc.exceptions.InvalidRequestException):
        start(oidc, client, {"start_url": "https://elsewhere.example/portal"})


def test_refresh_token_grant_rotates_the_refresh_token(oidc, sign_in, client):
    grants = [DEVICE_GRANT, "refresh_token"]
    oidc_client = register(oidc, grantTypes=grants)
    first = _device_token(oidc_client, sign_in)

    second = _refresh(oidc, oidc_client, first["refreshToken"])
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        _refresh(oidc, oidc_client, first["refreshToken"])

    assert second["accessToken"] != first["accessToken"]
    assert second["refreshToken"] != first["refreshToken"]
    accounts = client("sso").list_accounts(accessToken=second["accessToken"])["accountList"]
    assert len(accounts) == 3


def test_no_refresh_token_without_the_refresh_grant(sign_in):
    token = sign_in("carol")

    assert "refreshToken" not in token


def test_unsupported_grant_type_is_rejected(oidc):
    client = register(oidc)

    with pytest.raises(oidc.exceptions.UnsupportedGrantTypeException):
        oidc.create_token(
            clientId=client["clientId"],
            clientSecret=client["clientSecret"],
            grantType="password",
        )


def test_refresh_token_of_another_client_is_invalid_grant(oidc, sign_in):
    grants = [DEVICE_GRANT, "refresh_token"]
    owner = register(oidc, grantTypes=grants)
    token = _device_token(owner, sign_in)

    with pytest.raises(oidc.exceptions.InvalidGrantException):
        _refresh(oidc, register(oidc, grantTypes=grants), token["refreshToken"])


def _device_token(oidc_client, sign_in):
    return sign_in("alice", oidc_client=oidc_client)


def _refresh(oidc, oidc_client, refresh_token):
    return oidc.create_token(
        clientId=oidc_client["clientId"],
        clientSecret=oidc_client["clientSecret"],
        grantType="refresh_token",
        refreshToken=refresh_token,
    )
