"""followed authors of chats, and each paper's novelty per model

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 20:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "followedauthor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("pinned_paper", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("profile", "key"),
    )
    op.create_index(
        op.f("ix_followedauthor_profile"), "followedauthor", ["profile"], unique=False
    )
    op.create_table(
        "novelty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("neighbours", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.arxiv_id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("paper_id", "model"),
    )
    op.create_index(op.f("ix_novelty_day"), "novelty", ["day"], unique=False)
    op.create_index(op.f("ix_novelty_paper_id"), "novelty", ["paper_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_novelty_paper_id"), table_name="novelty")
    op.drop_index(op.f("ix_novelty_day"), table_name="novelty")
    op.drop_table("novelty")
    op.drop_index(op.f("ix_followedauthor_profile"), table_name="followedauthor")
    op.drop_table("followedauthor")
