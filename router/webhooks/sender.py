"""Endpoints kept for their owners, and each lane's events delivered in order, signed, retried."""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import msgspec
import sqlalchemy as sa

from router.core.errors import FieldError, InvalidRequest, Refused
from router.records import Database
from router.records.jobs import Done, Job, Later, Outcome, schedule
from router.records.tables import webhook_deliveries, webhook_endpoints, webhook_events
from router.webhooks.model import (
    Attempt,
    Delivery,
    DeliveryList,
    Event,
    EventType,
    Replayed,
    Webhook,
    WebhookList,
    WebhookRequest,
)
from router.webhooks.outbox import DELIVER, lane

SIGNATURE = "Carrier-Router-Signature"
EVENT_ID = "Carrier-Router-Event-Id"
RETRY_FOR = timedelta(hours=24)
MAX_PAUSE_S = 3600.0
MAX_ENDPOINTS = 20
KEPT_ATTEMPTS = 50  # the first and the latest; a day of retries is fewer than this anyway


class WebhookNotFound(Refused):
    status = 404
    title = "Webhook not found"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def pause_s(attempts: int) -> float:
    """1 s, 2 s, 4 s … an hour at most, give or take a fifth."""
    return float(min(MAX_PAUSE_S, 2 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2))


class Sender:
    def __init__(
        self,
        database: Database,
        http: aiohttp.ClientSession,
        *,
        timeout_s: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.database = database
        self.http = http
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._clock = clock

    # ---------------------------------------------------------------- endpoints

    async def create(self, owner: str, request: WebhookRequest) -> Webhook:
        async with self.database.write() as conn:
            count = (
                await conn.execute(
                    sa.select(sa.func.count()).where(
                        webhook_endpoints.c.owner == owner, webhook_endpoints.c.deleted_at.is_(None)
                    )
                )
            ).scalar_one()
            if count >= MAX_ENDPOINTS:
                raise InvalidRequest([FieldError("url", f"at most {MAX_ENDPOINTS} endpoints a key")])
            made = Webhook(
                id="whk_" + secrets.token_hex(10),
                url=request.url,
                events=sorted(set(request.events)),
                created_at=self._clock(),
                secret="whsec_" + secrets.token_urlsafe(32),
            )
            await conn.execute(
                webhook_endpoints.insert().values(
                    id=made.id,
                    owner=owner,
                    url=made.url,
                    events=[e.value for e in made.events],
                    secret=made.secret,
                    created_at=made.created_at,
                )
            )
        return made

    async def endpoints(self, owner: str) -> WebhookList:
        query = (
            sa.select(
                webhook_endpoints.c.id,
                webhook_endpoints.c.url,
                webhook_endpoints.c.events,
                webhook_endpoints.c.created_at,
            )
            .where(webhook_endpoints.c.owner == owner, webhook_endpoints.c.deleted_at.is_(None))
            .order_by(webhook_endpoints.c.created_at)
        )
        async with self.database.read() as conn:
            rows = (await conn.execute(query)).all()
        return WebhookList(
            webhooks=[
                Webhook(id=r.id, url=r.url, events=[EventType(e) for e in r.events], created_at=r.created_at)
                for r in rows
            ]
        )

    async def delete(self, owner: str, endpoint_id: str) -> None:
        async with self.database.write() as conn:
            gone = await conn.execute(
                webhook_endpoints.update()
                .where(
                    webhook_endpoints.c.id == endpoint_id,
                    webhook_endpoints.c.owner == owner,
                    webhook_endpoints.c.deleted_at.is_(None),
                )
                .values(deleted_at=self._clock())
            )
        if gone.rowcount == 0:
            raise WebhookNotFound(f"no webhook {endpoint_id!r}")

    async def _owned(self, owner: str, endpoint_id: str) -> None:
        async with self.database.read() as conn:
            found = (
                await conn.execute(
                    sa.select(webhook_endpoints.c.id).where(
                        webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.owner == owner
                    )
                )
            ).first()
        if found is None:
            raise WebhookNotFound(f"no webhook {endpoint_id!r}")

    async def deliveries(
        self, owner: str, endpoint_id: str, *, state: str | None = None, limit: int = 100
    ) -> DeliveryList:
        await self._owned(owner, endpoint_id)
        query = (
            sa.select(
                webhook_deliveries.c.event_id,
                webhook_deliveries.c.subject,
                webhook_deliveries.c.state,
                webhook_deliveries.c.attempts,
                webhook_deliveries.c.delivered_at,
                webhook_events.c.type,
                webhook_events.c.created_at,
            )
            .join(webhook_events, webhook_events.c.id == webhook_deliveries.c.event_id)
            .where(webhook_deliveries.c.endpoint_id == endpoint_id)
            .order_by(webhook_deliveries.c.event_id.desc())
            .limit(limit)
        )
        if state is not None:
            query = query.where(webhook_deliveries.c.state == state)
        async with self.database.read() as conn:
            rows = (await conn.execute(query)).all()
        return DeliveryList(
            deliveries=[
                Delivery(
                    event_id=r.event_id,
                    type=EventType(r.type),
                    subject=r.subject,
                    created_at=r.created_at,
                    state=r.state,
                    attempts=msgspec.convert(r.attempts, list[Attempt]),
                    delivered_at=r.delivered_at,
                )
                for r in rows
            ]
        )

    async def replay(self, owner: str, endpoint_id: str, event_ids: list[int] | None) -> Replayed:
        """Failed deliveries (or these events' deliveries, delivered or not) sent again, in order."""
        await self._owned(owner, endpoint_id)
        chosen = webhook_deliveries.c.endpoint_id == endpoint_id
        if event_ids is None:
            chosen = sa.and_(chosen, webhook_deliveries.c.state == "failed")
        else:
            chosen = sa.and_(chosen, webhook_deliveries.c.event_id.in_(event_ids))
        async with self.database.write() as conn:
            subjects = (
                (
                    await conn.execute(
                        webhook_deliveries.update()
                        .where(chosen)
                        .values(state="pending", first_tried_at=None, delivered_at=None)
                        .returning(webhook_deliveries.c.subject)
                    )
                )
                .scalars()
                .all()
            )
            for subject in set(subjects):
                await schedule(conn, DELIVER, lane(endpoint_id, subject))
        return Replayed(replayed=len(subjects))

    # ---------------------------------------------------------------- delivering

    async def run(self, job: Job) -> Outcome:
        """Deliver the lane's pending events oldest first; stop at one that fails, to keep the order."""
        endpoint_id, subject = job.subject.split("/", 1)
        async with self.database.read() as conn:
            endpoint = (
                await conn.execute(
                    sa.select(
                        webhook_endpoints.c.url, webhook_endpoints.c.secret, webhook_endpoints.c.deleted_at
                    ).where(webhook_endpoints.c.id == endpoint_id)
                )
            ).first()
        while True:
            head = await self._head(endpoint_id, subject)
            if head is None:
                return Done()
            if endpoint is None or endpoint.deleted_at is not None:
                await self._settle(head.id, "failed", head.attempts, head.first_tried_at, None)
                continue
            attempt, ok = await self._send(endpoint.url, endpoint.secret, head)
            attempts = [*head.attempts, msgspec.to_builtins(attempt)][-KEPT_ATTEMPTS:]
            first = head.first_tried_at or attempt.at
            if ok:
                await self._settle(head.id, "delivered", attempts, first, attempt.at)
                continue
            if self._clock() - first >= RETRY_FOR:
                await self._settle(head.id, "failed", attempts, first, None)
                continue
            await self._settle(head.id, "pending", attempts, first, None)
            return Later(pause_s(len(attempts)))

    async def _head(self, endpoint_id: str, subject: str) -> Any:
        query = (
            sa.select(
                webhook_deliveries.c.id,
                webhook_deliveries.c.event_id,
                webhook_deliveries.c.attempts,
                webhook_deliveries.c.first_tried_at,
                webhook_deliveries.c.subject,
                webhook_events.c.type,
                webhook_events.c.payload,
                webhook_events.c.created_at,
            )
            .join(webhook_events, webhook_events.c.id == webhook_deliveries.c.event_id)
            .where(
                webhook_deliveries.c.endpoint_id == endpoint_id,
                webhook_deliveries.c.subject == subject,
                webhook_deliveries.c.state == "pending",
            )
            .order_by(webhook_deliveries.c.event_id)
            .limit(1)
        )
        async with self.database.read() as conn:
            return (await conn.execute(query)).first()

    async def _send(self, url: str, secret: str, head: Any) -> tuple[Attempt, bool]:
        body = msgspec.json.encode(
            Event(
                id=head.event_id,
                type=EventType(head.type),
                created_at=head.created_at,
                subject=head.subject,
                data=head.payload,
            )
        )
        now = self._clock()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE: sign(secret, int(now.timestamp()), body),
            EVENT_ID: str(head.event_id),
        }
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            async with self.http.post(
                url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False
            ) as resp:
                status = resp.status
                await resp.read()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            error = type(exc).__name__ + (f": {exc}" if str(exc) else "")
        ms = round((time.monotonic() - started) * 1000)
        ok = status is not None and 200 <= status < 300
        if status is not None and not ok:
            error = f"HTTP {status}"
        return Attempt(at=now, status=status, error=error, ms=ms), ok

    async def _settle(
        self, delivery_id: int, state: str, attempts: Any, first: datetime | None, delivered_at: datetime | None
    ) -> None:
        async with self.database.write() as conn:
            await conn.execute(
                webhook_deliveries.update()
                .where(webhook_deliveries.c.id == delivery_id)
                .values(state=state, attempts=attempts, first_tried_at=first, delivered_at=delivered_at)
            )
