import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.usercache.schemas import RoleLimitCreate
from services.usercache.service import Login, capped, merge_logins, removal_cutoff

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("default", "limits", "expected"),
    [
        ("author", [], "author"),
        ("author", [None], "author"),
        ("author", ["viewer"], "viewer"),
        ("author", ["author"], "author"),
        ("viewer", ["author"], "viewer"),
        ("author", ["author", "viewer"], "viewer"),
        ("author", [None, "viewer"], "viewer"),
    ],
)
def test_a_limit_caps_the_default_role_and_never_raises_it(default, limits, expected) -> None:  # type: ignore[no-untyped-def]
    assert capped(default, limits) == expected


def _login(user: str, minutes: int, name: str) -> Login:
    return Login(
        event_id=uuid.uuid4(),
        tenant_id=uuid.UUID(int=1),
        user_id=user,
        name=name,
        email=f"{user}@example.com",
        granted_account_count=minutes,
        occurred_at=T0 + timedelta(minutes=minutes),
    )


def test_logins_of_one_user_in_a_batch_merge_into_one_row_with_the_newest_details() -> None:
    rows = merge_logins([_login("a", 5, "Mid"), _login("a", 9, "New"), _login("a", 1, "Old")])

    assert rows == [
        {
            "tenant_id": uuid.UUID(int=1),
            "user_id": "a",
            "name": "New",
            "email": "a@example.com",
            "granted_account_count": 9,
            "first_login_at": T0 + timedelta(minutes=1),
            "last_login_at": T0 + timedelta(minutes=9),
            "login_count": 3,
        }
    ]


def test_logins_of_different_users_stay_apart() -> None:
    rows = merge_logins([_login("a", 1, "A"), _login("b", 2, "B")])

    assert sorted((row["user_id"], row["login_count"]) for row in rows) == [("a", 1), ("b", 1)]


@pytest.mark.parametrize(
    "body",
    [
        {"role": "viewer"},
        {"user_id": "u", "email": "u@example.com", "role": "viewer"},
        {"user_id": "u", "role": "admin"},
        {"email": "nope", "role": "viewer"},
        {"user_id": "", "role": "viewer"},
    ],
)
def test_a_role_limit_names_exactly_one_user_and_a_known_role(body) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError):
        RoleLimitCreate.model_validate(body)


def test_a_role_limit_by_email_is_accepted() -> None:
    limit = RoleLimitCreate.model_validate({"email": "Bob@Example.com", "role": "viewer"})

    assert (limit.user_id, limit.role) == (None, "viewer")


def test_a_removal_reaches_the_later_of_its_own_time_and_the_login_it_saw() -> None:
    ahead = T0 + timedelta(minutes=5)

    assert removal_cutoff(T0, None) == T0
    assert removal_cutoff(T0, ahead) == ahead
    assert removal_cutoff(ahead, T0) == ahead
