"""replaced versions of papers a digest showed, and the updates later digests list

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "paperrevision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("old_version", sa.Integer(), nullable=False),
        sa.Column("new_version", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("abstract", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.arxiv_id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("paper_id", "new_version"),
    )
    op.create_index(op.f("ix_paperrevision_paper_id"), "paperrevision", ["paper_id"])
    op.create_index(op.f("ix_paperrevision_day"), "paperrevision", ["day"])
    op.create_table(
        "digestupdate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("old_version", sa.Integer(), nullable=False),
        sa.Column("new_version", sa.Integer(), nullable=False),
        sa.Column("first_sent_on", sa.Date(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("old_title", sa.Text(), nullable=True),
        sa.Column("abstract_changed", sa.Boolean(), nullable=False),
        sa.Column("words_added", sa.Integer(), nullable=False),
        sa.Column("words_removed", sa.Integer(), nullable=False),
        sa.Column("sentences_added", sa.JSON(), nullable=False),
        sa.Column("sentences_revised", sa.Integer(), nullable=False),
        sa.Column("sentences_removed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["digest_id"], ["digest.id"]),
        sa.ForeignKeyConstraint(["paper_id"], ["paper.arxiv_id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest_id", "paper_id"),
    )
    op.create_index(op.f("ix_digestupdate_digest_id"), "digestupdate", ["digest_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_digestupdate_digest_id"), table_name="digestupdate")
    op.drop_table("digestupdate")
    op.drop_index(op.f("ix_paperrevision_day"), table_name="paperrevision")
    op.drop_index(op.f("ix_paperrevision_paper_id"), table_name="paperrevision")
    op.drop_table("paperrevision")
