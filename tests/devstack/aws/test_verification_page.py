"""The device verification page and portal, driven with plain HTTP like a browser."""

import httpx
import pytest

from tests.devstack.aws.browser import decide, hidden_field, register, sign_in, start


@pytest.fixture
def browser(emulator):
    with httpx.Client(base_url=emulator.url) as session:
        yield session


@pytest.fixture
def device(client, info):
    oidc = client("sso-oidc")
    return start(oidc, register(oidc, clientName="Cloudivize"), info)


def _password(info, user_name):
    return next(u["password"] for u in info["users"] if u["user_name"] == user_name)


def test_verification_link_asks_for_sign_in_first(browser, device):
    page = browser.get(device["verificationUriComplete"])

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'name="username"' in page.text
    assert 'type="password"' in page.text
    assert "<script" not in page.text


def test_authorize_page_names_the_client_as_aws_does(browser, device, info):
    page = sign_in(browser, device["verificationUriComplete"], "alice", _password(info, "alice"))

    assert page.status_code == 200
    assert "Authorize request" in page.text
    assert "Sign in to AWS CLI" in page.text
    assert "Cloudivize" in page.text
    assert device["userCode"] in page.text
    assert ">Allow access</button>" in page.text
    assert ">Deny</button>" in page.text


def test_wrong_password_is_refused(browser, device):
    page = sign_in(browser, device["verificationUriComplete"], "alice", "not-the-password")

    assert page.status_code == 401
    assert "Incorrect user name or password." in page.text
    assert "aws-emulator-portal" not in browser.cookies


def test_user_outside_the_identity_store_is_refused(browser, device, info):
    page = sign_in(browser, device["verificationUriComplete"], "mallory", _password(info, "alice"))

    assert page.status_code == 401


def test_bare_verification_uri_asks_for_the_code(browser, device):
    page = browser.get("/device")
    entered = browser.get("/device", params={"user_code": device["userCode"].lower()})

    assert 'name="user_code"' in page.text
    assert 'name="username"' in entered.text


def test_unknown_code_is_explained(browser):
    page = browser.get("/device", params={"user_code": "ZZZZ-ZZZZ"})

    assert page.status_code == 400
    assert "not valid" in page.text


def test_decision_needs_the_forms_csrf_token(browser, device, info):
    page = sign_in(browser, device["verificationUriComplete"], "alice", _password(info, "alice"))

    forged = browser.post(
        "/device/decision",
        data={"user_code": hidden_field(page.text, "user_code"), "csrf": "x", "decision": "allow"},
    )

    assert forged.status_code == 403


def test_a_code_cannot_be_approved_twice(browser, device, info):
    page = sign_in(browser, device["verificationUriComplete"], "alice", _password(info, "alice"))

    decide(browser, page.text, "allow")
    again = decide(browser, page.text, "allow")

    assert again.status_code == 400


def test_sign_in_only_redirects_within_the_site(browser, info):
    answer = browser.post(
        "/login",
        data={"username": "alice", "password": _password(info, "alice"), "next": "//evil.example/"},
    )

    assert answer.status_code == 303
    assert answer.headers["location"] == "/start"


def test_portal_start_page_lists_the_users_accounts(browser, info):
    browser.post("/login", data={"username": "bob", "password": _password(info, "bob")})

    page = browser.get("/start")

    assert "Signed in as bob." in page.text
    assert "Development" in page.text
    assert "Staging" in page.text
    assert "Production" not in page.text


def test_password_set_through_the_emulator_is_used(browser, emulator, device, info, client):
    store = client("identitystore")
    store.create_user(
        IdentityStoreId=info["identity_store_id"],
        UserName="dave",
        DisplayName="Dave Diaz",
        Name={"GivenName": "Dave", "FamilyName": "Diaz"},
    )

    set_answer = httpx.post(
        f"{emulator.url}/_emulator/passwords", json={"user_name": "dave", "password": "Dave-42"}
    )
    refused = sign_in(browser, device["verificationUriComplete"], "dave", _password(info, "bob"))
    accepted = sign_in(browser, device["verificationUriComplete"], "dave", "Dave-42")

    assert set_answer.status_code == 204
    assert refused.status_code == 401
    assert "Signed in as dave." in accepted.text


def test_setting_a_password_needs_both_fields(emulator):
    answer = httpx.post(f"{emulator.url}/_emulator/passwords", json={"user_name": "dave"})

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
