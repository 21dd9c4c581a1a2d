"""Everything a carrier raises across the border of the `carriers` package.

    CarriersError                   the root: catch it to catch anything a carrier raised
    ├── CarrierResponseError        the carrier answered, but nothing that can be priced
    │   └── CarrierApiError         carries the HTTP status and the carrier's own errors
    │       ├── CarrierAuthError    credentials refused (kind "error")
    │       ├── CarrierRateLimited  429; `retry_after_s` when the carrier said
    │       └── CarrierUnavailable  5xx, connection refused, reset or dropped
    └── CarrierTimeout              no answer within the call's own time budget (also a
                                    builtin `TimeoutError`, so callers that only know asyncio
                                    tell it apart all the same)

Each error's `kind` uses the vocabulary of `router.core.models.CarrierError` (the quote's
record of a carrier that failed); `transient` says whether asking again soon could succeed
(`carriers.api.retry_once`). A caller's own cancellation stays `asyncio.CancelledError`.
"""

from __future__ import annotations

from dataclasses import dataclass


class CarriersError(Exception):
    """Root of every exception the carriers package raises to its callers.

    `kind` is the `router.core.models.CarrierError` kind the quote shows for it.
    """

    kind: str = "error"
    transient: bool = False


class CarrierResponseError(CarriersError):
    """A carrier answered, but not with anything that can be priced."""

    kind = "invalid_response"


@dataclass(frozen=True, slots=True)
class ApiErrorDetail:
    """One error as the carrier reported it: its own code and message (or a field path)."""

    code: str
    message: str = ""
    field: str | None = None  # the request field it is about, where the carrier names one


class CarrierApiError(CarrierResponseError):
    def __init__(
        self,
        carrier: str,
        message: str,
        *,
        status: int | None = None,
        errors: tuple[ApiErrorDetail, ...] = (),
    ) -> None:
        detail = "; ".join(f"{e.code}: {e.message}" if e.message else e.code for e in errors)
        super().__init__(f"{carrier}: {message}" + (f" ({detail})" if detail else ""))
        self.carrier = carrier
        self.status = status
        self.errors = errors


class CarrierAuthError(CarrierApiError):
    kind = "error"


class CarrierRateLimited(CarrierApiError):
    kind = "unavailable"
    transient = True  # only once Retry-After has passed, and only when the carrier said when

    def __init__(
        self,
        carrier: str,
        message: str,
        *,
        retry_after_s: float | None = None,
        status: int | None = None,
        errors: tuple[ApiErrorDetail, ...] = (),
    ) -> None:
        super().__init__(carrier, message, status=status, errors=errors)
        self.retry_after_s = retry_after_s


class CarrierUnavailable(CarrierApiError):
    kind = "unavailable"
    transient = True


class CarrierTimeout(CarriersError, TimeoutError):
    """The call's own timeout ran out (cut to the caller's deadline) before an answer came."""

    kind = "timeout"
    # Asking again would wait as long: the breaker, not a retry, holds a slow carrier off.
    transient = False
