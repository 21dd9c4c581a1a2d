"""Every route of the service, registered in one place."""

from __future__ import annotations

from aiohttp import web

from router.http.handlers import allocations, carriers, health, outcomes, pickup_points, quotes, widget
from router.http.middlewares import observability
from router.http.schemas import openapi
from router.integrations.retailcrm import handlers as retailcrm


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/v1/quotes", quotes.create_quote)
    app.router.add_get("/v1/quotes/{quote_id}", quotes.get_quote)
    app.router.add_get("/v1/carriers", carriers.list_carriers)
    app.router.add_post("/v1/allocations", allocations.create_allocation)
    app.router.add_post("/v1/outcomes", outcomes.import_outcomes)
    app.router.add_get("/v1/pickup-points", pickup_points.list_points)
    app.router.add_get("/v1/pickup-points/{point_id}", pickup_points.get_point)
    app.router.add_get("/v1/places", widget.list_places)
    app.router.add_get("/widget.js", widget.widget_js)
    app.router.add_get("/widget/assets/{name}", widget.widget_asset)
    app.router.add_get("/widget/demo", widget.demo_page)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/openapi.json", openapi.openapi_json)
    app.router.add_get("/metrics", observability.metrics_handler)
    app.router.add_post("/integrations/retailcrm/calculate", retailcrm.calculate)
    app.router.add_post("/integrations/retailcrm/save", retailcrm.save)
    app.router.add_get("/integrations/retailcrm/get", retailcrm.get)
    app.router.add_post("/integrations/retailcrm/delete", retailcrm.delete)
    app.router.add_get("/integrations/retailcrm/shipmentPointList", retailcrm.shipment_point_list)
    app.router.add_get("/integrations/retailcrm/tariffList", retailcrm.tariff_list)
    app.router.add_post("/integrations/retailcrm/tariffList", retailcrm.tariff_list)
