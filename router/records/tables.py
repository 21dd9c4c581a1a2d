"""The tables, as the code reads and writes them.

Migrations (`migrations/versions/`) are the schema's history and never import this module; a
test compares the two, so a table changed here without a migration fails the suite.
Money is in integer kopecks and every moment is stored in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """An aware moment in, an aware UTC moment out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive moment cannot be stored: give it a time zone")
        moment = value.astimezone(UTC)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# JSONB on PostgreSQL (indexable, compact); SQLite keeps JSON as text.
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("hint", sa.String(16), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("origins", Json, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
    sa.Column("rate_per_minute", sa.Integer, nullable=True),
)

retailcrm_accounts = sa.Table(
    "retailcrm_accounts",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("crm_url", sa.String(500), nullable=False),
    sa.Column("module_code", sa.String(100), nullable=False),
    sa.Column("client_id_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("carriers", Json, nullable=False),
    sa.Column("policy", sa.String(16), nullable=False),
    sa.Column("day_value_kopecks", sa.BigInteger, nullable=True),
    sa.Column("origin", sa.String(200), nullable=True),
    sa.Column("parcel_cm", Json, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("api_key", sa.String(200), nullable=True),  # the CRM's, for pushing statuses to it
)

retailcrm_deliveries = sa.Table(
    "retailcrm_deliveries",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("account_id", sa.String(40), sa.ForeignKey("retailcrm_accounts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("order_ref", sa.String(500), nullable=True),  # as long as the CRM's texts may be
    sa.Column("saved_at", UtcDateTime, nullable=False),
    sa.Column("document", Json, nullable=False),
    # One delivery per CRM order: a second save for the order replaces the first.
    sa.Index(None, "account_id", "order_ref", unique=True),
)

pickup_networks = sa.Table(
    "pickup_networks",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("source", sa.String(500), nullable=False),
    sa.Column("imported_at", UtcDateTime, nullable=False),
    sa.Column("point_count", sa.Integer, nullable=False),
)

pickup_network_points = sa.Table(
    "pickup_network_points",
    metadata,
    sa.Column("network", sa.String(64), sa.ForeignKey("pickup_networks.name", ondelete="CASCADE"), primary_key=True),
    sa.Column("point_id", sa.String(100), primary_key=True),
    sa.Column("document", Json, nullable=False),
)

delivery_outcomes = sa.Table(
    "delivery_outcomes",
    metadata,
    sa.Column("shipment_id", sa.String(128), primary_key=True),
    sa.Column("carrier", sa.String(64), nullable=False),
    sa.Column("service", sa.String(100), nullable=False),
    sa.Column("handed_over_on", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("imported_at", UtcDateTime, nullable=False),
    sa.Column("document", Json, nullable=False),
    sa.Index(None, "carrier", "handed_over_on"),
)

# A reinstatement forgives the serious failures imported until `reinstated_at` in its scope: the
# carrier on one lane, or on every lane when `lane` is ''.
reinstatements = sa.Table(
    "reinstatements",
    metadata,
    sa.Column("carrier", sa.String(64), primary_key=True),
    sa.Column("lane", sa.String(64), primary_key=True),
    sa.Column("reinstated_at", UtcDateTime, nullable=False),
)

# A booked parcel. `document` is the whole booking as the shop asked for it and as the carrier
# answered (`router.shipping.model.ShipmentDocument`); the columns are what listings filter on.
# One shipment per owner and idempotency key: a retried or concurrent booking finds this row.
shipments = sa.Table(
    "shipments",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
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
    sa.Column("tracking_status", sa.String(20), nullable=True),  # the latest event's, by the carrier's time
    sa.Column("document", Json, nullable=False),
    sa.Column("label_pdf", sa.LargeBinary, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # The carrier's print request for the label, while one is being made (CDEK's print uuid).
    sa.Column("label_ref", sa.String(100), nullable=True),
    sa.Index(None, "owner", "idempotency_key", unique=True),
    sa.Index(None, "owner", "created_at"),
    sa.Index(None, "carrier", "ship_date"),
    sa.Index(None, "tracking_number"),
    sa.Index(None, "carrier_ref"),
    sa.Index(None, "label_ref"),
)

# Every request made to a carrier for a shipment or a pick-up, and what came of it.
carrier_calls = sa.Table(
    "carrier_calls",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("subject", sa.String(40), nullable=False),
    sa.Column("carrier", sa.String(64), nullable=False),
    sa.Column("operation", sa.String(32), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("detail", Json, nullable=False),
    sa.Index(None, "subject", "id"),
)

# Work done in the background by whichever worker claims it first (`router.records.jobs`).
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("subject", sa.String(100), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("run_at", UtcDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),  # counts schedulings: work asked for while it ran
    sa.Column("leased_until", UtcDateTime, nullable=True),
    sa.Column("leased_by", sa.String(64), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index(None, "kind", "subject", unique=True),
    sa.Index(None, "state", "run_at"),
)

# The next tracking number of each partner booked here, from the range in its rate card.
partner_numbers = sa.Table(
    "partner_numbers",
    metadata,
    sa.Column("carrier", sa.String(64), primary_key=True),
    sa.Column("next_number", sa.BigInteger, nullable=False),
)

# A carrier's courier asked to collect from a warehouse on a day.
pickups = sa.Table(
    "pickups",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("carrier", sa.String(64), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("carrier_ref", sa.String(100), nullable=True),
    sa.Column("document", Json, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index(None, "owner", "carrier", "day"),
)

# The shop's own endpoints, told of what happens to its shipments (`router.webhooks`). The secret
# signs each delivery, so it is kept as it is (like a password a server must present, not check).
webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("events", Json, nullable=False),
    sa.Column("secret", sa.String(100), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("deleted_at", UtcDateTime, nullable=True),
    sa.Index(None, "owner"),
)

# The outbox: an event is written in the same transaction as the change it tells of.
webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(40), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("payload", Json, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index(None, "owner", "id"),
)

# One event to one endpoint: delivered in order per subject, retried, then failed and replayable.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("endpoint_id", sa.String(40), nullable=False),
    sa.Column("event_id", sa.BigInteger, nullable=False),
    sa.Column("subject", sa.String(40), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("attempts", Json, nullable=False),
    sa.Column("first_tried_at", UtcDateTime, nullable=True),
    sa.Column("delivered_at", UtcDateTime, nullable=True),
    sa.Index(None, "endpoint_id", "event_id", unique=True),
    sa.Index(None, "endpoint_id", "subject", "state", "event_id"),
)

# Each shipment's history as its carrier told it, once per event however often it was told.
tracking_events = sa.Table(
    "tracking_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("shipment_id", sa.String(40), nullable=False),
    sa.Column("carrier_code", sa.String(64), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("utc_offset_min", sa.Integer, nullable=False),  # the event's own zone, as the carrier gave it
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("carrier_text", sa.String(500), nullable=False),
    sa.Column("city", sa.String(200), nullable=True),
    sa.Column("source", sa.String(16), nullable=False),  # webhook | poll | import | manual
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Index(None, "shipment_id", "carrier_code", "at", unique=True),
)
