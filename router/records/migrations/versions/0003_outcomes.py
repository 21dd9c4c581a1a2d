"""Raw delivery outcomes take any shipment id the importer accepts (128 characters), and
reinstatements are kept, so that refolding the outcomes forgives what a reinstatement forgave.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_outcomes") as batch:
        batch.alter_column("shipment_id", type_=sa.String(128), existing_type=sa.String(100), existing_nullable=False)
    op.create_table(
        "reinstatements",
        sa.Column("carrier", sa.String(64), nullable=False),
        sa.Column("lane", sa.String(64), nullable=False),
        sa.Column("reinstated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("carrier", "lane", name="pk_reinstatements"),
    )


def downgrade() -> None:
    op.drop_table("reinstatements")
    with op.batch_alter_table("delivery_outcomes") as batch:
        batch.alter_column("shipment_id", type_=sa.String(100), existing_type=sa.String(128), existing_nullable=False)
