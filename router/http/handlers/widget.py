"""The widget's side of the service: its built script and chunks, the demo shop page (the
calculator in its checkout, the tracking view below it), and city autocomplete (`/v1/places`).

The script is built by `scripts/build-widget` into `widget/dist/`; it is never committed, so a
service started without building it says how to build it instead of serving a stale copy.
"""

from __future__ import annotations

import asyncio
import html
import re
from pathlib import Path
from string import Template

from aiohttp import web
from multidict import MultiMapping

from router.core import bundled
from router.core.codec import encode
from router.core.errors import FieldError, InvalidRequest
from router.http import appkeys as keys
from router.http.middlewares.problems import problem
from router.http.schemas import answers
from router.http.schemas.decode import convert
from router.http.schemas.wire import PlacesQuery
from router.quoting.places import DEFAULT_COUNTRY, PlaceSuggestion

WIDGET_DIR = bundled.widget_dir()
DIST = WIDGET_DIR / "dist"
DEMO_TEMPLATE = WIDGET_DIR / "demo.html"

PLACES_PARAMS = frozenset(PlacesQuery.__struct_fields__)
_ASSET_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}\.(?:js|css)$")
_JS = "application/javascript"

# Shops embed the script from their own pages, and the map chunk is fetched as a module, which
# the browser does in CORS mode: without this header a shop's page could not load the map.
_STATIC_HEADERS = {"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff"}
# widget.js keeps one address for every shop, so it may be cached only briefly; chunks carry
# their content hash in their names, so a cached copy is never stale.
_SHORT_CACHE = "public, max-age=300"
_IMMUTABLE = "public, max-age=31536000, immutable"

DEMO_TEXT = {
    "ru": {
        "title": "Демо-магазин «Самовар»",
        "product": "Электрический самовар, 5 л",
        "specs": "1,2 кг · коробка 30 × 20 × 10 см · отправка из Москвы",
        "price": "3 000 ₽",
        "checkout": "Оформление заказа",
        "name": "Имя",
        "delivery": "Доставка",
        "submit": "Оформить заказ",
        "sent": "Форма отправила бы:",
        "events": "События виджета",
        "other_lang": "English",
        "other_code": "en",
        "demo_note": "Перевозчики, тарифы и пункты выдачи здесь — демонстрационные данные.",
        "track_title": "Где мой заказ",
        "track_label": "Трек-номер",
        "track_submit": "Показать",
        "track_note": "Так посылку видит покупатель на странице заказа магазина.",
    },
    "en": {
        "title": "Samovar demo shop",
        "product": "Electric samovar, 5 l",
        "specs": "1.2 kg · box 30 × 20 × 10 cm · ships from Moscow",
        "price": "RUB 3,000",
        "checkout": "Checkout",
        "name": "Name",
        "delivery": "Delivery",
        "submit": "Place order",
        "sent": "The form would send:",
        "events": "Widget events",
        "other_lang": "Русский",
        "other_code": "ru",
        "demo_note": "The carriers, tariffs and pickup points here are demo data.",
        "track_title": "Where is my order",
        "track_label": "Tracking number",
        "track_submit": "Show",
        "track_note": "This is how a buyer sees the parcel on the shop's order page.",
    },
}


async def widget_js(request: web.Request) -> web.StreamResponse:
    return _static(DIST / "widget.js", _SHORT_CACHE, request)


async def widget_asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if not _ASSET_NAME.fullmatch(name):
        return problem(404, "Not found", f"no widget asset {name!r}", instance=request.path)
    path = DIST / "widget" / "assets" / name
    if not path.is_file():
        return problem(404, "Not found", f"no widget asset {name!r}", instance=request.path)
    return _static(path, _IMMUTABLE, request)


def _static(path: Path, cache: str, request: web.Request) -> web.StreamResponse:
    if not path.is_file():
        return problem(
            503,
            "Widget not built",
            "the widget's script is built from widget/ by scripts/build-widget (npm ci && npm run build)",
            instance=request.path,
        )
    content_type = _JS if path.suffix == ".js" else "text/css"
    headers = {**_STATIC_HEADERS, "Cache-Control": cache, "Content-Type": f"{content_type}; charset=utf-8"}
    return web.FileResponse(path, headers=headers)


async def demo_page(request: web.Request) -> web.Response:
    lang = request.query.get("lang", "ru")
    if lang not in DEMO_TEXT:
        lang = "ru"  # a demo page answers any link, in its default language
    # A service that has keys needs the demo to carry one: ?key=pk_… puts it on the tag.
    key = request.query.get("key", "")
    # ?track=… shows that parcel in the tracking view below the checkout.
    track = request.query.get("track", "").strip()
    text = {name: html.escape(value) for name, value in DEMO_TEXT[lang].items()}
    page = Template(DEMO_TEMPLATE.read_text(encoding="utf-8")).substitute(
        text, lang=lang, key=html.escape(key, quote=True), track=html.escape(track, quote=True)
    )
    return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})


async def list_places(request: web.Request) -> web.Response:
    query, limit, country = _parse_places(request.query)
    places = request.app[keys.PLACES]
    # The first search builds the prefix index (a few hundred ms): not on the event loop.
    found = await asyncio.to_thread(places.search, query, limit, country)
    body = answers.PlaceSuggestions([_suggestion(s) for s in found])
    return web.Response(body=encode(body), content_type="application/json")


def _parse_places(params: MultiMapping[str]) -> tuple[str, int, str | None]:
    errors = [FieldError(name, "unknown parameter") for name in params if name not in PLACES_PARAMS]
    errors += [FieldError(name, "give it once") for name in PLACES_PARAMS if len(params.getall(name, [])) > 1]
    try:
        query = convert({k: params[k] for k in PLACES_PARAMS if k in params}, PlacesQuery, strict=False)
    except InvalidRequest as exc:
        errors += exc.errors
    else:
        if not query.q.strip():
            errors.append(FieldError("q", "required: the first letters of a city"))
    if errors:
        raise InvalidRequest(errors, title="Invalid places query")
    if query.country == "*":
        return query.q.strip(), int(query.limit), None
    return query.q.strip(), int(query.limit), query.country.upper() if query.country else DEFAULT_COUNTRY


def _suggestion(found: PlaceSuggestion) -> answers.PlaceSuggestion:
    return answers.PlaceSuggestion(
        id=str(found.geonameid),
        name=found.name,
        name_ru=found.name_ru,
        country=found.country,
        region=found.region,
        region_name=found.region_name,
        region_name_ru=found.region_name_ru,
        lat=found.lat,
        lon=found.lon,
        population=found.population,
        timezone=found.timezone,
    )
