"""The seam between the quote engine and every carrier.

A carrier answers one `RateRequest` with a `CarrierQuote`: the offers it can make and the
services it had to leave out (with the reason). Anything else — raising, hanging, answering
garbage — is the quote engine's problem to contain, never the buyer's.

A carrier that quotes over the network says so with `remote = True` (the breaker's wrapper
does): the engine then keeps its last good answer per lane and shows it, marked stale, when
the carrier fails. Rate cards leave it out and never pay for that.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from router.models import CarrierInfo, CarrierQuote, RateRequest


@runtime_checkable
class Carrier(Protocol):
    code: str

    def info(self) -> CarrierInfo: ...

    async def quote(self, request: RateRequest) -> CarrierQuote: ...


class CarrierResponseError(Exception):
    """A carrier answered, but not with anything that can be priced."""
