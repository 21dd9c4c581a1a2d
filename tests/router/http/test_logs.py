from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from router.core.settings import Settings
from router.http import logs
from router.records.keys import KeyKind
from tests.keys import create_key


class Captured:
    def __init__(self, sink: logs.JsonLines, stream: io.BytesIO) -> None:
        self.sink = sink
        self.stream = stream

    def raw(self) -> bytes:
        self.sink.flush()
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, object]]:
        return [orjson.loads(line) for line in self.raw().splitlines()]


@pytest.fixture
def captured() -> Iterator[Captured]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.BytesIO()
    sink = logs.setup_logging(stream=stream)
    try:
        yield Captured(sink, stream)
    finally:
        logs.reset_logging()
        root.handlers[:] = handlers
        root.setLevel(level)


async def test_each_request_leaves_one_json_line_with_its_request_id_and_never_the_key(
    make_api, captured: Captured, tmp_path: Path
) -> None:
    _, token = await create_key(tmp_path, KeyKind.SECRET, "shop")
    api = await make_api(Settings(state_dir=tmp_path))
    # A key pasted into the URL as well is a parameter the API does not take: refused, and never logged.
    resp = await api.get(
        "/v1/carriers?api_key=" + token, headers={"Authorization": f"Bearer {token}", "X-Request-Id": "order-42"}
    )
    assert resp.status == 422 and resp.headers["X-Request-Id"] == "order-42"
    assert token not in await resp.text()

    requests = [line for line in captured.lines() if line["msg"] == "request"]
    assert len(requests) == 1
    line = requests[0]
    assert line["request_id"] == "order-42" and line["logger"] == "carrier_router.access"
    assert (line["method"], line["route"], line["status"]) == ("GET", "/v1/carriers", 422)
    assert isinstance(line["ms"], float)
    assert datetime.fromisoformat(str(line["ts"])).tzinfo is not None
    assert token.encode() not in captured.raw() and token[3:].encode() not in captured.raw()


async def test_an_unmatched_route_and_an_error_status_are_logged_as_such(make_api, captured: Captured) -> None:
    api = await make_api()
    assert (await api.get("/v1/nowhere")).status == 404
    assert (await api.get("/v1/quotes/q_none")).status == 404
    routes = {(line["route"], line["status"]) for line in captured.lines() if line["msg"] == "request"}
    assert routes == {("(unmatched)", 404), ("/v1/quotes/{quote_id}", 404)}


def test_a_line_logged_during_a_request_carries_its_id_and_its_fields(captured: Captured) -> None:
    token = logs.request_id.set("abc")
    try:
        logging.getLogger("carrier_router.test").warning("carrier slow", extra={"carrier": "cdek"})
    finally:
        logs.request_id.reset(token)
    (line,) = captured.lines()
    assert line["request_id"] == "abc" and line["level"] == "warning" and line["carrier"] == "cdek"
    assert line["msg"] == "carrier slow" and line["logger"] == "carrier_router.test"


async def test_lines_from_the_loop_wait_for_the_turn_but_keep_their_order_with_other_threads(
    captured: Captured,
) -> None:
    logging.getLogger("t").info("first")
    thread = threading.Thread(target=lambda: logging.getLogger("t").info("from a thread"))
    thread.start()
    thread.join()
    # A thread with no loop writes at once, after what the loop had gathered before it.
    assert [line["msg"] for line in orjson_lines(captured.stream.getvalue())] == ["first", "from a thread"]


def test_the_timestamp_is_iso_8601_utc_to_the_millisecond() -> None:
    for at in (1_700_000_000.123456, 1_700_000_000.5, 1_790_000_059.001, 1_790_000_059.9999997):
        assert logs._timestamp(at) == datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")


async def test_without_setup_the_access_line_is_an_ordinary_logging_record(make_api, caplog) -> None:
    api = await make_api()
    with caplog.at_level(logging.INFO, logger="carrier_router.access"):
        await api.get("/healthz")
    (record,) = [r for r in caplog.records if r.name == "carrier_router.access"]
    assert record.getMessage() == "request" and record.route == "/healthz"  # type: ignore[attr-defined]


def orjson_lines(raw: bytes) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in raw.splitlines()]
