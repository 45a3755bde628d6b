"""the HTTP API's write operations (queued, submitted, mined, failed)

Revision ID: 5b1e0a7c9d21
Revises: c6505dc80512
Create Date: 2026-12-04 17:30:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dataseal.registry.db.types

revision: str = "5b1e0a7c9d21"
down_revision: str | Sequence[str] | None = "c6505dc80512"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_operation",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("natural_key", sa.String(length=255), nullable=False),
        sa.Column("writer", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("tx_hashes", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("created_at", dataseal.registry.db.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", dataseal.registry.db.types.UtcDateTime(), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.Column("lease_until", dataseal.registry.db.types.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_operation")),
        sa.UniqueConstraint("natural_key", name=op.f("uq_api_operation_natural_key")),
    )
    with op.batch_alter_table("api_operation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_operation_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_operation_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_operation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_operation_status"))
        batch_op.drop_index(batch_op.f("ix_api_operation_created_at"))
    op.drop_table("api_operation")
