import pytest
from pydantic_settings import SettingsConfigDict

from shared.settings import DEVELOPMENT_SIGNING_KEY, ServiceSettings, load_settings


class ExampleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EXAMPLE_", extra="ignore", frozen=True)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@db.internal/app", "postgresql+asyncpg://u:p@db.internal/app"),
        ("postgresql://u@db/app", "postgresql+asyncpg://u@db/app"),
        ("sqlite:///var/app.db", "sqlite+aiosqlite:///var/app.db"),
    ],
)
def test_database_urls_are_normalized_to_async_drivers(
    monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    monkeypatch.setenv("EXAMPLE_DATABASE_URL", url)

    assert load_settings(ExampleSettings).database_url == expected


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("EXAMPLE_DATABASE_URL", "not a url", "EXAMPLE_DATABASE_URL: not a database URL"),
        ("EXAMPLE_DATABASE_URL", "mysql://h/db", "EXAMPLE_DATABASE_URL: unsupported database"),
        ("EXAMPLE_DATABASE_URL", "postgresql:///db", "needs a host"),
        ("KAFKA_BOOTSTRAP_SERVERS", "broker", "KAFKA_BOOTSTRAP_SERVERS: 'broker' is not host:port"),
        ("EXAMPLE_PORT", "eighty", "EXAMPLE_PORT: Input should be a valid integer"),
    ],
)
def test_a_bad_setting_ends_the_process_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SystemExit) as exit_info:
        load_settings(ExampleSettings)

    error = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert message in error
    assert error.count("\n") == 1


def test_production_refuses_the_development_signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDIVIZE_ENV", "production")
    monkeypatch.setenv("EXAMPLE_DATABASE_URL", "postgresql://u@db/app")
    monkeypatch.setenv("INTERNAL_SIGNING_KEY", DEVELOPMENT_SIGNING_KEY)

    with pytest.raises(SystemExit):
        load_settings(ExampleSettings)


def test_a_database_password_is_hidden_in_the_redacted_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EXAMPLE_DATABASE_URL", "postgresql://app:s3cret@db/app")

    settings = load_settings(ExampleSettings)

    assert "s3cret" not in settings.redacted_database_url


def test_production_on_sqlite_names_the_database_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLOUDIVIZE_ENV", "production")
    monkeypatch.setenv("INTERNAL_SIGNING_KEY", "s" * 40)

    with pytest.raises(SystemExit):
        load_settings(ExampleSettings)

    assert capsys.readouterr().err == (
        "config error: EXAMPLE_DATABASE_URL: production needs PostgreSQL, not the embedded SQLite\n"
    )
