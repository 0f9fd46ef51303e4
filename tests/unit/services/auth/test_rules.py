import pytest

from services.auth.discovery import derived_profile, sso_user_id
from services.auth.roles import above, capped
from services.auth.settings import DEVELOPMENT_TOKEN_KEY, AuthSettings
from services.auth.tenants import Tenant
from shared.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("role", "limits", "expected"),
    [
        ("author", [], "author"),
        ("author", ["viewer"], "viewer"),
        ("viewer", ["author"], "viewer"),
        ("author", ["author", "viewer"], "viewer"),
    ],
)
def test_a_limit_only_ever_lowers_a_role(role: str, limits: list[str], expected: str) -> None:
    assert capped(role, limits) == expected


def test_roles_above_a_limit_are_the_ones_it_lowers() -> None:
    assert above("viewer") == ["author", "admin"]
    assert above("author") == ["admin"]


def test_a_user_name_that_is_an_email_gives_name_and_email() -> None:
    profile = derived_profile("Dana.Doe@Example.com")

    assert (profile.name, profile.email, profile.source) == (
        "Dana.Doe",
        "dana.doe@example.com",
        "user_name",
    )
    assert profile.user_id == "sso:dana.doe@example.com"


def test_a_plain_user_name_gives_no_email() -> None:
    profile = derived_profile("dana")

    assert (profile.name, profile.email) == ("dana", None)


def test_the_sso_user_id_ignores_case() -> None:
    assert sso_user_id("Alice") == sso_user_id("alice")


@pytest.mark.parametrize(
    ("tenant", "role"),
    [
        ({}, "author"),
        ({"default_role": "viewer"}, "viewer"),
        ({"sso": {"start_url": "u", "region": "r", "default_role": "viewer"}}, "viewer"),
        ({"default_role": "admin"}, "author"),  # an SSO user never becomes admin by default
    ],
)
def test_sso_users_get_the_tenants_default_role(tenant: dict, role: str) -> None:
    base = {"id": "6f1c1f7e-3f1f-4d57-9d1e-1a9d3f0f3c11", "slug": "s", "status": "active"}

    assert Tenant.model_validate({**base, "mode": "sso", **tenant}).sso_default_role == role


def test_production_refuses_the_development_token_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDIVIZE_ENV", "production")
    monkeypatch.setenv("AUTH_DATABASE_URL", "postgresql://db.internal/auth")
    monkeypatch.setenv("INTERNAL_SIGNING_KEY", "a-production-signing-key-of-enough-length")
    monkeypatch.setenv("AUTH_TOKEN_ENCRYPTION_KEY", DEVELOPMENT_TOKEN_KEY)

    with pytest.raises(SettingsError):
        load_settings(AuthSettings)


def test_the_grant_refresh_period_may_be_zero_for_tests() -> None:
    assert AuthSettings(grant_refresh_seconds=0).grant_refresh_seconds == 0
