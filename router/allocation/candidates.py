"""Turn orders into options with the real quote engine: one quote per order and warehouse.

An option is any offer that meets the order's deadline from a carrier it does not exclude. An
order left with none carries the reason instead, so the plan can say why it was not served.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from router.allocation.model import (
    Candidates,
    Option,
    Order,
    Unserved,
    UnservedReason,
    Warehouse,
)
from router.core.errors import FieldError, InvalidRequest, PlaceNotFound
from router.core.models import Policy, PolicyKind, Quote, Shipment

if TYPE_CHECKING:
    from router.quoting.engine import QuoteEngine  # the engine's module loads every carrier's client

DEFAULT_CONCURRENCY = 16
_REASONS_SHOWN = 3


def check_warehouses(engine: QuoteEngine, warehouses: Sequence[Warehouse], path: str = "warehouses") -> None:
    """Raise InvalidRequest naming every warehouse whose place cannot be resolved."""
    errors: list[FieldError] = []
    for i, w in enumerate(warehouses):
        try:
            engine.resolve(Shipment(w.location, w.location, ()))
        except PlaceNotFound as exc:
            errors.extend(FieldError(f"{path}[{i}].location", e.message) for e in exc.errors)
    if errors:
        raise InvalidRequest(errors, title="Unknown warehouse place")


async def gather_candidates(
    engine: QuoteEngine,
    orders: Sequence[Order],
    warehouses: Sequence[Warehouse],
    ship_at: datetime | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Callable[[int], None] | None = None,
) -> list[Candidates]:
    """Candidates in the orders' order. Every order's warehouses must be among `warehouses`."""
    by_code = {w.code: w for w in warehouses}
    gate = asyncio.Semaphore(concurrency)
    # Cheapest-first with nobody excluded: exclusions are applied here so the reason can be told.
    policy = Policy(kind=PolicyKind.CHEAPEST)

    async def one(order: Order) -> Candidates:
        codes = order.warehouses or tuple(by_code)
        quotes: list[tuple[str, Quote]] = []
        try:
            for code in codes:
                async with gate:
                    quotes.append((code, await engine.quote(order.shipment(by_code[code].location, ship_at), policy)))
        except PlaceNotFound as exc:
            return Candidates(order.id, len(order.parcels), (), Unserved(order.id, UnservedReason.PLACE, str(exc)))
        finally:
            if progress is not None:
                progress(1)
        return _candidates(order, quotes)

    return list(await asyncio.gather(*(one(o) for o in orders)))


def _candidates(order: Order, quotes: Sequence[tuple[str, Quote]]) -> Candidates:
    offered = [(code, offer) for code, quote in quotes for offer in quote.offers]
    allowed = [(code, o) for code, o in offered if o.carrier not in order.exclude]
    on_time = [(code, o) for code, o in allowed if order.deadline is None or o.eta.max_date <= order.deadline]
    options = tuple(
        Option(code, o.carrier, o.service, o.price.total, o.eta.max_days, o.eta.max_date) for code, o in on_time
    )
    if options:
        return Candidates(order.id, len(order.parcels), options)
    if not offered:
        reasons = [f"{r.carrier}/{r.service}: {r.reason}" for _, q in quotes for r in q.rejections]
        reasons += [f"{e.carrier}: {e.message}" for _, q in quotes for e in q.errors]
        detail = "no carrier offers it"
        if reasons:
            more = f" and {len(reasons) - _REASONS_SHOWN} more" if len(reasons) > _REASONS_SHOWN else ""
            detail += " (" + "; ".join(reasons[:_REASONS_SHOWN]) + more + ")"
        unserved = Unserved(order.id, UnservedReason.NO_OPTION, detail)
    elif not allowed:
        carriers = ", ".join(sorted({o.carrier for _, o in offered}))
        unserved = Unserved(order.id, UnservedReason.EXCLUDED, f"only excluded carriers offer it: {carriers}")
    else:
        assert order.deadline is not None
        fastest = min(o.eta.max_date for _, o in allowed)
        unserved = Unserved(
            order.id,
            UnservedReason.DEADLINE,
            f"no offer arrives by {order.deadline.isoformat()}; the fastest arrives by {fastest.isoformat()}",
        )
    return Candidates(order.id, len(order.parcels), (), unserved)
