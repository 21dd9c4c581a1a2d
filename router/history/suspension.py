"""When a carrier stops getting orders: too many serious failures (lost, damaged, complained about)
within a window of days.

Two scopes: a carrier on one lane (origin region → destination region, every service), and the
carrier everywhere. The carrier-wide bar is higher: a carrier's failures add up over all its lanes,
so with one bar for both, any lane reaching it would suspend the whole carrier.

Failures are dated by when they happened (the delivery day, else the hand-over day), not by when
they were imported, so loading a year of history suspends only for failures that really came
close together. A suspension lasts until someone reinstates it, which also forgives the failures
counted so far.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from router.core import answers
from router.core.models import Rejection
from router.core.regions import regions
from router.core.wording import Lang, RejectionCode, failures_ru, rejection


@dataclass(frozen=True, slots=True)
class SuspensionRule:
    lane_failures: int = 3
    carrier_failures: int = 10
    window_days: int = 7

    def __post_init__(self) -> None:
        if self.lane_failures < 1 or self.carrier_failures < 1 or self.window_days < 1:
            raise ValueError("suspension thresholds and window must be at least 1")

    def threshold(self, lane: str | None) -> int:
        return self.carrier_failures if lane is None else self.lane_failures

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SuspensionRule:
        env = os.environ if env is None else env
        d = cls()
        return cls(
            lane_failures=int(env.get("CARRIER_ROUTER_SUSPEND_AFTER", d.lane_failures)),
            carrier_failures=int(env.get("CARRIER_ROUTER_SUSPEND_CARRIER_AFTER", d.carrier_failures)),
            window_days=int(env.get("CARRIER_ROUTER_SUSPEND_WINDOW_DAYS", d.window_days)),
        )


@dataclass(frozen=True, slots=True)
class Suspension:
    carrier: str
    lane: str | None  # None: the carrier on every lane
    since: datetime
    failures: int
    window_days: int
    first_day: date
    last_day: date
    kinds: tuple[tuple[str, int], ...]  # ("lost", 2), ("complaint", 1)

    @property
    def reason(self) -> str:
        return self.rejection(self.carrier, "*").reason

    def rejection(self, carrier: str, service: str) -> Rejection:
        """A suspended carrier's offer, refused with the reason in both languages."""
        return rejection(
            carrier,
            service,
            RejectionCode.SUSPENDED,
            where_en=f"on {self.lane}" if self.lane else "on every lane",
            where_ru=f"на направлении {lane_ru(self.lane)}" if self.lane else "на всех направлениях",
            since=f"{self.since:%Y-%m-%d}",
            failures=self.failures,
            days=self.window_days,
            kinds_en=", ".join(f"{n} {kind}" for kind, n in self.kinds),
            kinds_ru=failures_ru(self.kinds),
            first=self.first_day.isoformat(),
            last=self.last_day.isoformat(),
        )


def lane_ru(lane: str) -> str:
    """A lane ("RU-MOW>RU-NVS") by its regions' Russian names; a region the bundled table does not
    know keeps its code."""
    table = regions()
    return " → ".join(table.name(code, "ru") or code for code in lane.split(">"))


@dataclass(frozen=True, slots=True)
class Window:
    failures: int
    first_day: date
    last_day: date
    kinds: Counter[str]


def worst_window(log: Mapping[tuple[date, str], int], window_days: int) -> Window | None:
    """The run of `window_days` consecutive days holding the most failures (the earliest such run).

    `log` counts failures by (day, kind); the window reports the days of its first and last failure.
    """
    if not log:
        return None
    by_day: Counter[date] = Counter()
    for (day, _), n in log.items():
        by_day[day] += n
    days = sorted(by_day)
    best: tuple[int, int, int] | None = None  # failures, first index, last index
    total, lo = 0, 0
    span = timedelta(days=window_days - 1)
    for hi, day in enumerate(days):
        total += by_day[day]
        while days[lo] < day - span:
            total -= by_day[days[lo]]
            lo += 1
        if best is None or total > best[0]:
            best = (total, lo, hi)
    assert best is not None
    failures, first, last = best
    inside = set(days[first : last + 1])
    kinds: Counter[str] = Counter()
    for (day, kind), n in log.items():
        if day in inside:
            kinds[kind] += n
    return Window(failures, days[first], days[last], kinds)


def check(
    log: Mapping[tuple[date, str], int], rule: SuspensionRule, carrier: str, lane: str | None, now: datetime
) -> Suspension | None:
    """The suspension this failure log calls for under `rule`, or None."""
    window = worst_window(log, rule.window_days)
    if window is None or window.failures < rule.threshold(lane):
        return None
    return Suspension(
        carrier=carrier,
        lane=lane,
        since=now,
        failures=window.failures,
        window_days=rule.window_days,
        first_day=window.first_day,
        last_day=window.last_day,
        kinds=tuple(sorted(window.kinds.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def suspension_answer(s: Suspension, lang: Lang = "en") -> answers.Suspension:
    said = s.rejection(s.carrier, "*")
    return answers.Suspension(
        carrier=s.carrier,
        lane=s.lane,
        since=s.since,
        reason=said.reason_ru if lang == "ru" else said.reason,
        failures=s.failures,
        window_days=s.window_days,
        first_day=s.first_day,
        last_day=s.last_day,
        kinds=dict(s.kinds),
    )
