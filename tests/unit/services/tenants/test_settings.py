import pytest

from services.tenants.settings import TenantsSettings
from shared.settings import load_settings


def test_production_refuses_the_emulators_principal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLOUDIVIZE_ENV", "production")
    monkeypatch.setenv("TENANTS_DATABASE_URL", "postgresql://u@db/tenants")
    monkeypatch.setenv("INTERNAL_SIGNING_KEY", "s" * 40)

    with pytest.raises(SystemExit):
        load_settings(TenantsSettings)

    assert "TENANTS_CLOUDIVIZE_PRINCIPAL_ARN: production refuses" in capsys.readouterr().err
