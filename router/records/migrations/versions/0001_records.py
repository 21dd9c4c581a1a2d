"""Records move into SQL: API keys, RetailCRM accounts and deliveries, pickup networks, outcomes.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("hint", sa.String(16), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("origins", JSON, nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("revoked_at", MOMENT, nullable=True),
        sa.Column("rate_per_minute", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("sha256", name="uq_api_keys_sha256"),
    )
    op.create_table(
        "retailcrm_accounts",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("crm_url", sa.String(500), nullable=False),
        sa.Column("module_code", sa.String(100), nullable=False),
        sa.Column("client_id_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("carriers", JSON, nullable=False),
        sa.Column("policy", sa.String(16), nullable=False),
        sa.Column("day_value_kopecks", sa.BigInteger, nullable=True),
        sa.Column("origin", sa.String(200), nullable=True),
        sa.Column("parcel_cm", JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_retailcrm_accounts"),
        sa.UniqueConstraint("client_id_sha256", name="uq_retailcrm_accounts_client_id_sha256"),
    )
    op.create_table(
        "retailcrm_deliveries",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("order_ref", sa.String(100), nullable=True),
        sa.Column("saved_at", MOMENT, nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_retailcrm_deliveries"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["retailcrm_accounts.id"],
            name="fk_retailcrm_deliveries_account_id",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_retailcrm_deliveries_account_id_order_ref", "retailcrm_deliveries", ["account_id", "order_ref"])
    op.create_table(
        "pickup_networks",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("imported_at", MOMENT, nullable=False),
        sa.Column("point_count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_pickup_networks"),
    )
    op.create_table(
        "pickup_network_points",
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("point_id", sa.String(100), nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.PrimaryKeyConstraint("network", "point_id", name="pk_pickup_network_points"),
        sa.ForeignKeyConstraint(
            ["network"], ["pickup_networks.name"], name="fk_pickup_network_points_network", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "delivery_outcomes",
        sa.Column("shipment_id", sa.String(100), nullable=False),
        sa.Column("carrier", sa.String(64), nullable=False),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("handed_over_on", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("imported_at", MOMENT, nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.PrimaryKeyConstraint("shipment_id", name="pk_delivery_outcomes"),
    )
    op.create_index("ix_delivery_outcomes_carrier_handed_over_on", "delivery_outcomes", ["carrier", "handed_over_on"])


def downgrade() -> None:
    op.drop_table("delivery_outcomes")
    op.drop_table("pickup_network_points")
    op.drop_table("pickup_networks")
    op.drop_table("retailcrm_deliveries")
    op.drop_table("retailcrm_accounts")
    op.drop_table("api_keys")
