"""Cached SSO users, their logins, removals, role limits and tenant states.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

from shared.db import UtcDateTime

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "tenant_states",
        sa.Column("tenant_id", sa.Uuid(), primary_key=True),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("status_changed_at", UtcDateTime(), nullable=True),
        sa.Column("sso_disconnected_at", UtcDateTime(), nullable=True),
    )
    op.create_table(
        "cached_users",
        sa.Column("tenant_id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("granted_account_count", sa.Integer(), nullable=False),
        sa.Column("first_login_at", UtcDateTime(), nullable=False),
        sa.Column("last_login_at", UtcDateTime(), nullable=False),
        sa.Column("login_count", sa.Integer(), nullable=False),
    )
    op.create_index("ix_cached_users_tenant_name", "cached_users", ["tenant_id", "name"])
    op.create_table(
        "user_logins",
        sa.Column("event_id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
    )
    op.create_index(
        "ix_user_logins_user", "user_logins", ["tenant_id", "user_id", "occurred_at"]
    )
    op.create_table(
        "removed_users",
        sa.Column("tenant_id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.String(200), primary_key=True),
        sa.Column("removed_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "role_limits",
        sa.Column("tenant_id", sa.Uuid(), primary_key=True),
        sa.Column("subject_kind", sa.String(10), primary_key=True),
        sa.Column("subject", sa.String(320), primary_key=True),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("set_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ("role_limits", "removed_users", "user_logins", "cached_users", "tenant_states"):
        op.drop_table(table)
