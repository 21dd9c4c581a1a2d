"""`POST /v1/outcomes` and what it changes in quotes and in `GET /v1/carriers`."""

from __future__ import annotations

import io
import re
from pathlib import Path

import orjson
import sqlalchemy as sa

from router.core.settings import Settings
from router.http import appkeys as keys
from router.records import open_records
from router.records.keys import KeyKind
from router.records.tables import delivery_outcomes
from tests.keys import create_key
from tests.router.http.test_openapi import conforms
from tests.router.outcome_sim import HEADER

ROW = "{id},vestnik,parcel,RU-MOW,RU-NVS,2026-11-02T10:00:00+03:00,2026-11-10,2026-11-09T12:00:00+07:00,delivered,no"


def csv_body(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


async def post_csv(api, body: bytes | io.BytesIO):  # type: ignore[no-untyped-def]
    return await api.post("/v1/outcomes", data=body, headers={"Content-Type": "text/csv"})


async def test_a_csv_upload_is_imported_and_bad_rows_are_listed_with_their_line(make_api) -> None:
    api = await make_api()
    body = csv_body(ROW.format(id="a1"), "a2,vestnik,parcel,RU-MOW,RU-NVS,someday,,,delivered,", ROW.format(id="a3"))
    resp = await post_csv(api, body)
    assert resp.status == 200
    report = await resp.json()
    conforms(report, "OutcomeImport")
    assert (report["rows"], report["imported"], report["rejected"], report["duplicates"]) == (3, 2, 1, 0)
    assert [(p["line"], p["field"]) for p in report["problems"]] == [(3, "handed_over_at"), (3, "delivered_at")]


async def test_sending_the_same_outcomes_again_imports_nothing_new(make_api) -> None:
    api = await make_api()
    body = csv_body(*(ROW.format(id=f"b{i}") for i in range(5)))
    assert (await (await post_csv(api, body)).json())["imported"] == 5
    again = await (await post_csv(api, body)).json()
    assert (again["imported"], again["duplicates"]) == (0, 5)


async def test_ndjson_and_json_bodies_are_accepted(make_api) -> None:
    api = await make_api()
    item = {
        "shipment_id": "n1",
        "carrier": "magistral",
        "service": "door",
        "origin": {"lat": 55.75, "lon": 37.62},
        "destination": "RU-NVS",
        "handed_over_at": "2026-11-02",
        "status": "lost",
    }
    ndjson = await api.post(
        "/v1/outcomes", data=orjson.dumps(item) + b"\n", headers={"Content-Type": "application/x-ndjson"}
    )
    assert (await ndjson.json())["imported"] == 1
    listed = await api.post("/v1/outcomes", json={"outcomes": [{**item, "shipment_id": "n2"}, {"carrier": 5}]})
    report = await listed.json()
    assert (report["imported"], report["rejected"]) == (1, 1)
    assert {p["line"] for p in report["problems"]} == {2}


async def test_outcomes_sent_over_http_are_kept_in_the_records_before_the_answer(
    make_api, records_url: str, tmp_path: Path
) -> None:
    settings = Settings(state_dir=tmp_path, database_url=records_url)
    api = await make_api(settings)
    report = await (await post_csv(api, csv_body(ROW.format(id="r1"), ROW.format(id="r2")))).json()
    assert (report["imported"], report["duplicates"]) == (2, 0)
    async with open_records(settings) as records:
        async with records.read() as conn:
            kept = {r.shipment_id: r for r in await conn.execute(sa.select(delivery_outcomes))}
    assert set(kept) == {"r1", "r2"}
    assert (kept["r1"].carrier, kept["r1"].handed_over_on.isoformat()) == ("vestnik", "2026-11-02")

    # A worker started afresh, whose store holds nothing (memory), counts them from the records.
    again = await make_api(settings)
    report = await (await post_csv(again, csv_body(ROW.format(id="r2"), ROW.format(id="r3")))).json()
    assert (report["imported"], report["duplicates"]) == (1, 1)
    record = again.app[keys.TRACK_RECORD]
    await record.archive.restored()
    tally = await record.tallies("vestnik", "parcel")
    assert tally is not None and tally.n == 3


async def test_bodies_that_are_not_outcomes_are_422_naming_the_problem(make_api) -> None:
    api = await make_api()
    empty = await post_csv(api, b"")
    assert empty.status == 422 and empty.content_type == "application/problem+json"
    assert (await empty.json())["errors"][0]["path"] == "body"
    no_column = await post_csv(api, b"shipment_id,carrier\ns1,vestnik\n")
    assert no_column.status == 422
    assert "handed_over_at" in (await no_column.json())["errors"][0]["message"]
    not_a_list = await api.post("/v1/outcomes", json={"outcomes": "all of them"})
    assert not_a_list.status == 422
    assert (await not_a_list.json())["errors"][0]["path"] == "outcomes"
    garbage = await api.post("/v1/outcomes", data=b"{oops", headers={"Content-Type": "application/json"})
    assert garbage.status == 422


async def test_a_file_of_only_bad_rows_is_answered_with_the_report_of_each_bad_line(make_api) -> None:
    api = await make_api()
    resp = await post_csv(api, csv_body(ROW.format(id="b1").replace("vestnik", "no such carrier"), "a,b"))
    assert resp.status == 200, await resp.text()
    report = await resp.json()
    conforms(report, "OutcomeImport")
    assert (report["rows"], report["imported"], report["rejected"]) == (2, 0, 2)
    assert {p["line"] for p in report["problems"]} == {2, 3}
    ndjson = await api.post("/v1/outcomes", data=b'"a row"\n[1]\n', headers={"Content-Type": "application/x-ndjson"})
    assert ndjson.status == 200 and (await ndjson.json())["rejected"] == 2
    listed = await api.post("/v1/outcomes", json=[1, {"carrier": 5}])
    assert listed.status == 200 and (await listed.json())["imported"] == 0


async def test_a_body_beyond_the_limit_is_413(make_api) -> None:
    from router.http.handlers.outcomes import MAX_BODY_BYTES

    api = await make_api()
    body = io.BytesIO(csv_body(ROW.format(id="x")) + b"#" * MAX_BODY_BYTES)
    resp = await api.post("/v1/outcomes", data=body, headers={"Content-Type": "text/csv"})
    assert resp.status == 413 and resp.content_type == "application/problem+json"


async def test_outcomes_need_a_secret_key_once_keys_exist(make_api, tmp_path: Path) -> None:
    _, secret = await create_key(tmp_path, KeyKind.SECRET, "shop")
    _, publishable = await create_key(tmp_path, KeyKind.PUBLISHABLE, "widget", ("https://shop.example",))
    api = await make_api(Settings(state_dir=tmp_path))
    body = csv_body(ROW.format(id="k1"))
    headers = {"Content-Type": "text/csv"}
    assert (await api.post("/v1/outcomes", data=body, headers=headers)).status == 401
    refused = await api.post(
        "/v1/outcomes",
        data=body,
        headers={**headers, "Authorization": f"Bearer {publishable}", "Origin": "https://shop.example"},
    )
    assert refused.status == 403
    ok = await api.post("/v1/outcomes", data=body, headers={**headers, "Authorization": f"Bearer {secret}"})
    assert ok.status == 200


DEMO = Path(__file__).resolve().parents[3] / "data" / "demo" / "outcomes.csv"
MOSCOW_NOVOSIBIRSK = {
    "origin": "Москва",
    "destination": "Новосибирск",
    "parcels": [{"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
}


async def demo_api(make_api):  # type: ignore[no-untyped-def]
    api = await make_api()
    report = await (await post_csv(api, io.BytesIO(DEMO.read_bytes()))).json()
    assert report["rejected"] == 0 and report["suspended"] == []
    return api


async def quote(api, **policy):  # type: ignore[no-untyped-def]
    body = {**MOSCOW_NOVOSIBIRSK, "policy": policy} if policy else MOSCOW_NOVOSIBIRSK
    resp = await api.post("/v1/quotes", json=body)
    assert resp.status in (200, 201), await resp.text()
    return await resp.json()


async def test_after_the_demo_outcomes_a_quote_shows_learned_etas_and_badges_that_differ_by_carrier(make_api) -> None:
    api = await demo_api(make_api)
    q = await quote(api)
    conforms(q, "Quote")
    offers = {o["id"]: o for o in q["offers"]}
    learned = {k: o["learned"] for k, o in offers.items()}
    assert all(learned.values()) and all(ln_["sample_size"] >= 200 for ln_ in learned.values())
    # As simulated: the regional courier keeps its window, the national network mostly does,
    # the post runs days late with a long tail.
    assert learned["sibgonets:door"]["badge"] == "gold"
    assert learned["magistral:pickup"]["badge"] == "silver"
    assert learned["vestnik:parcel"]["badge"] == "none"
    assert learned["sibgonets:door"]["p95_date"] <= offers["sibgonets:door"]["eta"]["max_date"]
    assert learned["vestnik:parcel"]["p95_days"] >= offers["vestnik:parcel"]["eta"]["max_days"] + 3
    assert learned["vestnik:parcel"]["on_time_rate"] < 0.7 < learned["magistral:pickup"]["on_time_rate"]
    assert learned["vestnik:parcel"]["summary"].startswith("95 % delivered by ")


async def test_a_third_serious_failure_suspends_the_carrier_on_that_lane_only(make_api) -> None:
    api = await demo_api(make_api)
    third = "late-1,vestnik,courier,RU-MOW,RU-NVS,2026-11-12T11:00:00+03:00,,2026-11-19T15:00:00+07:00,delivered,yes"
    report = await (await post_csv(api, csv_body(third))).json()
    assert [(s["carrier"], s["lane"], s["failures"]) for s in report["suspended"]] == [("vestnik", "RU-MOW>RU-NVS", 3)]

    carriers = {c["code"]: c for c in (await (await api.get("/v1/carriers")).json())["carriers"]}
    conforms(carriers["vestnik"], "Carrier")
    (suspension,) = carriers["vestnik"]["suspensions"]
    assert suspension["lane"] == "RU-MOW>RU-NVS" and "3 serious failures" in suspension["reason"]
    assert carriers["vestnik"]["status"] != "suspended"  # only one lane
    assert carriers["magistral"]["suspensions"] == []

    q = await quote(api)
    assert not any(o["carrier"] == "vestnik" for o in q["offers"])
    reasons = [r["reason"] for r in q["rejections"] if r["carrier"] == "vestnik"]
    assert len(reasons) == 2 and all("suspended on RU-MOW>RU-NVS" in r for r in reasons)
    in_russian = await (await api.post("/v1/quotes?lang=ru", json=MOSCOW_NOVOSIBIRSK)).json()
    said = [(r["code"], r["reason"]) for r in in_russian["rejections"] if r["carrier"] == "vestnik"]
    assert len(said) == 2 and all(c == "suspended" and "приостановлена на направлении" in r for c, r in said)
    listed = await (await api.get("/v1/carriers", headers={"Accept-Language": "ru"})).json()
    (russian,) = next(c for c in listed["carriers"] if c["code"] == "vestnik")["suspensions"]
    assert russian["reason"].startswith("приостановлена на направлении Москва → Новосибирская область с ")
    assert russian["lane"] == "RU-MOW>RU-NVS" and not re.search("[A-Za-z]", russian["reason"])
    assert "серьёзных сбоев — 3" in russian["reason"] and not re.search("lost|damaged|complaint", russian["reason"])
    elsewhere = await (await api.post("/v1/quotes", json={**MOSCOW_NOVOSIBIRSK, "destination": "Казань"})).json()
    assert any(o["carrier"] == "vestnik" for o in elsewhere["offers"])

    from router.http import appkeys as keys

    await api.server.app[keys.TRACK_RECORD].reinstate("vestnik", "RU-MOW>RU-NVS")
    back = await quote(api, kind="cheapest")  # a new policy: not answered from the quote cache
    assert any(o["carrier"] == "vestnik" for o in back["offers"])


async def test_a_minimum_on_time_rate_recommends_the_cheapest_offer_that_reaches_it(make_api) -> None:
    api = await demo_api(make_api)
    q = await quote(api, kind="cheapest", min_on_time_rate=0.95)
    offers = {o["id"]: o for o in q["offers"]}
    reliable = [o for o in q["offers"] if o["learned"]["on_time_rate"] >= 0.95]
    assert reliable
    best = min(reliable, key=lambda o: float(o["price"]["total"]))
    assert q["recommended"]["offer_id"] == best["id"]
    assert q["cheapest"] != best["id"] and float(offers[q["cheapest"]]["price"]["total"]) < float(
        best["price"]["total"]
    )
    assert "at least 95%" in q["reason"]


async def test_arriving_by_a_date_with_a_probability_uses_the_learned_distribution(make_api) -> None:
    api = await demo_api(make_api)
    plain = await quote(api)
    deadline = {o["id"]: o for o in plain["offers"]}["magistral:pickup"]["eta"]["max_date"]
    q = await quote(api, kind="deadline", deadline=deadline, probability=0.9)
    chances = {o["id"]: o["learned"]["arrival_probability"] for o in q["offers"]}
    likely = [o for o in q["offers"] if chances[o["id"]] >= 0.9]
    assert likely and q["recommended"]["offer_id"] == min(likely, key=lambda o: float(o["price"]["total"]))["id"]
    # The post's tariff promises that date for none of its offers, and history agrees.
    assert all(chances[k] < 0.9 for k in chances if k.startswith("vestnik"))
    assert "with probability ≥ 90%" in q["reason"]


async def test_reliability_policy_fields_are_validated(make_api) -> None:
    api = await make_api()
    bad = await api.post("/v1/quotes", json={**MOSCOW_NOVOSIBIRSK, "policy": {"min_on_time_rate": 1.5}})
    assert bad.status == 422
    assert [e["path"] for e in (await bad.json())["errors"]] == ["policy.min_on_time_rate"]
    misplaced = await api.post(
        "/v1/quotes", json={**MOSCOW_NOVOSIBIRSK, "policy": {"kind": "cheapest", "probability": 0.9}}
    )
    assert [e["path"] for e in (await misplaced.json())["errors"]] == ["policy.probability"]
