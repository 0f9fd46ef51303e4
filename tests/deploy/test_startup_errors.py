"""What an operator sees when a Secret or setting is missing, and the migration command."""

import os
import sqlite3
import subprocess
import sys

import pytest

from tests.deploy.support import ROOT


def run(argv: list[str], env: dict[str, str], cwd) -> subprocess.CompletedProcess[str]:
    # only what a pod would have: no settings inherited from the test's own environment
    base = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    return subprocess.run(
        argv,
        env={**base, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


@pytest.mark.parametrize("name", ["gateway", "tenants", "usercache"])
def test_a_production_pod_without_the_signing_key_secret_exits_naming_it(name, tmp_path):
    prefix = name.upper()
    env = {
        "CLOUDIVIZE_ENV": "production",
        f"{prefix}_DATABASE_URL": "postgresql://svc:pw@db.invalid:5432/svc",
    }

    result = run([sys.executable, "-m", f"services.{name}"], env, tmp_path)

    assert result.returncode == 2
    assert result.stderr.startswith("config error:")
    assert "INTERNAL_SIGNING_KEY" in result.stderr
    assert "pw@" not in result.stderr


def test_a_production_auth_pod_without_its_token_key_secret_exits_naming_it(tmp_path):
    env = {
        "CLOUDIVIZE_ENV": "production",
        "AUTH_DATABASE_URL": "postgresql://svc:pw@db.invalid:5432/svc",
        "INTERNAL_SIGNING_KEY": "k" * 48,
    }

    result = run([sys.executable, "-m", "services.auth"], env, tmp_path)

    assert result.returncode == 2
    assert "AUTH_TOKEN_ENCRYPTION_KEY" in result.stderr


def test_the_migration_command_brings_a_database_to_the_newest_revision(tmp_path):
    database = tmp_path / "tenants.db"
    env = {"TENANTS_DATABASE_URL": f"sqlite:///{database}"}

    result = run([sys.executable, "-m", "tools.migrate", "tenants"], env, tmp_path)

    assert result.returncode == 0, result.stderr
    assert "migrated service=tenants" in result.stdout
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("select name from sqlite_master")}
    assert "outbox" in tables
    assert "alembic_version" in tables


def test_the_migration_command_refuses_a_malformed_database_setting(tmp_path):
    env = {"USERCACHE_DATABASE_URL": "mysql://nope"}

    result = run([sys.executable, "-m", "tools.migrate", "usercache"], env, tmp_path)

    assert result.returncode == 2
    assert "config error: USERCACHE_DATABASE_URL" in result.stderr
