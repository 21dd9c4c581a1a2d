"""History kept before ISO 3166-2 regions, keyed by GeoNames admin1 codes (`RU-48>RU-53`), is
read under the ISO lane (`RU-MOW>RU-NVS`): nothing learned or suspended is lost."""

from __future__ import annotations

from datetime import UTC, date, datetime

from router.core.models import Policy
from router.history.layout import current_lane, legacy_key, legacy_lane, suspension_from_json, suspension_to_json
from router.history.outcome_files import parse_csv
from router.history.reliability import ReliabilityConfig, annotate
from router.history.suspension import Suspension, SuspensionRule
from router.history.track_record import TrackRecord
from router.store import Store
from tests.router.history.test_reliability import offer, outcome, serious
from tests.router.outcome_sim import HEADER

OLD_LANE = "RU-48>RU-53"  # as history before ISO codes wrote it: Outcome ends went in as written
LANE = "RU-MOW>RU-NVS"


def test_an_old_lane_and_its_iso_form_name_each_other() -> None:
    assert legacy_lane(LANE) == OLD_LANE
    assert current_lane(OLD_LANE) == LANE
    assert current_lane("RU-48>UA-12") == "RU-MOW>UA-12"
    assert legacy_lane("UA-12>UA-30") is None
    assert legacy_key(f"rel:a:acme|std|{LANE}") == f"rel:a:acme|std|{OLD_LANE}"
    assert legacy_key("acme|" + LANE) == "acme|" + OLD_LANE
    assert legacy_key("rel:a:acme|std") is None


def test_an_import_reads_old_admin1_regions_as_iso_codes() -> None:
    (old, bare, new) = parse_csv(
        [
            HEADER,
            "s1,acme,std,RU-48,RU-53,2026-11-02,,2026-11-04,,",
            "s2,acme,std,48,53,2026-11-02,,2026-11-04,,",
            "s3,acme,std,RU-MOW,ru-nvs,2026-11-02,,2026-11-04,,",
        ]
    )
    assert {(o.origin, o.destination) for o in (old, bare, new)} == {("RU-MOW", "RU-NVS")}  # type: ignore[union-attr]


def test_an_import_refuses_a_russian_region_no_code_names() -> None:
    (problem,) = parse_csv([HEADER, "s1,acme,std,RU-99,RU-NVS,2026-11-02,,2026-11-04,,"])
    assert problem.field == "origin"  # type: ignore[union-attr]


async def test_tallies_kept_under_the_old_lane_count_under_the_iso_one(store: Store) -> None:
    record = TrackRecord(store)
    await record.record([outcome(i, lane=OLD_LANE) for i in range(5)])
    await record.record([outcome(10 + i, lane=LANE) for i in range(3)])

    tally = await TrackRecord(store).tallies("acme", "std", LANE)

    assert tally is not None and tally.n == 8
    view = await TrackRecord(store).view([("acme", "std")], LANE)
    assert view.lanes[("acme", "std")].n == 8


async def test_a_suspension_kept_under_the_old_lane_holds_on_the_iso_one_and_can_be_lifted(store: Store) -> None:
    record = TrackRecord(store)
    (old,) = (await record.record([serious(i, date(2026, 11, 2 + i), lane=OLD_LANE) for i in range(3)])).suspended
    assert old.lane == OLD_LANE  # written as history before ISO codes wrote it

    fresh = TrackRecord(store)
    (kept,) = await fresh.suspensions()
    assert kept.lane == LANE
    view = await fresh.view([("acme", "std")], LANE)
    assert not annotate([offer("acme", "std", 2)], view, Policy(), fresh.config).offers

    (lifted,) = await fresh.reinstate("acme", OLD_LANE)
    assert lifted.lane == LANE
    assert await fresh.suspensions() == []


async def test_failures_logged_under_the_old_lane_count_towards_a_suspension(store: Store) -> None:
    config = ReliabilityConfig(rule=SuspensionRule(lane_failures=3, window_days=7))
    await TrackRecord(store, config).record([serious(i, date(2026, 11, 2 + i), lane=OLD_LANE) for i in range(2)])

    report = await TrackRecord(store, config).record([serious(5, date(2026, 11, 5), lane=LANE)])

    assert [s.lane for s in report.suspended] == [LANE]
    assert report.suspended[0].failures == 3


def test_a_suspension_read_back_carries_the_iso_lane() -> None:
    old = Suspension(
        carrier="acme",
        lane=OLD_LANE,
        since=datetime(2026, 11, 5, tzinfo=UTC),
        failures=3,
        window_days=7,
        first_day=date(2026, 11, 2),
        last_day=date(2026, 11, 4),
        kinds=(("lost", 3),),
    )
    assert suspension_from_json(suspension_to_json(old)).lane == LANE
