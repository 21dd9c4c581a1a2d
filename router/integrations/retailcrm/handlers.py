"""The callback endpoints: read the CRM's form or query, find the account, answer in its envelope.

The CRM POSTs `application/x-www-form-urlencoded` with `clientId` and one field named after
the action holding a JSON string; `get` and `shipmentPointList` come as GETs with query
parameters. Every answer, refusals included, is `{"success": …}` JSON: the CRM shows a
refusal's `errorMsg` to the manager and cannot read anything else. The one exception is a
successful `print`, answered with the PDF itself.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from router.http import appkeys as keys
from router.integrations.retailcrm import answers
from router.integrations.retailcrm.accounts import Account
from router.integrations.retailcrm.callbacks import Callbacks
from router.integrations.retailcrm.cod import CodBook
from router.integrations.retailcrm.deliveries import DeliveryBook
from router.integrations.retailcrm.errors import CallbackError, Malformed, UnknownClient
from router.integrations.retailcrm.reading import (
    NUL,
    read_calculate,
    read_delete,
    read_point_query,
    read_print,
    read_save,
    read_shipment_delete,
    read_shipment_save,
)
from router.records import RecordsUnavailable
from router.store import StoreUnavailable

log = logging.getLogger(__name__)

Params = dict[str, str]
RETRY_AFTER_S = 5
# Said instead of "not found" or "expired": those would have the manager recalculate or drop a
# delivery that is only out of reach for a moment.
UNAVAILABLE = (
    f"the store that keeps quotes and earlier deliveries is not answering right now; retry in {RETRY_AFTER_S} seconds"
)
RECORDS_UNAVAILABLE = (
    f"the database that keeps accounts and saved deliveries is not answering; retry in {RETRY_AFTER_S} seconds"
)
Action = Callable[[web.Request, Params, Account, Callbacks], Awaitable[Any]]


def _answer(status: int, body: Any) -> web.Response:
    return web.Response(status=status, body=answers.ENCODER.encode(body), content_type="application/json")


async def _params(request: web.Request) -> Params:
    params: Params = {}
    try:
        form = await request.post() if request.method == "POST" else {}
    except (ValueError, HttpProcessingError) as exc:  # a multipart body without its boundary, say
        raise Malformed("body", f"is not a readable form ({exc})") from None
    for source in (form, request.query):  # a POST's form over its query string
        for name, value in source.items():
            if not isinstance(value, str):
                raise Malformed(name, "must be a plain form field, not a file")
            params.setdefault(name, value)
    return params


async def _account(request: web.Request, params: Params) -> Account:
    client_id = params.get("clientId", "").strip()
    if not client_id:
        raise UnknownClient("clientId is required")
    account = await request.app[keys.RETAILCRM_ACCOUNTS].authenticate(client_id)
    if account is None:
        raise UnknownClient("this clientId belongs to no connected account; connect the CRM again")
    return account


def _callbacks(app: web.Application) -> Callbacks:
    return Callbacks(
        engine=app[keys.ENGINE],
        quotes=app[keys.QUOTES],
        directory=app[keys.PICKUP_POINTS].directory,
        places=app[keys.PLACES],
        deliveries=DeliveryBook(app[keys.RETAILCRM_ACCOUNTS].db, app[keys.STORE]),
        cod=CodBook(app[keys.STORE]),
        settings=app[keys.SETTINGS],
        shipper=app[keys.SHIPPER],
    )


def _json_field(params: Params, name: str) -> str:
    # Decoded by the reader, straight into the entity's types.
    raw = params.get(name)
    if raw is None:
        raise Malformed(name, "is required: the request as a JSON string")
    return raw


def callback(action: Action) -> Callable[[web.Request], Awaitable[web.Response]]:
    @functools.wraps(action)
    async def handler(request: web.Request) -> web.Response:
        try:
            params = await _params(request)
            account = await _account(request, params)
            result = await action(request, params, account, _callbacks(request.app))
        except CallbackError as exc:
            return _answer(exc.status, answers.failure(exc.message))
        except (StoreUnavailable, RecordsUnavailable) as exc:
            log.warning("%s", exc, exc_info=True)
            unavailable = UNAVAILABLE if isinstance(exc, StoreUnavailable) else RECORDS_UNAVAILABLE
            response = _answer(503, answers.failure(unavailable))
            response.headers["Retry-After"] = str(RETRY_AFTER_S)
            return response
        except web.HTTPException as exc:  # a body over the size limit, raised while reading the form
            if exc.status < 400:
                raise
            return _answer(exc.status, answers.failure(exc.reason))
        except Exception:
            log.exception("retailcrm callback %s failed", request.path)
            return _answer(500, answers.failure("internal error; the failure is logged"))
        if isinstance(result, web.Response):
            return result
        return _answer(200, answers.success(result))

    return handler


@callback
async def calculate(request: web.Request, params: Params, account: Account, calls: Callbacks) -> Any:
    parsed = read_calculate(_json_field(params, "calculate"), request.app[keys.SETTINGS].max_parcels)
    return answers.calculate_result(await calls.calculate(account, parsed))


@callback
async def tariff_list(request: web.Request, params: Params, account: Account, calls: Callbacks) -> Any:
    return answers.tariff_list(calls.tariffs(account))


@callback
async def shipment_point_list(request: web.Request, params: Params, account: Account, calls: Callbacks) -> Any:
    return [answers.terminal(p) for p in calls.shipment_points(account, read_point_query(params))]


@callback
async def save(request: web.Request, params: Params, account: Account, calls: Callbacks) -> Any:
    return answers.save_result(await calls.save(account, read_save(_json_field(params, "save"))))


@callback
async def get(request: web.Request, params: Params, account: Account, calls: Callbacks) -> Any:
    delivery_id = params.get("deliveryId", "").strip()
    if not delivery_id:
        raise Malformed("deliveryId", "is required")
    if "\0" in delivery_id:
        raise Malformed("deliveryId", NUL)
    return answers.load_result(await calls.get(account, delivery_id))


@callback
async def delete(request: web.Request, params: Params, account: Account, calls: Callbacks) -> Any:
    await calls.delete(account, read_delete(_json_field(params, "delete")))
    return None


@callback
async def print_labels(request: web.Request, params: Params, account: Account, calls: Callbacks) -> Any:
    pdf = await calls.labels(account, read_print(_json_field(params, "print")))
    return web.Response(
        body=pdf, content_type="application/pdf", headers={"Content-Disposition": 'inline; filename="labels.pdf"'}
    )


@callback
async def shipment_save(request: web.Request, params: Params, account: Account, calls: Callbacks) -> Any:
    pickup = await calls.shipment_save(account, read_shipment_save(_json_field(params, "shipmentSave")))
    return answers.shipment_save_result(pickup)


@callback
async def shipment_delete(request: web.Request, params: Params, account: Account, calls: Callbacks) -> Any:
    await calls.shipment_delete(account, read_shipment_delete(_json_field(params, "shipmentDelete")))
    return None
