"""The widget's side of the service: its built script and chunks, the demo shop page, and city
autocomplete (`/v1/places`).

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
from router.core.codec import dumps
from router.core.errors import FieldError, InvalidRequest
from router.http import appkeys as keys
from router.http.middlewares.problems import problem
from router.quoting.places import PlaceSuggestion

WIDGET_DIR = bundled.widget_dir()
DIST = WIDGET_DIR / "dist"
DEMO_TEMPLATE = WIDGET_DIR / "demo.html"

MAX_QUERY_CHARS = 100
MAX_LIMIT = 20
DEFAULT_LIMIT = 8
PLACES_PARAMS = frozenset({"q", "limit", "country"})
_ASSET_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}\.(?:js|css)$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
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
    text = {name: html.escape(value) for name, value in DEMO_TEXT[lang].items()}
    page = Template(DEMO_TEMPLATE.read_text(encoding="utf-8")).substitute(
        text, lang=lang, key=html.escape(key, quote=True)
    )
    return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})


async def list_places(request: web.Request) -> web.Response:
    query, limit, country = _parse_places(request.query)
    places = request.app[keys.PLACES]
    # The first search builds the prefix index (a few hundred ms): not on the event loop.
    found = await asyncio.to_thread(places.search, query, limit, country)
    return web.Response(body=dumps({"places": [_suggestion_json(s) for s in found]}), content_type="application/json")


def _parse_places(params: MultiMapping[str]) -> tuple[str, int, str | None]:
    errors = [FieldError(name, "unknown parameter") for name in params if name not in PLACES_PARAMS]
    errors += [FieldError(name, "give it once") for name in PLACES_PARAMS if len(params.getall(name, [])) > 1]
    raw_query = params.get("q", "")
    query = raw_query.strip()
    if not query:
        errors.append(FieldError("q", "required: the first letters of a city"))
    elif len(raw_query) > MAX_QUERY_CHARS:
        errors.append(FieldError("q", f"at most {MAX_QUERY_CHARS} characters"))
    limit = DEFAULT_LIMIT
    if "limit" in params:
        raw = params["limit"]
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_LIMIT):
            errors.append(FieldError("limit", f"must be a whole number from 1 to {MAX_LIMIT}"))
        else:
            limit = int(raw)
    country = params.get("country")
    if country is not None and not _COUNTRY.fullmatch(country):
        errors.append(FieldError("country", "must be an ISO 3166-1 alpha-2 code, e.g. RU"))
    if errors:
        raise InvalidRequest(errors, title="Invalid places query")
    return query, limit, country.upper() if country else None


def _suggestion_json(suggestion: PlaceSuggestion) -> dict[str, object]:
    return {
        "id": str(suggestion.geonameid),
        "name": suggestion.name,
        "name_ru": suggestion.name_ru,
        "country": suggestion.country,
        "region": suggestion.region,
        "lat": suggestion.lat,
        "lon": suggestion.lon,
        "population": suggestion.population,
        "timezone": suggestion.timezone,
    }
