"""The parcels' statuses pushed to the CRM whose delivery booked them.

The CRM shows a delivery's status history as the module pushes it:
`POST /api/v5/delivery/generic/{module code}/tracking` (crm.push_tracking). When a new event is
kept for a shipment owned by a connected account (a new status, or the same status somewhere
new: in transit, now in Kazan), `schedule_push` (a Tracker events hook) schedules a `crm-push`
job for the account and the shipment in the transaction that keeps it, so no event is lost to a
crash; a duplicate keeps nothing and schedules nothing. The job sends the delivery's whole
history, every status in the CRM's `statusList` (registration.STATUSES), each entry with the
carrier's words and the city as its comment: sending it again is harmless, and a push that
overtakes an older one can only bring the CRM up to date, so pushes stay in order per delivery.
One job per shipment runs at a time, and events kept while it runs make it run once more after,
so a burst of events comes to one or two pushes, not one each.

A CRM that does not answer is tried again with backoff, then every ten minutes, for a day after
the latest event; a CRM that refuses the push is not asked again until the next event.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from carriers.tracking import Status
from router.integrations.retailcrm.crm import TIMEOUT_S, CrmRefused, CrmUnreachable, push_tracking
from router.integrations.retailcrm.registration import DECLARED_CODES
from router.records import Database
from router.records.jobs import Done, Fail, Job, Later, Outcome, Retry, schedule
from router.records.tables import retailcrm_accounts, retailcrm_deliveries, shipments, tracking_events
from router.shipping.ledger import ShipmentRow

log = logging.getLogger(__name__)

PUSH = "crm-push"  # the job kind; its subject is "<account id>/<shipment id>"
# The CRM reads `updatedAt` as "Y-m-d H:i:s" without a zone, in its own time: Moscow's for the
# accounts this module serves.
CRM_ZONE = ZoneInfo("Europe/Moscow")
CRM_TIME = "%Y-%m-%d %H:%M:%S"
QUICK_TRIES = 6  # with the queue's backoff, about a minute
PATIENCE_S = 600.0
GIVE_UP_AFTER = timedelta(days=1)
MAX_COMMENT = 255


def subject(account_id: str, shipment_id: str) -> str:
    return f"{account_id}/{shipment_id}"


async def schedule_push(conn: AsyncConnection, row: ShipmentRow, status: Status) -> None:
    """Schedule the push when the shipment's owner is a connected CRM account (a CRM's shipments
    are owned by its account id); inside the caller's transaction."""
    account = sa.select(retailcrm_accounts.c.id).where(
        retailcrm_accounts.c.id == row.owner, retailcrm_accounts.c.active
    )
    if (await conn.execute(account)).first() is not None:
        await schedule(conn, PUSH, subject(row.owner, row.id))


def crm_time(at: datetime) -> str:
    return at.astimezone(CRM_ZONE).strftime(CRM_TIME)


def _comment(text: str, city: str | None) -> str:
    said = ", ".join(part for part in (text.strip(), (city or "").strip()) if part)
    return said[:MAX_COMMENT]


def status_update(delivery_id: str, track_number: str | None, events: list[Any]) -> dict[str, Any]:
    """One delivery's entry of `statusUpdate`: its whole history, oldest first."""
    history = [
        {
            # Every code of the status language is declared; a row kept under a code since
            # retired is pushed as the catch-all rather than refused by the CRM.
            "code": e.status if e.status in DECLARED_CODES else Status.UNKNOWN.value,
            "updatedAt": crm_time(e.at),
            "comment": _comment(e.carrier_text, e.city),
        }
        for e in events
    ]
    update: dict[str, Any] = {"deliveryId": delivery_id, "history": history}
    if track_number:
        update["trackNumber"] = track_number
    return update


class Pusher:
    """Runs `crm-push` jobs."""

    def __init__(self, database: Database, http: aiohttp.ClientSession, *, timeout_s: float = TIMEOUT_S) -> None:
        self.database = database
        self.http = http
        self.timeout_s = timeout_s

    async def run(self, job: Job) -> Outcome:
        account_id, _, shipment_id = job.subject.partition("/")
        async with self.database.read() as conn:
            account = (
                await conn.execute(sa.select(retailcrm_accounts).where(retailcrm_accounts.c.id == account_id))
            ).first()
            if account is None or not account.active:
                return Done()  # disconnected: there is no CRM to tell
            delivery_id = await self._delivery_id(conn, account_id, shipment_id)
            if delivery_id is None:
                return Done()  # the delivery was deleted, or booked again as another shipment
            track_number = (
                await conn.execute(sa.select(shipments.c.tracking_number).where(shipments.c.id == shipment_id))
            ).scalar_one_or_none()
            events = (
                await conn.execute(
                    sa.select(
                        tracking_events.c.status,
                        tracking_events.c.at,
                        tracking_events.c.carrier_text,
                        tracking_events.c.city,
                        tracking_events.c.received_at,
                    )
                    .where(tracking_events.c.shipment_id == shipment_id)
                    .order_by(tracking_events.c.at, tracking_events.c.id)
                )
            ).all()
        if not events:
            return Done()
        if not account.api_key:
            return Fail(f"account {account_id} keeps no CRM API key: connect it again with --push-statuses")
        update = status_update(delivery_id, track_number, list(events))
        try:
            await push_tracking(
                self.http, account.crm_url, account.api_key, account.module_code, [update], self.timeout_s
            )
        except CrmUnreachable as exc:
            return self._again(job, str(exc), max(e.received_at for e in events))
        except CrmRefused as exc:
            if exc.status == 429 or exc.status >= 500:
                return self._again(job, str(exc), max(e.received_at for e in events))
            return Fail(str(exc))
        log.info("retailcrm: %d statuses of %s pushed to %s", len(events), shipment_id, account_id)
        return Done()

    @staticmethod
    def _again(job: Job, error: str, latest: datetime) -> Outcome:
        if job.attempts < QUICK_TRIES:
            return Retry(error)
        if datetime.now(UTC) - latest > GIVE_UP_AFTER:
            return Fail(error)
        log.warning("retailcrm: push %s: %s; trying again in %.0f s", job.subject, error, PATIENCE_S)
        return Later(PATIENCE_S)

    @staticmethod
    async def _delivery_id(conn: AsyncConnection, account_id: str, shipment_id: str) -> str | None:
        """The CRM's id of the delivery this shipment was booked for (ours: the CRM keeps the id
        `save` answered)."""
        table = retailcrm_deliveries
        found = await conn.execute(
            sa.select(table.c.id).where(
                table.c.account_id == account_id, table.c.document["shipment_id"].as_string() == shipment_id
            )
        )
        delivery_id = found.scalar_one_or_none()
        return None if delivery_id is None else str(delivery_id)
