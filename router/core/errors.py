"""Errors the service knows how to explain: every error raised across a border inside `router`
derives from `RouterError`.

    RouterError
    ├── InvalidRequest          the caller sent something wrong; carries FieldError list (422/400)
    │   └── PlaceNotFound       a location could not be resolved (names the field)
    ├── QuoteNotFound           no such quote id (404)
    ├── QuoteExpired            the quote existed but its price guarantee ran out (410)
    ├── QuoteNotHeld            the quote's recommended (or only) offers are estimates: nothing held (409)
    ├── Refused                 understood, and refused as things stand (its own status: 404,
    │                           409, 410 …; router.shipping's errors derive from it)
    ├── Unauthorized            no key, or a key that is unknown or revoked (401)
    ├── Forbidden               a valid key that may not do this, or not from this origin (403)
    ├── RateLimited             the key's requests-per-minute are spent (429, Retry-After)
    ├── ConfigError             a carrier file or setting is wrong; the service refuses to start
    ├── StoreError              the store could not do it (router.store; its own tree there)
    │   └── StoreUnavailable    Redis did not answer in time, or refused us (503, Retry-After)
    ├── OutcomeFileError        an outcomes file cannot be read as a whole (router.history)
    ├── RefuseToStart           settings that would serve unsafely (router.http.serving)
    ├── CrmError                RetailCRM's own API could not be used (router.integrations.retailcrm)
    │   ├── CrmUnreachable
    │   └── CrmRefused
    └── CallbackError           a RetailCRM callback is refused, with its status
        ├── Malformed, UnknownClient, Refused, DeliveryUnknown

Each one an HTTP request can meet is mapped to `application/problem+json` in one middleware
(router/http/middlewares/problems.py). `carriers` and `pickup_points` have roots of their own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    path: str  # JSON-pointer-ish dotted path: "shipment.parcels[0].weight_g"
    message: str


class RouterError(Exception):
    pass


class InvalidRequest(RouterError):
    def __init__(self, errors: list[FieldError], title: str = "Invalid request") -> None:
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))
        self.errors = errors
        self.title = title


class PlaceNotFound(InvalidRequest):
    def __init__(self, path: str, message: str) -> None:
        super().__init__([FieldError(path, message)], title="Unknown place")


class QuoteNotFound(RouterError):
    def __init__(self, quote_id: str) -> None:
        super().__init__(f"no quote {quote_id!r}")
        self.quote_id = quote_id


class QuoteExpired(RouterError):
    def __init__(self, quote_id: str, expired_at: str) -> None:
        super().__init__(f"quote {quote_id!r} expired at {expired_at}")
        self.quote_id = quote_id
        self.expired_at = expired_at


class QuoteNotHeld(RouterError):
    """An estimate (a down carrier's last good answer) is shown, never held: a fresh quote is needed."""

    def __init__(self, quote_id: str) -> None:
        super().__init__(f"quote {quote_id!r} holds no price: its recommended offers are estimates")
        self.quote_id = quote_id


class Refused(RouterError):
    """A request the service understood and will not carry out as things stand: no such thing
    (404), not in this state (409). `retry_after_s`: when asking again may succeed."""

    status = 409
    title = "Refused"

    def __init__(self, detail: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after_s = retry_after_s


class Unauthorized(RouterError):
    pass


class Forbidden(RouterError):
    pass


class RateLimited(RouterError):
    def __init__(self, retry_after_s: int, limit_per_min: int) -> None:
        super().__init__(f"more than {limit_per_min} requests a minute; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s
        self.limit_per_min = limit_per_min


class ConfigError(RouterError):
    """A configuration or carrier file is wrong; `source` names the file, `path` the field."""

    def __init__(self, source: str, path: str, message: str) -> None:
        super().__init__(f"{source}: {path}: {message}")
        self.source = source
        self.path = path
        self.message = message
