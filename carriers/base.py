"""The seam between the quote engine and every carrier.

A carrier answers one `RateRequest` with a `CarrierQuote`: the offers it can make and the
services it had to leave out (with the reason). Anything else — raising, hanging, answering
garbage — is the quote engine's problem to contain, never the buyer's.

Everything the engine uses is declared here, so a new carrier is one class that fills it in:

- `remote`: the carrier quotes over the network. The engine then puts it behind a circuit
  breaker shared by every worker, retries a transient failure once, and keeps its last good
  answer per lane to show, marked stale, when it fails. Rate cards say False and pay for none
  of that.
- `quote_sync`: the same answer as `quote`, worked out at once with no I/O, or None when this
  carrier has to be awaited. The engine answers rate cards on this path without a task each.
- `close`: release what the carrier holds of its own (the HTTP session is the caller's).

A remote carrier's breaker and retries are not the carrier's own: the engine's wiring wraps it
(`router.quoting.breaker.GuardedCarrier`), and the wrapper is a `Carrier` too.

What a carrier raises is in `carriers.errors`, under one root, `CarriersError`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from carriers.errors import CarrierResponseError
from router.core.models import CarrierInfo, CarrierQuote, RateRequest

__all__ = ["Carrier", "CarrierResponseError"]  # the error as the quote engine has always imported it


@runtime_checkable
class Carrier(Protocol):
    code: str
    remote: bool

    def info(self) -> CarrierInfo: ...

    async def quote(self, request: RateRequest) -> CarrierQuote: ...

    def quote_sync(self, request: RateRequest) -> CarrierQuote | None: ...

    def close(self) -> None: ...
