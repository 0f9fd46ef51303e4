"""One company's life in Cloudivize, clicked through in headless Chromium.

The root user signs up, links an AWS account through the emulator and switches to SSO;
an SSO user signs in in two tabs through the emulator's verification page; the admin
limits, removes and finally locks them out. Each step leaves a screenshot.
"""

import json
import re
import uuid
from typing import Any

import boto3
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from services.tenants.templates import trust_policy
from tests.e2e.conftest import Shots, emulator_user
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"


def sign_up(page: Page, stack: Stack, company: str, email: str) -> None:
    page.goto(f"{stack.gateway}/signup")
    page.get_by_label("Company name").fill(company)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Your AWS accounts")).to_be_visible()


def password_login(page: Page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your AWS accounts")).to_be_visible()


def signed_in_again(page: Page, stack: Stack, email: str, path: str) -> None:
    """auth ends every session of a tenant it deactivates or disconnects from SSO, the root
    user's too, once it consumes the event. Wait (bounded) for that, then sign in again, so
    the new session is not one the event still ends."""
    for _ in range(40):
        page.goto(f"{stack.gateway}{path}")
        if page.get_by_role("heading", name="Sign in").count():
            password_login(page, email)
            page.goto(f"{stack.gateway}{path}")
            return
        page.wait_for_timeout(500)


def customer_role(stack: Stack, external_id: str) -> str:
    """What the customer's CloudFormation stack creates: a role trusting Cloudivize."""
    trust = trust_policy(stack.emulator["cloudivize_principal_arn"], external_id)
    iam = boto3.client(
        "iam",
        endpoint_url=stack.urls["aws"],
        region_name="us-east-1",
        aws_access_key_id="AKIACUSTOMERE2E00001",
        aws_secret_access_key="customer",
    )
    name = f"CloudivizeReadOnly{uuid.uuid4().hex[:6]}"
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def sso_login(
    context: BrowserContext, stack: Stack, slug: str, user_name: str, shot: Shots, label: str
) -> Page:
    """The SSO user's login in two tabs: Cloudivize's landing and AWS's verification page."""
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{stack.gateway}/sso/{slug}")
    expect(page.get_by_text('"Sign in to AWS CLI"').first).to_be_visible()
    shot(page, f"{label}-landing")
    with context.expect_page() as opened:
        page.get_by_role("button", name="Approve access to Cloudivize").click()
    aws = opened.value
    aws.wait_for_url(re.compile(r".*/device\?user_code=.*"))
    aws.wait_for_load_state()
    if aws.get_by_label("Username").count():  # not yet signed in to the AWS portal
        aws.get_by_label("Username").fill(user_name)
        aws.get_by_label("Password").fill(emulator_user(stack, user_name)["password"])
        aws.get_by_role("button", name="Sign in").click()
    expect(aws.get_by_role("heading", name="Sign in to AWS CLI")).to_be_visible()
    shot(aws, f"{label}-aws-authorize")
    aws.get_by_role("button", name="Allow access").click()
    expect(aws.get_by_role("heading", name="Request approved")).to_be_visible()
    shot(aws, f"{label}-aws-approved")
    aws.close()
    page.get_by_role("button", name="Continue to Cloudivize").click()
    expect(page.get_by_role("heading", name="Your AWS accounts")).to_be_visible()
    shot(page, f"{label}-home")
    return page


def account_names(page: Page) -> set[str]:
    rows = page.locator("tbody tr[data-account-id] th")
    return {re.sub(r"\s+\d{12}$", "", text.strip()) for text in rows.all_inner_texts()}


def account_ids(page: Page) -> set[str]:
    ids = page.locator("tbody tr[data-account-id]").evaluate_all(
        "rows => rows.map(r => r.dataset.accountId)"
    )
    return set(ids)


def user_row(admin: Page, name: str) -> Any:
    # Names and emails come from the Identity Store when the tenant lets Cloudivize read it;
    # otherwise the cache knows the user by their portal user name.
    return admin.locator("tbody tr").filter(has=admin.get_by_role("rowheader", name=name))


def manage_users_until(admin: Page, stack: Stack, name: str, count: int) -> None:
    """The user cache learns of logins through events: reload until it has caught up."""
    for _ in range(60):
        admin.goto(f"{stack.gateway}/settings/users")
        if user_row(admin, name).count() == count:
            return
        admin.wait_for_timeout(500)
    expect(user_row(admin, name)).to_have_count(count)


def test_a_company_links_aws_switches_to_sso_and_controls_its_users(
    stack: Stack, person: Any, shot: Shots
) -> None:
    company = f"Journey {uuid.uuid4().hex[:6]}"
    root_email = f"root-{uuid.uuid4().hex[:6]}@journey.example"
    bob = emulator_user(stack, "bob")

    # 1. sign-up
    root_browser = person("root")
    admin = root_browser.new_page()
    sign_up(admin, stack, company, root_email)
    shot(admin, "signed-up")

    # 2. link an AWS account through the emulator
    admin.goto(f"{stack.gateway}/settings")
    external_id = admin.locator("#external-id").inner_text().strip()
    role_arn = customer_role(stack, external_id)
    admin.get_by_label("AWS account ID").fill(role_arn.split(":")[4])
    admin.get_by_label("Role ARN").fill(role_arn)
    admin.get_by_role("button", name="Link account").click()
    expect(admin.get_by_text("The AWS account was linked.")).to_be_visible()
    expect(
        admin.locator(f"tr[data-account-id='{role_arn.split(':')[4]}'] .validation")
    ).to_have_text(re.compile("^valid"))
    shot(admin, "account-linked")
    # auth fixes a session's accounts at sign-in, so the root user signs in again to read it
    admin.get_by_role("button", name="Sign out").click()
    password_login(admin, root_email)
    linked = admin.locator(f"tbody tr[data-account-id='{role_arn.split(':')[4]}']")
    expect(linked).to_contain_text(f"assumed-role/{role_arn.split('/')[-1]}")
    expect(admin.locator("tbody td.error")).to_have_count(0)
    shot(admin, "root-home-reads-linked-account")

    # 3. switch to SSO
    admin.goto(f"{stack.gateway}/settings")
    admin.get_by_label("SSO account").check()
    admin.get_by_label("AWS access portal start URL").fill(stack.emulator["start_url"])
    admin.get_by_label("IAM Identity Center region").fill(stack.emulator["region"])
    admin.get_by_role("button", name="Save").click()
    expect(admin.locator("#tenant-mode")).to_have_text("sso")
    shot(admin, "switched-to-sso")
    slug = admin.locator("a[href^='/sso/']").first.get_attribute("href").split("/")[-1]

    # 4. an SSO user's full login in two tabs; the home page lists exactly their grants
    bob_browser = person("bob")
    user = sso_login(bob_browser, stack, slug, "bob", shot, "bob-first-login")
    assert account_names(user) == {"Development", "Staging"}
    assert account_ids(user) <= set(stack.emulator["member_account_ids"])
    expect(user.locator("tbody td.error")).to_have_count(0)

    # bob writes while he may: he saves a view, and keeps the form open
    user.goto(f"{stack.gateway}/views")
    user.get_by_label("Name").fill("Before the limit")
    user.get_by_label("AWS account ID").fill(stack.emulator["member_account_ids"][0])
    user.get_by_role("button", name="Save view").click()
    expect(user.get_by_text("The view was saved.")).to_be_visible()
    user.get_by_label("Name").fill("After the limit")
    user.get_by_label("AWS account ID").fill(stack.emulator["member_account_ids"][0])
    shot(user, "bob-view-saved")

    # 5. the admin limits bob to Viewer; bob's next write is refused
    manage_users_until(admin, stack, bob["user_name"], 1)
    user_row(admin, bob["user_name"]).get_by_role("combobox").select_option("viewer")
    user_row(admin, bob["user_name"]).get_by_role("button", name="Set limit").click()
    expect(admin.get_by_text("The user's role was limited.")).to_be_visible()
    shot(admin, "bob-limited-to-viewer")
    with user.expect_response(lambda r: r.request.method == "POST") as refused:
        user.get_by_role("button", name="Save view").click()
    assert refused.value.status == 403
    expect(user.get_by_role("alert")).to_contain_text("viewers can look but not change")
    shot(user, "bob-write-refused")
    user.goto(f"{stack.gateway}/views")
    expect(user.get_by_text("Before the limit")).to_be_visible()
    expect(user.get_by_text("After the limit")).to_have_count(0)
    expect(user.get_by_role("button", name="Save view")).to_have_count(0)

    # 6. removal, then re-login: bob is cached again and still a viewer
    admin.goto(f"{stack.gateway}/settings/users")
    user_row(admin, bob["user_name"]).get_by_role("button", name=re.compile("^Remove")).click()
    expect(admin.get_by_text("The user's cached details were removed.")).to_be_visible()
    expect(user_row(admin, bob["user_name"])).to_have_count(0)
    shot(admin, "bob-removed")
    user = sso_login(bob_browser, stack, slug, "bob", shot, "bob-relogin")
    manage_users_until(admin, stack, bob["user_name"], 1)
    expect(user_row(admin, bob["user_name"]).locator("td").nth(1)).to_have_text("viewer")
    shot(admin, "bob-back-still-viewer")

    # 7. deactivation ends bob's live session at his next request
    admin.goto(f"{stack.gateway}/settings")
    admin.get_by_role("link", name=re.compile("Deactivate this account")).click()
    admin.get_by_role("button", name="Deactivate").click()
    signed_in_again(admin, stack, root_email, "/settings")
    expect(admin.locator("#tenant-status")).to_have_text("deactivated")
    shot(admin, "deactivated")
    user.goto(f"{stack.gateway}/")
    expect(user.get_by_role("heading", name="Sign in")).to_be_visible()
    shot(user, "bob-session-ended")
    admin.goto(f"{stack.gateway}/settings/reactivate")
    signed_in_again(admin, stack, root_email, "/settings/reactivate")
    admin.get_by_role("button", name="Reactivate").click()
    expect(admin.locator("#tenant-status")).to_have_text("active")
    shot(admin, "reactivated")

    # 8. root disconnects SSO; bob's login is refused
    user = sso_login(bob_browser, stack, slug, "bob", shot, "bob-before-disconnect")
    admin.goto(f"{stack.gateway}/settings")
    admin.get_by_label("SSO account").uncheck()
    admin.get_by_role("button", name="Save").click()
    expect(
        admin.get_by_text("All SSO configuration and all users will be deleted.")
    ).to_be_visible()
    shot(admin, "disconnect-confirmation")
    admin.get_by_role("button", name="Disconnect SSO and delete users").click()
    signed_in_again(admin, stack, root_email, "/settings")
    expect(admin.locator("#tenant-mode")).to_have_text("iam_role")
    shot(admin, "sso-disconnected")
    user.goto(f"{stack.gateway}/")
    expect(user.get_by_role("heading", name="Sign in")).to_be_visible()
    user.goto(f"{stack.gateway}/sso/{slug}")
    expect(user.get_by_text("does not use single sign-on")).to_be_visible()
    expect(user.get_by_role("button", name="Approve access to Cloudivize")).to_have_count(0)
    shot(user, "bob-login-refused")
