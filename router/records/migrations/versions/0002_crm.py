"""One saved RetailCRM delivery per CRM order, whose id may be as long as the CRM's texts.

The account-and-order index becomes unique, and `order_ref` takes the 500 characters the
callbacks accept rather than 100.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLE = "retailcrm_deliveries"
INDEX = "ix_retailcrm_deliveries_account_id_order_ref"


def upgrade() -> None:
    # Nothing was written to the table before this revision (deliveries were still in the store).
    op.drop_index(INDEX, table_name=TABLE)
    with op.batch_alter_table(TABLE) as batch:  # SQLite changes a column by copying the table
        batch.alter_column("order_ref", type_=sa.String(500), existing_type=sa.String(100), existing_nullable=True)
    op.create_index(INDEX, TABLE, ["account_id", "order_ref"], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name=TABLE)
    with op.batch_alter_table(TABLE) as batch:
        batch.alter_column("order_ref", type_=sa.String(100), existing_type=sa.String(500), existing_nullable=True)
    op.create_index(INDEX, TABLE, ["account_id", "order_ref"])
