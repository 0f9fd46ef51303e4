"""Local users, login throttles, SSO clients, device attempts, sessions, role limits.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

from shared.db import UtcDateTime

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "local_users",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("is_root", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "login_throttles",
        sa.Column("email_key", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", UtcDateTime(), nullable=True),
        sa.Column("last_failure_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "sso_clients",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(40), nullable=False),
        sa.Column("client_id", sa.String(400), nullable=False),
        sa.Column("client_secret", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_sso_clients_tenant_region", "sso_clients", ["tenant_id", "region"])
    op.create_table(
        "device_attempts",
        sa.Column("attempt_key", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("browser_key", sa.String(64), nullable=False),
        sa.Column("sso_client_id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(40), nullable=False),
        sa.Column("device_code", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("next_poll_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("tokens", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("tenant_slug", sa.String(63), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("is_root", sa.Boolean(), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("tenant_status", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("profile_source", sa.String(20), nullable=False),
        sa.Column("granted_accounts", sa.JSON(), nullable=False),
        sa.Column("grants_checked_at", UtcDateTime(), nullable=False),
        sa.Column("sso_client_id", sa.Uuid(), nullable=True),
        sa.Column("sso_region", sa.String(40), nullable=True),
        sa.Column("sso_tokens", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("absolute_expires_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "role_limits",
        sa.Column("tenant_id", sa.Uuid(), primary_key=True),
        sa.Column("subject", sa.String(400), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("limited_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "tenant_guards",
        sa.Column("tenant_id", sa.Uuid(), primary_key=True),
        sa.Column("touched_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "tenant_guards",
        "role_limits",
        "sessions",
        "device_attempts",
        "sso_clients",
        "login_throttles",
        "local_users",
    ):
        op.drop_table(table)
