"""The only code that talks to CDEK: OAuth2 client credentials and its JSON calls, over aiohttp.

Calls go through the app's one `aiohttp.ClientSession`, whose connector caps the connections
to each host and keeps them alive between calls. The token is cached until shortly before it
expires and shared by every caller; callers that find it missing wait on one lock, so a burst
of quotes makes one token request. A 401 drops the token and the call is made once more with a
fresh one. Redirects are not followed: the URL is configured, and a 3xx is the operator's to fix.

Booking (`carriers.cdek.booking`) uses the same token through `call` (any method, any 2xx) and
`fetch_pdf` (a print form by the URL CDEK gave). Answers come back as bytes for
`carriers.cdek.carrier` and `carriers.cdek.booking` to read; what an HTTP status means is
decided here (`CarrierRateLimited`, `CarrierAuthError`, `CarrierUnavailable`, `CarrierApiError`
with CDEK's own errors). Time limits are the caller's (`carriers.api.bounded`).
"""

from __future__ import annotations

import asyncio
import time as _time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
import msgspec
from multidict import CIMultiDictProxy
from yarl import URL

from carriers.api import NO_SESSION_TIMEOUT, Secret, read_body, retry_after_s
from carriers.cdek import wire
from carriers.errors import CarrierApiError, CarrierAuthError, CarrierRateLimited, CarrierUnavailable

DEFAULT_BASE_URL = "https://api.edu.cdek.ru"  # CDEK's public test environment
TOKEN_PATH = "/v2/oauth/token"
TARIFFLIST_PATH = "/v2/calculator/tarifflist"
DELIVERYPOINTS_PATH = "/v2/deliverypoints"


def token_form(client_id: Secret, client_secret: Secret) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": client_id.reveal(),
        "client_secret": client_secret.reveal(),
    }


def parse_token(body: bytes, carrier: str) -> tuple[str, float]:
    """(access token, seconds it lives) from the token answer."""
    try:
        answer = wire.token_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise CarrierAuthError(carrier, f"unusable token answer: {exc}") from None
    expires_in = answer.expires_in
    if isinstance(expires_in, str):
        try:
            expires_in = float(expires_in)
        except ValueError:
            raise CarrierAuthError(carrier, f"token answer has no usable expires_in: {expires_in!r}") from None
    if not 0 <= expires_in < float("inf"):
        raise CarrierAuthError(carrier, f"token answer has no usable expires_in: {expires_in!r}")
    return answer.access_token, expires_in


def deliverypoints_query(filters: Mapping[str, Any] | None, page: int, size: int) -> dict[str, str]:
    query: dict[str, str] = {}
    for key, value in (filters or {}).items():
        if value is None:
            continue
        # Query strings have no booleans; CDEK reads the JSON spelling.
        query[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    query["page"] = str(page)  # 0-based
    query["size"] = str(size)
    return query


def total_elements(headers: Mapping[str, str]) -> int | None:
    value = headers.get("X-Total-Elements")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class CdekClient:
    """CDEK's calls for one account: the calculator, delivery-point pages and the token behind them."""

    def __init__(
        self,
        http: aiohttp.ClientSession | None,
        *,
        client_id: Secret,
        client_secret: Secret,
        base_url: str = DEFAULT_BASE_URL,
        carrier: str = "cdek",
        clock: Callable[[], float] = _time.monotonic,
    ) -> None:
        self._http = http
        self._client_id = client_id
        self._client_secret = client_secret
        self.base_url = base_url.rstrip("/").removesuffix("/v2")
        self.carrier = carrier
        self._clock = clock
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._lock = asyncio.Lock()
        self.token_requests = 0
        self._tarifflist_url = self.base_url + TARIFFLIST_PATH
        self._json_headers: tuple[str, dict[str, str]] | None = None  # (token, the calculator's headers)

    def __repr__(self) -> str:
        return f"CdekClient({self.base_url!r}, carrier={self.carrier!r})"

    def close(self) -> None:
        """Nothing of its own to release: connections belong to the session, the session to the app."""

    async def tarifflist(self, body: bytes) -> bytes:
        """The calculator's answer (a 2xx body) to `body`, the request already encoded."""
        http = self._session()
        for attempt in (1, 2):
            token = self._token
            if token is None or self._clock() >= self._token_expires_at:
                token = await self._bearer()
            status, retry_after, answer = await self._post_json(http, token, body)
            if status == 401 and attempt == 1:
                self._drop(token)
                continue
            if 300 <= status < 400:
                raise CarrierApiError(self.carrier, f"HTTP {status} (redirect not followed)", status=status)
            return self._checked(status, retry_after, answer)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _post_json(
        self, http: aiohttp.ClientSession, token: str, body: bytes, *, again: bool = True
    ) -> tuple[int, str | None, bytes]:
        try:
            async with http.post(
                self._tarifflist_url,
                data=body,
                headers=self._calculator_headers(token),
                timeout=NO_SESSION_TIMEOUT,
                allow_redirects=False,
            ) as resp:
                return resp.status, resp.headers.get("Retry-After"), await read_body(resp, self.carrier)
        except aiohttp.ServerDisconnectedError as exc:
            # Closed before a byte of the answer: most often a kept-alive connection the server
            # dropped as the call went out. aiohttp asks again only for idempotent methods; the
            # calculator is one in all but name, so once more, on a new connection.
            if again:
                return await self._post_json(http, token, body, again=False)
            raise CarrierUnavailable(self.carrier, f"POST {TARIFFLIST_PATH} failed: {type(exc).__name__}") from None
        except TimeoutError:
            raise  # the caller's time budget ran out (TimeoutError is an OSError too)
        except (aiohttp.ClientError, OSError) as exc:
            raise CarrierUnavailable(self.carrier, f"POST {TARIFFLIST_PATH} failed: {type(exc).__name__}") from None

    def _calculator_headers(self, token: str) -> dict[str, str]:
        if self._json_headers is None or self._json_headers[0] != token:
            headers = {**self._auth_headers(token), "Content-Type": "application/json"}
            self._json_headers = (token, headers)
        return self._json_headers[1]

    async def deliverypoints_page(
        self, filters: Mapping[str, Any] | None, page: int, size: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        headers, body = await self._get(DELIVERYPOINTS_PATH, deliverypoints_query(filters, page, size))
        return parse_deliverypoints_page(body, self.carrier), total_elements(headers)

    @staticmethod
    def token_margin_s(expires_in: float) -> float:
        """How long before expiry a token is replaced: a minute, or a tenth of a short life."""
        return min(60.0, expires_in * 0.1)

    async def _bearer(self) -> str:
        token = self._token
        if token is not None and self._clock() < self._token_expires_at:
            return token
        async with self._lock:
            token = self._token
            if token is not None and self._clock() < self._token_expires_at:
                return token
            token, expires_in = await self._fetch_token()
            self._token = token
            self._token_expires_at = self._clock() + expires_in - self.token_margin_s(expires_in)
            return token

    def _drop(self, token: str) -> None:
        # Only the token that failed: a caller holding an older 401 must not throw away a new one.
        if self._token == token:
            self._token = None

    async def _fetch_token(self) -> tuple[str, float]:
        http = self._session()
        self.token_requests += 1
        try:
            async with http.post(
                self.base_url + TOKEN_PATH,
                data=token_form(self._client_id, self._client_secret),
                headers={"Accept": "application/json"},
                timeout=NO_SESSION_TIMEOUT,
                allow_redirects=False,
            ) as resp:
                body = await read_body(resp, self.carrier)
                status, retry_after = resp.status, resp.headers.get("Retry-After")
        except TimeoutError:
            raise  # the caller's time budget ran out (TimeoutError is an OSError too)
        except (aiohttp.ClientError, OSError) as exc:
            raise CarrierUnavailable(self.carrier, f"token request failed: {type(exc).__name__}") from None
        if status in (400, 401, 403):
            raise CarrierAuthError(self.carrier, "credentials refused", status=status)
        return parse_token(self._checked(status, retry_after, body), self.carrier)

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            raise CarrierUnavailable(self.carrier, "no HTTP session (configured for listing only)")
        if self._http.closed:
            raise CarrierUnavailable(self.carrier, "HTTP session closed")
        return self._http

    async def _get(self, path: str, params: Mapping[str, str]) -> tuple[CIMultiDictProxy[str], bytes]:
        """A GET through the session (delivery-point pages), with the same token handling."""
        return await self._send("GET", self.base_url + path, params=params)

    async def call(
        self, method: str, path: str, *, body: bytes | None = None, params: Mapping[str, str] | None = None
    ) -> bytes:
        """The answer (any 2xx: CDEK takes orders with a 202) to `method path`, `body` already encoded."""
        _, answer = await self._send(method, self.base_url + path, params=params, body=body)
        return answer

    async def fetch_pdf(self, url: str) -> bytes:
        """A print form CDEK made, from the absolute `url` it gave, with the same bearer token.

        The token goes only to the host the client is configured for: a URL elsewhere is refused
        rather than handed the account's credentials."""
        if URL(url).origin() != URL(self.base_url).origin():
            raise CarrierApiError(self.carrier, f"print form at {URL(url).origin()} is not on {self.base_url}")
        _, answer = await self._send("GET", url, accept="application/pdf")
        return answer

    async def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        accept: str = "application/json",
    ) -> tuple[CIMultiDictProxy[str], bytes]:
        """One call with the account's token, made once more with a fresh token after a 401."""
        http = self._session()
        path = URL(url).path
        for attempt in (1, 2):
            token = await self._bearer()
            headers = {**self._auth_headers(token), "Accept": accept}
            if body is not None:
                headers["Content-Type"] = "application/json"
            try:
                async with http.request(
                    method,
                    url,
                    params=params,
                    data=body,
                    headers=headers,
                    timeout=NO_SESSION_TIMEOUT,
                    allow_redirects=False,
                ) as resp:
                    if resp.status == 401 and attempt == 1:
                        self._drop(token)
                        continue
                    answer = await read_body(resp, self.carrier)
                    status, resp_headers = resp.status, resp.headers
            except TimeoutError:
                raise  # the caller's time budget ran out (TimeoutError is an OSError too)
            except (aiohttp.ClientError, OSError) as exc:
                raise CarrierUnavailable(self.carrier, f"{method} {path} failed: {type(exc).__name__}") from None
            if 300 <= status < 400:
                raise CarrierApiError(self.carrier, f"HTTP {status} (redirect not followed)", status=status)
            return resp_headers, self._checked(status, resp_headers.get("Retry-After"), answer)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _auth_headers(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def _checked(self, status: int, retry_after: str | None, body: bytes) -> bytes:
        """`body` when the status says it is an answer; the error the status means otherwise."""
        if status < 400:
            return body
        if status == 429:
            raise CarrierRateLimited(
                self.carrier, "rate limited", status=status, retry_after_s=retry_after_s(retry_after)
            )
        if status == 401:
            raise CarrierAuthError(self.carrier, "token refused twice", status=status)
        if status >= 500:
            raise CarrierUnavailable(self.carrier, f"HTTP {status}", status=status, errors=wire.errors_in(body))
        raise CarrierApiError(self.carrier, f"HTTP {status}", status=status, errors=wire.errors_in(body))


def parse_deliverypoints_page(body: bytes, carrier: str) -> list[dict[str, Any]]:
    """A page of delivery points, each as CDEK shapes it; a refusal or another shape raises."""
    try:
        page = wire.points_decoder.decode(body)
    except msgspec.ValidationError:
        errors = wire.errors_in(body)
        if errors:
            raise CarrierApiError(carrier, "delivery points refused", errors=errors) from None
        raise CarrierApiError(carrier, "delivery points answer is not a list") from None
    except msgspec.DecodeError as exc:
        raise CarrierApiError(carrier, f"delivery points answer is not JSON ({exc})") from None
    return [p for p in page if isinstance(p, dict)]
