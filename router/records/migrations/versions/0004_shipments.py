"""Shipments booked with carriers, the calls made for them, background jobs, partners'
tracking numbers, courier pick-ups, tracking histories, and the shop's webhooks with their outbox.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")  # SQLite numbers rows only as INTEGER
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "shipments",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("carrier", sa.String(64), nullable=False),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("shop_order_number", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("ship_date", sa.Date, nullable=False),
        sa.Column("warehouse", sa.String(64), nullable=True),
        sa.Column("price_kopecks", sa.BigInteger, nullable=False),
        sa.Column("tracking_number", sa.String(64), nullable=True),
        sa.Column("carrier_ref", sa.String(100), nullable=True),
        sa.Column("tracking_status", sa.String(20), nullable=True),
        sa.Column("document", _JSON, nullable=False),
        sa.Column("label_pdf", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shipments"),
    )
    op.create_index("ix_shipments_owner_idempotency_key", "shipments", ["owner", "idempotency_key"], unique=True)
    op.create_index("ix_shipments_owner_created_at", "shipments", ["owner", "created_at"])
    op.create_index("ix_shipments_carrier_ship_date", "shipments", ["carrier", "ship_date"])
    op.create_index("ix_shipments_tracking_number", "shipments", ["tracking_number"])
    op.create_index("ix_shipments_carrier_ref", "shipments", ["carrier_ref"])
    op.create_table(
        "tracking_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("shipment_id", sa.String(40), nullable=False),
        sa.Column("carrier_code", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utc_offset_min", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("carrier_text", sa.String(500), nullable=False),
        sa.Column("city", sa.String(200), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tracking_events"),
    )
    op.create_index(
        "ix_tracking_events_shipment_id_carrier_code_at",
        "tracking_events",
        ["shipment_id", "carrier_code", "at"],
        unique=True,
    )
    op.create_table(
        "carrier_calls",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(40), nullable=False),
        sa.Column("carrier", sa.String(64), nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("detail", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_carrier_calls"),
    )
    op.create_index("ix_carrier_calls_subject_id", "carrier_calls", ["subject", "id"])
    op.create_table(
        "jobs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leased_by", sa.String(64), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_kind_subject", "jobs", ["kind", "subject"], unique=True)
    op.create_index("ix_jobs_state_run_at", "jobs", ["state", "run_at"])
    op.create_table(
        "partner_numbers",
        sa.Column("carrier", sa.String(64), nullable=False),
        sa.Column("next_number", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("carrier", name="pk_partner_numbers"),
    )
    op.create_table(
        "pickups",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("carrier", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("carrier_ref", sa.String(100), nullable=True),
        sa.Column("document", _JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pickups"),
    )
    op.create_index("ix_pickups_owner_carrier_day", "pickups", ["owner", "carrier", "day"])
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("events", _JSON, nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_endpoints"),
    )
    op.create_index("ix_webhook_endpoints_owner", "webhook_endpoints", ["owner"])
    op.create_table(
        "webhook_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(40), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_events"),
    )
    op.create_index("ix_webhook_events_owner_id", "webhook_events", ["owner", "id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("endpoint_id", sa.String(40), nullable=False),
        sa.Column("event_id", sa.BigInteger, nullable=False),
        sa.Column("subject", sa.String(40), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", _JSON, nullable=False),
        sa.Column("first_tried_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
    )
    op.create_index(
        "ix_webhook_deliveries_endpoint_id_event_id", "webhook_deliveries", ["endpoint_id", "event_id"], unique=True
    )
    op.create_index(
        "ix_webhook_deliveries_endpoint_id_subject_state_event_id",
        "webhook_deliveries",
        ["endpoint_id", "subject", "state", "event_id"],
    )


def downgrade() -> None:
    for table in (
        "tracking_events",
        "webhook_deliveries",
        "webhook_events",
        "webhook_endpoints",
        "pickups",
        "partner_numbers",
        "jobs",
        "carrier_calls",
        "shipments",
    ):
        op.drop_table(table)
