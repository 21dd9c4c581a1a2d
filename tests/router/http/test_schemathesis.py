"""Hostile input against the live service, generated from its own OpenAPI document:
no 5xx, and every answer matches the documented status codes, media types and schemas."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st

from router.core.errors import PlaceNotFound
from router.core.models import Location
from router.http.routes import openapi_document as document
from router.quoting.places import Places
from router.records.keys import KeyKind
from tests.keys import create_key

ROOT = Path(__file__).resolve().parents[3]
# Candidates only: those outside the bundled table of major cities are left out below.
POSTAL_CODES = ["101000", "190000", "630000", "420000", "620000", "603000", "443000", "344000", "999999"]


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx: object, value: object) -> bytes:
    """Big batches travel as one JSON document a line; an outcome file, declared as its text, as it is."""
    if isinstance(value, str):
        return value.encode()
    items = value if isinstance(value, list) else [value]
    return b"".join(json.dumps(item).encode() + b"\n" for item in items)


def _known(values: list[str], field: str) -> list[str]:
    """Those of `values` the bundled place data resolves, as the service would."""
    places = Places()
    known = []
    for value in values:
        try:
            places.resolve(Location(**{field: value}), field)
        except PlaceNotFound:
            continue
        known.append(value)
    assert known, f"no {field} resolves"
    return known


def _cities() -> list[str]:
    found = {s.name_ru or s.name for letter in "АБВГДЕЖЗИКЛМНОПРСТУФХЧШЭЮЯ" for s in Places().search(letter, 3, "RU")}
    return _known(sorted(found), "city")


@st.composite
def _boxes(draw: st.DrawFn) -> str:
    west, east = draw(st.floats(-180, 180)), draw(st.floats(-180, 180))
    south, north = sorted((draw(st.floats(-90, 90)), draw(st.floats(-90, 90))))
    return ",".join(repr(v) for v in (west, south, east, north))


# The document's own formats name what the bundled place data knows; these teach the generator
# values of each (GET /v1/places lists the cities).
schemathesis.openapi.format("city", st.sampled_from(_cities()))
schemathesis.openapi.format("ru-postal-code", st.sampled_from(_known(POSTAL_CODES, "postal_code")))
schemathesis.openapi.format("country", st.sampled_from(["RU", "ru"]))
schemathesis.openapi.format("bbox", _boxes())


@st.composite
def _moments(draw: st.DrawFn) -> str:
    # A moment the API takes is within PLAUSIBLE_DAYS of today, as the document says of each one.
    today = datetime.now(UTC).replace(microsecond=0)
    at = today + timedelta(seconds=draw(st.integers(-300 * 86400, 300 * 86400)))
    offset = timedelta(minutes=draw(st.sampled_from([0, 180, 420, -300])))
    return at.astimezone(timezone(offset)).isoformat()


schemathesis.openapi.format("date-time", _moments())
# A day (a deadline) too: within PLAUSIBLE_DAYS of today.
schemathesis.openapi.format(
    "date", st.integers(-300, 300).map(lambda days: (datetime.now(UTC) + timedelta(days=days)).date().isoformat())
)

schema = schemathesis.openapi.from_dict(document())


def _batch_refers_to_its_own_parts(body: object) -> bool:
    """An allocation batch's parts refer to each other, as its documentation says and no JSON
    Schema can: order ids and warehouse codes are unique, and orders and capacities name warehouses
    of the batch; tiers need a method that prices them. Generated batches keep to that; a body that
    does not is refused with a 422 naming the field (tests/router/http/test_api_allocations.py)."""
    if isinstance(body, list):  # NDJSON: the header line; a bad order line is only set aside
        body = body[0] if body else None
    if not isinstance(body, dict):
        return True

    def items(name: str, of: dict[str, Any]) -> list[Any]:
        value = of.get(name)
        return value if isinstance(value, list) else []

    def key(value: object) -> str:
        return value.strip() if isinstance(value, str) else json.dumps(value)

    codes = [key(w.get("code")) for w in items("warehouses", body) if isinstance(w, dict)]
    orders = [o for o in items("orders", body) if isinstance(o, dict)]
    capacities = [c for c in items("capacities", body) if isinstance(c, dict)]
    ids = [key(o.get("id")) for o in orders]
    named = [key(c) for o in orders for c in items("warehouses", o)] + [key(c.get("warehouse")) for c in capacities]
    pairs = [(key(c.get("carrier")), key(c.get("warehouse"))) for c in capacities]
    return (
        len(set(codes)) == len(codes)
        and len(set(ids)) == len(ids)
        and all(c in codes for c in named)
        and len(set(pairs)) == len(pairs)
        and not (body.get("method") == "flow" and items("tiers", body))
    )


def _no_city_with_coordinates(body: object) -> bool:
    """A place given by a city and by coordinates as well is held to their agreeing, which no JSON
    Schema can say: a city with coordinates elsewhere is refused with a 422 naming both
    (tests/router/quoting/test_places_regions.py). Generated places name one or the other."""
    if isinstance(body, list):
        return all(_no_city_with_coordinates(item) for item in body)
    if not isinstance(body, dict):
        return True
    if body.get("city") and body.get("lat") is not None and body.get("lon") is not None:
        return False
    return all(_no_city_with_coordinates(value) for value in body.values())


def _a_window_ahead(body: object) -> bool:
    """A pick-up is asked for a day not past, in a window that ends after it starts: the API refuses
    others with a 422 naming the field (tests/router/shipping/test_api_shipments.py)."""
    if not isinstance(body, dict):
        return True
    day, start, end = body.get("day"), body.get("time_from", "10:00"), body.get("time_to", "18:00")
    if not isinstance(day, str) or not isinstance(start, str) or not isinstance(end, str):
        return True
    return day >= datetime.now(UTC).date().isoformat() and end > start


@pytest.fixture(scope="module")
def secret_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A state directory holding one secret key, and the key: the service asks for keys as documented."""
    state = tmp_path_factory.mktemp("state")
    _, token = asyncio.run(create_key(state, KeyKind.SECRET, "schemathesis", rate_per_minute=1_000_000))
    return state, token


@pytest.fixture(scope="module")
def live_url(secret_key: tuple[Path, str]) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CARRIER_ROUTER_STATE": str(secret_key[0])}
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "router.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@schema.parametrize()
# The same examples every run, so that CI finds what a run here found; `EXPLORE=1` draws new
# ones each run, to search wider (and to fix what that finds).
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=not os.environ.get("EXPLORE"),
)
def test_the_api_never_errors_and_always_answers_as_documented(
    case: schemathesis.Case, live_url: str, secret_key: tuple[Path, str]
) -> None:
    if case.operation.path == "/v1/outcomes" and case.media_type == "application/x-ndjson":
        # An outcome file is declared as its text: a value of another type has no NDJSON form
        # that is not also some text, so such a negative case cannot be sent.
        assume(isinstance(case.body, str))
    if case.operation.path == "/v1/allocations" and case.meta and case.meta.generation.mode.is_positive:
        assume(_batch_refers_to_its_own_parts(case.body))
    if case.meta and not case.meta.generation.mode.is_positive and case.query:
        # A parameter whose value is null is not sent at all: such a "negative" query reaches the
        # service as no query, which it rightly takes.
        assume(all(value is not None for value in case.query.values()))
    if case.meta and case.meta.generation.mode.is_positive:
        assume(_no_city_with_coordinates(case.body))
        # A page's cursor is a token the service gave with the page before; one made up is refused
        # with a 422 naming it (tests/router/shipping/test_api_shipments.py).
        assume("cursor" not in (case.query or {}))
        if case.operation.path == "/v1/pickups":
            assume(_a_window_ahead(case.body))
    # The key goes with every case; the checks of refused authentication send their own instead.
    headers = {"Authorization": f"Bearer {secret_key[1]}"} if case.operation.definition.raw.get("security") else {}
    case.call_and_validate(base_url=live_url, headers=headers)
