"""A shipment keeps the carrier's print request for its label, so the carrier's call that the
label is made (CDEK's PRINT_FORM) is matched to it, and later looks ask after the same request.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(sa.Column("label_ref", sa.String(100), nullable=True))
    op.create_index("ix_shipments_label_ref", "shipments", ["label_ref"])


def downgrade() -> None:
    op.drop_index("ix_shipments_label_ref", table_name="shipments")
    with op.batch_alter_table("shipments") as batch:
        batch.drop_column("label_ref")
