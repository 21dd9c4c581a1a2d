"""Events written beside the change they tell of, with a delivery for each endpoint that wants them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from router.records.jobs import schedule
from router.records.tables import webhook_deliveries, webhook_endpoints, webhook_events
from router.webhooks.model import EventType

DELIVER = "webhook"  # the job kind; its subject is "<endpoint id>/<shipment id>": one lane


def lane(endpoint_id: str, subject: str) -> str:
    return f"{endpoint_id}/{subject}"


async def emit(conn: AsyncConnection, owner: str, subject: str, kind: EventType, data: dict[str, Any]) -> int | None:
    """Write the event inside the caller's transaction; its id, or None when no endpoint of
    `owner` wants it (nothing is kept then: there is no one to tell)."""
    wanted = [
        row.id
        for row in (
            await conn.execute(
                sa.select(webhook_endpoints.c.id, webhook_endpoints.c.events).where(
                    webhook_endpoints.c.owner == owner, webhook_endpoints.c.deleted_at.is_(None)
                )
            )
        ).all()
        if kind.value in row.events
    ]
    if not wanted:
        return None
    now = datetime.now(UTC)
    event_id = (
        await conn.execute(
            webhook_events.insert()
            .values(owner=owner, subject=subject, type=kind.value, payload=data, created_at=now)
            .returning(webhook_events.c.id)
        )
    ).scalar_one()
    for endpoint_id in wanted:
        await conn.execute(
            webhook_deliveries.insert().values(
                endpoint_id=endpoint_id, event_id=event_id, subject=subject, state="pending", attempts=[]
            )
        )
        await schedule(conn, DELIVER, lane(endpoint_id, subject))
    return int(event_id)
