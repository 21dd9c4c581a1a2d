"""A partner's statuses recorded by hand and imported from its file, from the command line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.router.cli.test_shipments_cli import book, env, run  # noqa: F401  (env is a fixture)

pytestmark = pytest.mark.filterwarnings(
    "ignore:Exception in thread .*_connection_worker_thread:pytest.PytestUnhandledThreadExceptionWarning"
)


def history(env: dict[str, str], shipment_id: str) -> list[dict[str, str]]:  # noqa: F811
    shown = run(env, "shipments", "show", shipment_id, "--json")
    return list(orjson.loads(shown.stdout)["history"])


def test_a_status_told_by_hand_joins_the_history_and_a_moment_without_offset_is_refused(env: dict[str, str]) -> None:  # noqa: F811
    (made,) = book(env, ["S-1"])

    told = run(
        env,
        "shipments",
        "status",
        made.id,
        "--status",
        "in_transit",
        "--at",
        "2026-12-09T12:00:00+03:00",
        "--city",
        "Москва",
    )
    naive = run(env, "shipments", "status", made.id, "--status", "delivered", "--at", "2026-12-10T12:00:00")

    assert told.exit_code == 0, told.output + told.stderr
    assert [(h["status"], h["city"], h["source"]) for h in history(env, made.id)] == [
        ("in_transit", "Москва", "manual")
    ]
    assert naive.exit_code == 2 and "offset" in naive.stderr


def test_a_partners_file_is_imported_line_by_line_and_a_bad_line_costs_only_itself(
    env: dict[str, str], tmp_path: Path
) -> None:  # noqa: F811
    first, second = book(env, ["S-1", "S-2"])
    lines = [
        "shipment,status,at,city,text",
        f"{first.tracking_number},accepted,2026-12-08T10:00:00+03:00,Москва,Принят",
        f"{first.tracking_number},delivered,2026-12-11T15:30:00+07:00,Новосибирск,Вручен",
        f"{second.id},in_transit,2026-12-09T08:00:00+03:00,,",
        f"{second.id},teleported,2026-12-09T09:00:00+03:00,,",
        "NOBODY1,in_transit,2026-12-09T09:00:00+03:00,,",
        f"{first.tracking_number},accepted,2026-12-08T10:00:00+03:00,Москва,Принят",  # again: kept once
    ]
    csv_file = tmp_path / "partner.csv"
    csv_file.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = run(env, "shipments", "events", str(csv_file))

    assert result.exit_code == 4, result.output + result.stderr
    assert "line 5: status:" in result.stderr and "line 6: shipment:" in result.stderr
    assert [h["status"] for h in history(env, first.id)] == ["accepted", "delivered"]
    assert [h["status"] for h in history(env, second.id)] == ["in_transit"]
    shown = orjson.loads(run(env, "shipments", "show", first.id, "--json").stdout)
    assert shown["tracking_status"] == "delivered"
