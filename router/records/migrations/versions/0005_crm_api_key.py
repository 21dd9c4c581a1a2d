"""A connected CRM account keeps the API key it was connected with: the service calls the CRM's
own API with it to push the parcels' statuses.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("retailcrm_accounts") as batch:
        # Null for accounts connected before it was kept: they are connected again to get pushes.
        batch.add_column(sa.Column("api_key", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("retailcrm_accounts") as batch:
        batch.drop_column("api_key")
