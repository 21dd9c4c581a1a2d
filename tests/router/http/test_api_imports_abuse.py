"""Hostile and clumsy uploads: each costs bounded work, and the service answers others meanwhile."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from tests.router.outcome_sim import HEADER

ROW = "{id},vestnik,parcel,RU-MOW,RU-NVS,2026-11-02T10:00:00+03:00,2026-11-10,2026-11-09T12:00:00+07:00,delivered,no"


async def test_healthz_answers_while_an_8_mb_upload_of_bad_rows_is_read_and_the_import_stops_early(make_api) -> None:
    api = await make_api()
    body = b"{}\n" * (8 * 1024 * 1024 // 3)
    upload_done = False
    answered_during = 0

    async def poll_healthz() -> None:
        nonlocal answered_during
        while not upload_done:
            resp = await api.get("/healthz")
            assert resp.status == 200
            await resp.read()
            answered_during += not upload_done

    poller = asyncio.create_task(poll_healthz())
    await asyncio.sleep(0)
    resp = await api.post("/v1/outcomes", data=io.BytesIO(body), headers={"Content-Type": "application/x-ndjson"})
    upload_done = True
    await poller
    assert resp.status == 200  # read, reported, nothing imported
    report = await resp.json()
    assert (report["imported"], report["rejected"]) == (0, 1000)
    last = report["problems"][-1]
    assert (last["line"], last["field"]) == (1001, "")
    lines = len(body.splitlines())
    assert f"and {lines - 1001} more" in last["reason"]
    assert answered_during > 0


async def test_a_csv_upload_saved_by_excel_with_a_bom_or_in_windows_1251_is_imported(make_api) -> None:
    api = await make_api()
    text = "\r\n".join([HEADER, ROW.format(id="ш1"), ROW.format(id="ш2")]) + "\r\n"
    for n, data in enumerate((b"\xef\xbb\xbf" + text.encode(), text.replace("ш", "щ").encode("cp1251"))):
        resp = await api.post("/v1/outcomes", data=data, headers={"Content-Type": "text/csv"})
        assert resp.status == 200, (n, await resp.text())
        report: dict[str, Any] = await resp.json()
        assert (report["imported"], report["rejected"]) == (2, 0)


async def test_an_outcome_body_announced_beyond_the_limit_is_refused_before_it_is_read(make_api) -> None:
    from router.http.handlers.outcomes import MAX_BODY_BYTES

    api = await make_api()

    headers = {"Content-Type": "text/csv", "Content-Length": str(MAX_BODY_BYTES + 1)}
    body = _never_ending((HEADER + "\n").encode())
    resp = await asyncio.wait_for(api.post("/v1/outcomes", data=body, headers=headers), timeout=60)
    assert resp.status == 413 and resp.content_type == "application/problem+json"


async def _never_ending(first: bytes) -> Any:
    yield first
    while True:  # never finished: only its announced length can refuse it
        await asyncio.sleep(3600)
        yield b""


async def test_an_outcome_list_as_json_is_capped_lower_than_the_same_rows_as_ndjson(make_api) -> None:
    from router.http.handlers.outcomes import MAX_JSON_BODY_BYTES

    api = await make_api()
    items = [b"{}"] * (MAX_JSON_BODY_BYTES // 3 + 1)
    as_json = await api.post(
        "/v1/outcomes", data=io.BytesIO(b"[" + b",".join(items) + b"]"), headers={"Content-Type": "application/json"}
    )
    assert as_json.status == 413 and as_json.content_type == "application/problem+json"
    # As many bytes as a CSV body, blank lines mostly, is read.
    csv_body = (HEADER + "\n").encode() + b"\n" * MAX_JSON_BODY_BYTES + (ROW.format(id="x2") + "\n").encode()
    as_csv = await api.post("/v1/outcomes", data=io.BytesIO(csv_body), headers={"Content-Type": "text/csv"})
    assert as_csv.status == 200, await as_csv.text()
    assert (await as_csv.json())["imported"] == 1


async def test_a_32_mb_allocation_is_refused_on_its_announced_length_before_it_is_read(make_api) -> None:
    api = await make_api()
    headers = {"Content-Type": "application/json", "Content-Length": str(32 * 1024 * 1024)}
    body = _never_ending(b'{"warehouses": [{"code": "MSK", "location": "Moscow"}], "orders": [')
    resp = await asyncio.wait_for(api.post("/v1/allocations", data=body, headers=headers), timeout=60)
    assert resp.status == 413 and resp.content_type == "application/problem+json"


async def test_a_json_allocation_beyond_its_cap_is_refused_while_it_streams_in(make_api) -> None:
    from router.http.handlers.allocations import MAX_JSON_BYTES

    api = await make_api()
    order = b'{"id": 1, "destination": "Moscow", "parcels": []},'
    body = b'{"orders": [' + order * (MAX_JSON_BYTES // len(order) + 1) + b"]}"
    resp = await api.post("/v1/allocations", data=io.BytesIO(body), headers={"Content-Type": "application/json"})
    assert resp.status == 413 and resp.content_type == "application/problem+json"


async def test_an_ndjson_allocation_of_millions_of_empty_lines_is_refused_by_its_line_count(make_api) -> None:
    from router.http.handlers.allocations import MAX_NDJSON_LINES

    api = await make_api()
    body = b'{"warehouses": [{"code": "MSK", "location": "Moscow"}]}\n' + b"{}\n" * (MAX_NDJSON_LINES + 1)
    resp = await api.post("/v1/allocations", data=io.BytesIO(body), headers={"Content-Type": "application/x-ndjson"})
    assert resp.status == 422 and resp.content_type == "application/problem+json"
    (error,) = (await resp.json())["errors"]
    assert error["path"] == "body" and "100000 orders" in error["message"]
