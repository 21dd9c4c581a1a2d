"""The only code that talks to the courier API: JSON POSTs and GETs with a static token, over aiohttp.

Calls go through the app's one `aiohttp.ClientSession` (its connector caps the connections to
each host and keeps them alive). Redirects are not followed: the URL is configured, and a 3xx
is the operator's to fix. Refusals in the API's own words (a 4xx with a JSON body) come back
to the caller to read; what a bare HTTP status means is decided here, the same for every call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aiohttp

from carriers.api import NO_SESSION_TIMEOUT, Secret, read_body, retry_after_s
from carriers.errors import CarrierApiError, CarrierAuthError, CarrierRateLimited, CarrierUnavailable

CALCULATE_PATH = "/calculate-order"
CREATE_ORDER_PATH = "/create-order"
CANCEL_ORDER_PATH = "/cancel-order"
ORDERS_PATH = "/orders"
AUTH_HEADER = "X-DV-Auth-Token"

Answer = tuple[int, float | None, bytes]  # HTTP status, Retry-After seconds, body
Query = Mapping[str, str | int] | Sequence[tuple[str, str | int]]


class CourierClient:
    def __init__(
        self, http: aiohttp.ClientSession | None, *, base_url: str, token: Secret, carrier: str = "courier"
    ) -> None:
        self._http = http
        self._token = token
        self.base_url = base_url.rstrip("/")
        self.carrier = carrier
        self._url = self.base_url + CALCULATE_PATH
        self._headers: dict[str, str] | None = None

    def __repr__(self) -> str:
        return f"CourierClient({self.base_url!r}, carrier={self.carrier!r})"

    def close(self) -> None:
        """Nothing of its own to release: connections belong to the session, the session to the app."""

    async def calculate(self, body: bytes) -> Answer:
        """(HTTP status, Retry-After seconds, answer body); refusals are the carrier's to read."""
        # A price calculation is safe to ask for again on a dropped connection.
        return self._checked(await self._post(self._session(), self._url, body, again=True))

    async def create_order(self, body: bytes) -> Answer:
        # Never sent twice here: an order that may have been made is looked up by our number first.
        return self._checked(await self._post(self._session(), self.base_url + CREATE_ORDER_PATH, body, again=False))

    async def cancel_order(self, body: bytes) -> Answer:
        # Cancelling twice cancels once.
        return self._checked(await self._post(self._session(), self.base_url + CANCEL_ORDER_PATH, body, again=True))

    async def orders(self, query: Query) -> Answer:
        """`GET /orders`: by `order_id`, or a page of the recent orders (`status`, `offset`, `count`)."""
        return self._checked(await self._get(self._session(), self.base_url + ORDERS_PATH, query, again=True))

    def _checked(self, answer: Answer) -> Answer:
        status, retry_after, _ = answer
        if 300 <= status < 400:
            raise CarrierApiError(self.carrier, f"HTTP {status} (redirect not followed)", status=status)
        if status == 429:
            raise CarrierRateLimited(self.carrier, "rate limited", status=status, retry_after_s=retry_after)
        if status in (401, 403):
            raise CarrierAuthError(self.carrier, "token refused", status=status)
        if status >= 500:
            raise CarrierUnavailable(self.carrier, f"HTTP {status}", status=status)
        return answer

    async def _post(self, http: aiohttp.ClientSession, url: str, body: bytes, *, again: bool) -> Answer:
        try:
            async with http.post(
                url, data=body, headers=self._auth_headers(), timeout=NO_SESSION_TIMEOUT, allow_redirects=False
            ) as resp:
                answer = await read_body(resp, self.carrier)
                return resp.status, retry_after_s(resp.headers.get("Retry-After")), answer
        except aiohttp.ServerDisconnectedError as exc:
            # Closed before a byte of the answer, most often a kept-alive connection dropped as the
            # call went out: a call that is safe to repeat is asked again, once, on a new one.
            if again:
                return await self._post(http, url, body, again=False)
            raise CarrierUnavailable(self.carrier, f"{_name(url)} failed: {type(exc).__name__}") from None
        except TimeoutError:
            raise  # the caller's time budget ran out (TimeoutError is an OSError too)
        except (aiohttp.ClientError, OSError) as exc:
            raise CarrierUnavailable(self.carrier, f"{_name(url)} failed: {type(exc).__name__}") from None

    async def _get(self, http: aiohttp.ClientSession, url: str, query: Query, *, again: bool) -> Answer:
        try:
            async with http.get(
                url, params=query, headers=self._auth_headers(), timeout=NO_SESSION_TIMEOUT, allow_redirects=False
            ) as resp:
                answer = await read_body(resp, self.carrier)
                return resp.status, retry_after_s(resp.headers.get("Retry-After")), answer
        except aiohttp.ServerDisconnectedError as exc:
            if again:
                return await self._get(http, url, query, again=False)
            raise CarrierUnavailable(self.carrier, f"{_name(url)} failed: {type(exc).__name__}") from None
        except TimeoutError:
            raise
        except (aiohttp.ClientError, OSError) as exc:
            raise CarrierUnavailable(self.carrier, f"{_name(url)} failed: {type(exc).__name__}") from None

    def _auth_headers(self) -> dict[str, str]:
        if self._headers is None:
            self._headers = {
                AUTH_HEADER: self._token.reveal(),
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
        return self._headers

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            raise CarrierUnavailable(self.carrier, "no HTTP session (configured for listing only)")
        if self._http.closed:
            raise CarrierUnavailable(self.carrier, "HTTP session closed")
        return self._http


def _name(url: str) -> str:
    return url.rsplit("/", 1)[-1]  # calculate-order, create-order, orders: how errors name the call
