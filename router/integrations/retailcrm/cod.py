"""What cash on delivery each calculation was priced with, so `save` can hold a delivery to it.

A quote's prices include the carriers' cash-on-delivery fee only when the calculation asked for
cash on delivery, and the quote itself does not say so. Each `calculate` therefore records,
against the account and the quote id it answered with, the amount the buyer would pay on
delivery (0: prepaid). Identical calculations share one cached quote, so one quote may have been
calculated for several amounts; each is kept. The record lives as long as the quote's guarantee:
a save after that is refused for the expired quote anyway.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import orjson

from router.core.models import money
from router.store import Store, refuse_a_miss_it_cannot_vouch_for

# Outlives the quote by a little, so a save at the last moment hears "expired", not "never priced".
MARGIN_S = 60
PREFIX = "retailcrm:cod:"


class CodBook:
    def __init__(self, store: Store) -> None:
        self._store = store
        # Like its quote, a record made while Redis is away must reach the worker that saves.
        store.write_back_after_outages(PREFIX)

    @staticmethod
    def _key(account_id: str, quote_id: str) -> str:
        return f"{PREFIX}{account_id}:{quote_id}"

    async def _read(self, account_id: str, quote_id: str) -> frozenset[Decimal] | None:
        body = await self._store.get(self._key(account_id, quote_id))
        return None if body is None else frozenset(Decimal(amount) for amount in orjson.loads(body))

    async def priced(self, account_id: str, quote_id: str) -> frozenset[Decimal] | None:
        """The amounts this account's calculations under the quote asked to collect; None: none seen."""
        amounts = await self._read(account_id, quote_id)
        if amounts is None:
            await refuse_a_miss_it_cannot_vouch_for(self._store, f"cash on delivery of quote {quote_id}")
        return amounts

    async def record(
        self, account_id: str, quote_id: str, amount: Decimal, expires_at: datetime, now: datetime
    ) -> None:
        # Read, add, write: two calculations racing on one quote with different amounts may lose
        # one, and its save is then refused with "calculate again", never let through unpriced.
        known = await self._read(account_id, quote_id) or frozenset()
        amount = money(amount)
        if amount in known:
            return
        ttl_s = max((expires_at - now).total_seconds(), 0) + MARGIN_S
        body = orjson.dumps(sorted(str(a) for a in known | {amount}))
        await self._store.set(self._key(account_id, quote_id), body, ttl_s)
