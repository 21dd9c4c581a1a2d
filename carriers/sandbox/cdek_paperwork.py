"""The CDEK emulator's paperwork: label print forms and courier pick-ups, as CDEK answers them.

    POST   /v2/print/barcodes          202; GET …/{uuid} goes ACCEPTED → PROCESSING → READY with a
                                       `url`, GET of which is the PDF (bearer token required)
    POST   /v2/intakes                 202; GET / DELETE /v2/intakes/{uuid}

A print form is made `print_ready_after_s` after it was asked for, and then every watcher of the
orders is told (`print_watchers`: the `PRINT_FORM` webhooks, `carriers.sandbox.cdek_journeys`).
The control API makes one at once, for tests that want the call at a moment of their choosing:

    POST   /_sandbox/prints/{uuid}/ready

Every path here goes through the emulator's fault middleware like the quoting ones.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from reportlab.graphics.barcode.code128 import Code128  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A6  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from carriers.sandbox.cdek_orders import (
    ORDERS,
    SandboxOrders,
    guarded,
    json_object,
    new_uuid,
    not_found,
    now_iso,
    refused,
)
from carriers.sandbox.faults import CONTROL_PREFIX, json_response


@dataclass
class SandboxPrint:
    uuid: str
    order_uuids: list[str]
    paper: str
    created_at: float
    cdek_numbers: list[str] = field(default_factory=list)
    url: str = ""  # the PDF, once made
    made: bool = False
    told: bool = False  # the watchers were told it is made


def print_state(orders: SandboxOrders, form: SandboxPrint) -> str:
    elapsed = orders.clock() - form.created_at
    if form.made or elapsed >= orders.print_ready_after_s:
        return "READY"
    return "PROCESSING" if elapsed >= orders.print_ready_after_s / 2 else "ACCEPTED"


def made(orders: SandboxOrders, form: SandboxPrint) -> None:
    """The form is made (its time came, or the control API said so): its watchers told, once."""
    form.made = True
    if not form.told:
        form.told = True
        for watcher in orders.print_watchers:
            watcher(form)


# ---------------------------------------------------------------- handlers


async def create_barcodes(request: web.Request) -> web.Response:
    body = await json_object(request)
    wanted = body.get("orders") if body else None
    if not isinstance(wanted, list) or not wanted or not all(isinstance(o, dict) for o in wanted):
        return refused(400, "CREATE", "v2_field_is_empty", "orders")
    paper = str(body.get("format", "A4")) if body else "A4"
    if paper not in ("A4", "A5", "A6", "A7"):
        return refused(400, "CREATE", "v2_invalid_format", f"format: {paper!r}")
    orders = request.app[ORDERS]
    form = SandboxPrint(new_uuid(), [], paper, orders.clock())
    for ask in wanted:
        order = orders.orders.get(str(ask.get("order_uuid")))
        if order is None and ask.get("cdek_number"):
            order = next((o for o in orders.orders.values() if o.cdek_number == str(ask["cdek_number"])), None)
        if order is None or orders.decide(order).cdek_number is None or order.status == "REMOVED":
            return refused(400, "CREATE", "v2_entity_empty", f"no booked order {ask}")
        form.order_uuids.append(order.uuid)
        form.cdek_numbers.append(str(order.cdek_number))
    form.url = f"{request.url.origin()}/v2/print/barcodes/{form.uuid}.pdf"
    orders.prints[form.uuid] = form
    asyncio.get_running_loop().call_later(orders.print_ready_after_s, made, orders, form)
    request_entry = {"request_uuid": new_uuid(), "type": "CREATE", "state": "ACCEPTED", "date_time": now_iso()}
    return json_response({"entity": {"uuid": form.uuid}, "requests": [request_entry]}, status=202)


async def get_barcodes(request: web.Request) -> web.Response:
    orders = request.app[ORDERS]
    form = orders.prints.get(request.match_info["uuid"])
    if form is None:
        return not_found("GET", f"uuid {request.match_info['uuid']}")
    state = print_state(orders, form)
    codes = {
        "ACCEPTED": ["ACCEPTED"],
        "PROCESSING": ["PROCESSING", "ACCEPTED"],
        "READY": ["READY", "PROCESSING", "ACCEPTED"],
    }
    entity: dict[str, Any] = {
        "uuid": form.uuid,
        "orders": [{"order_uuid": u} for u in form.order_uuids],
        "copy_count": 1,
        "format": form.paper,
        "statuses": [{"code": c, "name": c, "date_time": now_iso()} for c in codes[state]],
    }
    if state == "READY":
        entity["url"] = form.url
    return json_response({"entity": entity, "requests": []})


def label_pdf(cdek_numbers: list[str]) -> bytes:
    """An A6 page per order: a Code 128 barcode of its number and the number in text."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A6)
    width, height = A6
    for number in cdek_numbers:
        canvas.setFont("Helvetica-Bold", 14)
        canvas.drawString(10 * mm, height - 15 * mm, "CDEK (sandbox)")
        barcode = Code128(number, barHeight=25 * mm, barWidth=0.45 * mm, quiet=True)
        barcode.drawOn(canvas, (width - barcode.width) / 2, height / 2 - 10 * mm)
        canvas.setFont("Helvetica", 16)
        canvas.drawCentredString(width / 2, height / 2 - 20 * mm, number)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


async def get_barcodes_pdf(request: web.Request) -> web.Response:
    orders = request.app[ORDERS]
    form = orders.prints.get(request.match_info["uuid"])
    if form is None or print_state(orders, form) != "READY":
        return not_found("GET", f"uuid {request.match_info['uuid']}")
    return web.Response(body=label_pdf(form.cdek_numbers), content_type="application/pdf")


async def create_intake(request: web.Request) -> web.Response:
    body = await json_object(request)
    if body is None:
        return refused(400, "CREATE", "v2_bad_request", "body is not a JSON object")
    for name in ("intake_date", "intake_time_from", "intake_time_to", "from_location"):
        if not body.get(name):
            return refused(400, "CREATE", "v2_field_is_empty", name)
    intake_uuid = new_uuid()
    statuses = [{"code": "ACCEPTED", "name": "Принята", "date_time": now_iso()}]
    request.app[ORDERS].intakes[intake_uuid] = {"uuid": intake_uuid, **body, "statuses": statuses}
    request_entry = {"request_uuid": new_uuid(), "type": "CREATE", "state": "ACCEPTED", "date_time": now_iso()}
    return json_response({"entity": {"uuid": intake_uuid}, "requests": [request_entry]}, status=202)


async def get_intake(request: web.Request) -> web.Response:
    intake = request.app[ORDERS].intakes.get(request.match_info["uuid"])
    if intake is None:
        return not_found("GET", f"uuid {request.match_info['uuid']}")
    return json_response({"entity": intake, "requests": []})


async def delete_intake(request: web.Request) -> web.Response:
    intake = request.app[ORDERS].intakes.get(request.match_info["uuid"])
    if intake is None:
        return not_found("DELETE", f"uuid {request.match_info['uuid']}")
    if intake["statuses"][0]["code"] != "REMOVED":
        intake["statuses"].insert(0, {"code": "REMOVED", "name": "Удалена", "date_time": now_iso()})
    request_entry = {"request_uuid": new_uuid(), "type": "DELETE", "state": "ACCEPTED", "date_time": now_iso()}
    return json_response({"entity": {"uuid": intake["uuid"]}, "requests": [request_entry]}, status=202)


async def make_print(request: web.Request) -> web.Response:
    orders = request.app[ORDERS]
    form = orders.prints.get(request.match_info["uuid"])
    if form is None:
        return json_response({"error": "no such print form"}, status=404)
    made(orders, form)
    return json_response({"uuid": form.uuid, "state": print_state(orders, form), "url": form.url})


def add_paperwork_routes(app: web.Application) -> None:
    """Labels and pick-ups of the app's orders (`add_order_routes` first)."""
    app.router.add_post("/v2/print/barcodes", guarded(create_barcodes))
    app.router.add_get("/v2/print/barcodes/{uuid}.pdf", guarded(get_barcodes_pdf))
    app.router.add_get("/v2/print/barcodes/{uuid}", guarded(get_barcodes))
    app.router.add_post("/v2/intakes", guarded(create_intake))
    app.router.add_get("/v2/intakes/{uuid}", guarded(get_intake))
    app.router.add_delete("/v2/intakes/{uuid}", guarded(delete_intake))
    app.router.add_post(CONTROL_PREFIX + "/prints/{uuid}/ready", make_print)
