"""The one place that calls the CRM's own API: registering (or re-registering) the module, and
pushing the parcels' statuses to it.

The API key goes in the `X-API-KEY` header only; no message raised here contains it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from router.core.errors import RouterError

TIMEOUT_S = 15.0


class CrmError(RouterError):
    """The CRM's own API could not be used (connecting the module)."""


class CrmUnreachable(CrmError):
    """No answer from the CRM: wrong URL, network, or it is down."""


class CrmRefused(CrmError):
    """The CRM answered and said no; `status` and the CRM's own message say why."""

    def __init__(self, status: int, message: str, what: str = "the module") -> None:
        super().__init__(f"the CRM refused {what} (HTTP {status}): {message}")
        self.status = status


def _reason(body: Any) -> str:
    if not isinstance(body, dict):
        return "no JSON answer"
    message = str(body.get("errorMsg") or "no errorMsg")
    errors = body.get("errors")
    if isinstance(errors, dict):
        message += " (" + "; ".join(f"{k}: {v}" for k, v in errors.items()) + ")"
    elif isinstance(errors, list) and errors:
        message += " (" + "; ".join(str(e) for e in errors) + ")"
    return message


async def _post(
    http: aiohttp.ClientSession, url: str, crm_url: str, api_key: str, form: dict[str, str], timeout_s: float, what: str
) -> None:
    try:
        async with http.post(
            url, data=form, headers={"X-API-KEY": api_key}, timeout=aiohttp.ClientTimeout(total=timeout_s)
        ) as resp:
            status, raw = resp.status, await resp.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise CrmUnreachable(f"{crm_url} did not answer ({type(exc).__name__}: {exc})") from None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    if status >= 400 or not isinstance(body, dict) or body.get("success") is not True:
        raise CrmRefused(status, _reason(body), what)


async def push_tracking(
    http: aiohttp.ClientSession,
    crm_url: str,
    api_key: str,
    subcode: str,
    updates: list[dict[str, Any]],
    timeout_s: float = TIMEOUT_S,
) -> None:
    """`POST /api/v5/delivery/generic/{subcode}/tracking`, form-encoded `statusUpdate=<json>`:
    each delivery's status history, whole."""
    url = f"{crm_url.rstrip('/')}/api/v5/delivery/generic/{quote(subcode, safe='')}/tracking"
    await _post(
        http, url, crm_url, api_key, {"statusUpdate": orjson.dumps(updates).decode()}, timeout_s, "the statuses"
    )


async def register(
    http: aiohttp.ClientSession, crm_url: str, api_key: str, module: dict[str, Any], timeout_s: float = TIMEOUT_S
) -> None:
    """`POST /api/v5/integration-modules/{code}/edit`, form-encoded `integrationModule=<json>`."""
    url = f"{crm_url.rstrip('/')}/api/v5/integration-modules/{quote(module['code'], safe='')}/edit"
    await _post(
        http, url, crm_url, api_key, {"integrationModule": orjson.dumps(module).decode()}, timeout_s, "the module"
    )
