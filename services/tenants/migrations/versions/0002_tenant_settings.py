"""External IDs, status history, SSO settings, AWS account links, saved views, audit.

Revision ID: 0002
"""

import secrets

import sqlalchemy as sa
from alembic import op

from shared.db import UtcDateTime

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    _extend_tenants()
    op.create_table(
        "sso_settings",
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("start_url", sa.String(300), nullable=False),
        sa.Column("region", sa.String(40), nullable=False),
        sa.Column("identity_store_id", sa.String(64), nullable=True),
        sa.Column("management_role_arn", sa.String(2048), nullable=True),
        sa.Column("default_role", sa.String(20), nullable=False),
        sa.Column("connected_at", UtcDateTime(), nullable=False),
        sa.Column("connected_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "aws_account_links",
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("aws_account_id", sa.String(12), primary_key=True),
        sa.Column("role_arn", sa.String(2048), nullable=False),
        sa.Column("linked_at", UtcDateTime(), nullable=False),
        sa.Column("linked_by", sa.String(200), nullable=False),
        sa.Column("validated_at", UtcDateTime(), nullable=True),
        sa.Column("validation_result", sa.String(40), nullable=False),
        sa.Column("validation_detail", sa.String(500), nullable=False),
    )
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("aws_account_id", sa.String(12), nullable=False),
        sa.Column("region", sa.String(40), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_saved_views_name"),
    )
    op.create_table(
        "audit_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_entries_tenant", "audit_entries", ["tenant_id", "id"])


def _extend_tenants() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("external_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("previous_external_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("external_id_created_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("status_changed_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("status_changed_by", sa.String(200), nullable=True))

    # Tenants from before this revision get an external ID of their own, then the
    # column becomes mandatory.
    tenants = sa.table(
        "tenants",
        sa.column("id", sa.Uuid()),
        sa.column("external_id", sa.String()),
        sa.column("external_id_created_at", UtcDateTime()),
        sa.column("created_at", UtcDateTime()),
    )
    connection = op.get_bind()
    for (tenant_id,) in connection.execute(sa.select(tenants.c.id)).all():
        connection.execute(
            tenants.update()
            .where(tenants.c.id == tenant_id)
            .values(
                external_id=secrets.token_urlsafe(24),
                external_id_created_at=tenants.c.created_at,
            )
        )
    with op.batch_alter_table("tenants") as batch:
        batch.alter_column("external_id", existing_type=sa.String(64), nullable=False)
        batch.alter_column("external_id_created_at", existing_type=UtcDateTime(), nullable=False)


def downgrade() -> None:
    op.drop_table("audit_entries")
    op.drop_table("saved_views")
    op.drop_table("aws_account_links")
    op.drop_table("sso_settings")
    with op.batch_alter_table("tenants") as batch:
        for column in (
            "status_changed_by",
            "status_changed_at",
            "external_id_created_at",
            "previous_external_id",
            "external_id",
        ):
            batch.drop_column(column)
