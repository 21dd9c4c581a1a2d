"""The carriers' track record in the store: outcomes folded into compact aggregates, the serious
failures that suspend a carrier, and the view of it one quote needs. The keys it writes are
drawn in `router.history.layout`.

Importing is idempotent by shipment id. Each batch is first kept in the records database
(`router.history.archive`), where a shipment kept before is a duplicate, then claims its ids in
the store (`hsetnx_many`, atomic per id) and adds only the newly claimed outcomes, aggregated in
memory per key, in one more call. Two imports of the same file therefore never count a shipment
twice; a crash between the two calls loses that batch's counts rather than doubling them, the
safer side for statistics, until the kept outcomes are refolded.

On the quote path a worker keeps what it read: a quote on a lane it has quoted before reads
nothing from the store, and what is older than `cache_ttl_s` seconds is re-read behind that
quote, so another worker's import shows a few seconds later. Only a lane the worker has never
quoted waits for the store, once, in one round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, cast

from router.history.layout import (
    FAILURES,
    MONTHS,
    SUSPENSIONS,
    RegionResolver,
    aggregate_key,
    current_lane,
    failure_kind,
    legacy_key,
    month_of,
    months_back,
    scope,
    seen_key,
    suspension_from_json,
    suspension_to_json,
)
from router.history.outcomes import Coordinates, Outcome, RowProblem
from router.history.reliability import (
    RecordView,
    ReliabilityConfig,
    Tally,
    add_into,
    contribution_fields,
)
from router.history.suspension import Suspension, check
from router.store import Store, StoreUnavailable

if TYPE_CHECKING:
    from router.history.archive import OutcomeArchive

log = logging.getLogger(__name__)

MAX_REPORTED_PROBLEMS = 1000
# An import stops at the row after this many rejected ones: a file that bad is the wrong file or a
# hostile one, and reading on would cost a worker seconds to list what no one will read.
MAX_REJECTED_ROWS = 1000
# Rows read between two turns of the event loop, good or bad: other requests wait a few
# milliseconds at most, whether or not a batch is written meanwhile.
ROWS_PER_TURN = 500
DEFAULT_BATCH = 100_000  # outcomes aggregated in memory before each write: fewer, fuller store calls
_MAX_CACHED = 100_000
_MAX_VIEWS = 4096  # lanes whose last view a worker keeps


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0  # rows with at least one problem
    problems: list[RowProblem] = field(default_factory=list)  # the first MAX_REPORTED_PROBLEMS
    stopped_at: int | None = None  # the line not read, nor any after it, past MAX_REJECTED_ROWS
    suspended: list[Suspension] = field(default_factory=list)  # newly, by this import


@dataclass(slots=True)
class _KeptView:
    generation: int  # `TrackRecord._generation` when it was built
    goes_old: float  # when its first entry goes old (monotonic seconds)
    keys: list[str]  # the cache entries it was built from
    view: RecordView


class TrackRecord:
    def __init__(
        self,
        store: Store,
        config: ReliabilityConfig | None = None,
        places: Callable[[], object] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        archive: OutcomeArchive | None = None,
    ) -> None:
        self._store = store
        self.archive = archive  # None: outcomes are counted in the store only
        self.config = config or ReliabilityConfig()
        self._regions = RegionResolver(places)
        self._clock = clock
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, object]] = {}
        # Per lane: the estimates worked out from the cached tallies, dropped whenever they are re-read.
        self._memo: dict[str | None, dict[tuple[str, str, int], object]] = {}
        self._rereading: asyncio.Future[None] | None = None
        self._stale: set[str] = set()  # entries gone old, waiting for `_rereading`
        self._months: list[str] | None = None  # the window last read (router/reliability.py, Ageing)
        # Per lane and set of pairs asked about: the view last handed out. Most quotes ask about a
        # lane and the same carriers' services as one before; they get that view again rather
        # than some ninety keys built and looked up afresh. Keyed by the pairs too, as a lane's
        # quotes alternate between a few sets (a parcel too big for a locker drops that service).
        # A view stands while no cached figure has changed (`_generation`): entries going old
        # every few seconds are read again behind the quotes, and figures read back the same
        # leave every view standing, where rebuilding hundreds of lanes' views would not.
        self._views: dict[tuple[str | None, frozenset[tuple[str, str]]], _KeptView] = {}
        self._generation = 0  # moves on whenever a cached figure changes or the cache is emptied

    # --- import --------------------------------------------------------------------------

    async def record(self, rows: Iterable[Outcome | RowProblem], batch_size: int = DEFAULT_BATCH) -> ImportReport:
        """Import parsed rows: outcomes are counted once per shipment id, problems reported.

        Stops at the row after `MAX_REJECTED_ROWS` rejected ones, keeping the good rows before it.
        """
        report = ImportReport()
        batch: list[Outcome] = []
        last_bad_line = -1
        next_turn = ROWS_PER_TURN
        for row in rows:
            if report.rows >= next_turn:
                next_turn = report.rows + ROWS_PER_TURN
                await asyncio.sleep(0)
            if isinstance(row, RowProblem):
                if row.line != last_bad_line:
                    if report.rejected >= MAX_REJECTED_ROWS:
                        report.stopped_at = row.line
                        break
                    report.rejected += 1
                    report.rows += 1
                    last_bad_line = row.line
                if len(report.problems) < MAX_REPORTED_PROBLEMS:
                    report.problems.append(row)
                continue
            report.rows += 1
            batch.append(row)
            if len(batch) >= batch_size:
                await self._flush(batch, report)
                batch = []
        if batch:
            await self._flush(batch, report)
        return report

    def _lane(self, outcome: Outcome) -> str | None:
        ends = []
        for end in (outcome.origin, outcome.destination):
            region = self._regions(end) if isinstance(end, Coordinates) else end
            if region is None:
                return None
            ends.append(region)
        return f"{ends[0]}>{ends[1]}"

    @property
    def store(self) -> Store:
        return self._store

    def follow_clock(self, clock: Callable[[], datetime]) -> None:
        """Date what is recorded, and end the window of months, by `clock` from now on: the
        sandbox's, whose parcels travel weeks ahead of the calendar within minutes and would
        otherwise be left out of the window as outcomes from the future."""
        self._clock = clock
        self._months = None
        self._forget()

    async def _flush(self, batch: Sequence[Outcome], report: ImportReport) -> None:
        first: dict[str, Outcome] = {}
        for outcome in batch:
            first.setdefault(outcome.shipment_id, outcome)
        report.duplicates += len(batch) - len(first)
        outcomes = list(first.values())
        lanes = [self._lane(o) for o in outcomes]
        if self.archive is not None:
            written = await self.archive.keep(outcomes, lanes, self._clock())
            kept = [(o, lane) for o, lane in zip(outcomes, lanes, strict=True) if o.shipment_id in written]
            report.duplicates += len(outcomes) - len(kept)
            outcomes, lanes = [o for o, _ in kept], [lane for _, lane in kept]
        await self.count(outcomes, lanes, report)

    async def count(
        self,
        outcomes: Sequence[Outcome],
        lanes: Sequence[str | None],
        report: ImportReport,
        counts_failure: Callable[[Outcome, str | None], bool] = lambda _outcome, _lane: True,
    ) -> None:
        """Count the outcomes (each on its lane) whose shipment the store has not counted yet;
        a serious one's failure only in the scopes (None: every lane) `counts_failure` allows."""
        claimed = await self._store.hsetnx_many([seen_key(o.shipment_id) for o in outcomes])
        # Outcomes alike (same keys, same fields) are counted together first: a batch of
        # 100,000 holds a few thousand kinds, and each kind is one addition per field.
        alike: Counter[tuple[str, str, str | None, str, tuple[str, ...]]] = Counter()
        increments: dict[str, dict[str, int]] = {}
        touched: set[tuple[str, str | None]] = set()
        for outcome, lane, new in zip(outcomes, lanes, claimed, strict=True):
            if not new:
                report.duplicates += 1
                continue
            report.imported += 1
            month = month_of(outcome.handed_over_on)
            alike[(outcome.carrier, outcome.service, lane, month, contribution_fields(outcome))] += 1
            if outcome.serious:
                day = (outcome.delivered_on or outcome.handed_over_on).isoformat()
                failure = {f"{day}:{failure_kind(outcome)}": 1}
                scopes = [(outcome.carrier, None)] + ([(outcome.carrier, lane)] if lane else [])
                for s in scopes:
                    if not counts_failure(outcome, s[1]):
                        continue
                    add_into(increments, FAILURES + scope(*s), failure)
                    touched.add(s)
        for (carrier, service, lane, month, fields), count in alike.items():
            keys = [aggregate_key(carrier), aggregate_key(carrier, service)]
            if lane is not None:
                keys.append(aggregate_key(carrier, service, lane))
            for key in keys:
                h = increments.setdefault(f"{key}@{month}", {})
                for name in fields:
                    h[name] = h.get(name, 0) + count
            months = increments.setdefault(MONTHS, {})
            months[month] = months.get(month, 0) + count
        if increments:
            await self._store.hincr(increments)
        if touched:
            report.suspended.extend(await self._suspend(sorted(touched, key=lambda s: (s[0], s[1] or ""))))
        self._forget()

    async def _suspend(self, scopes: Sequence[tuple[str, str | None]]) -> list[Suspension]:
        # Failures logged before ISO region codes count too (router/history/layout.py).
        named = [(scope(*s), legacy_key(scope(*s))) for s in scopes]
        logs_of = [[FAILURES + name for name in pair if name is not None] for pair in named]
        current, *logs = await self._store.hgetall([SUSPENSIONS] + [key for keys in logs_of for key in keys])
        now = self._clock()
        suspended = []
        for (carrier, lane), pair, keys in zip(scopes, named, logs_of, strict=True):
            raw_logs, logs = logs[: len(keys)], logs[len(keys) :]
            if any(name in current for name in pair if name is not None):
                continue
            failures: dict[tuple[date, str], int] = {}
            for raw_log in raw_logs:
                for name, count in raw_log.items():
                    day, _, kind = name.partition(":")
                    entry = (date.fromisoformat(day), kind)
                    failures[entry] = failures.get(entry, 0) + int(count)
            suspension = check(failures, self.config.rule, carrier, lane, now)
            if suspension is not None:
                await self._store.hset(SUSPENSIONS, scope(carrier, lane), suspension_to_json(suspension))
                log.warning("carrier %s %s", carrier, suspension.reason)
                suspended.append(suspension)
        return suspended

    # --- suspensions ---------------------------------------------------------------------

    async def suspensions(self) -> list[Suspension]:
        (raw,) = await self._store.hgetall([SUSPENSIONS])
        found = [suspension_from_json(v) for v in raw.values()]
        return sorted(found, key=lambda s: (s.carrier, s.lane or ""))

    async def reinstate(self, carrier: str, lane: str | None = None) -> list[Suspension]:
        """Lift the carrier's suspension on `lane`, or every one of its suspensions without a lane,
        and forgive the failures that led to them. Returns what was lifted."""
        lifted = [
            s
            for s in await self.suspensions()
            if s.carrier == carrier and (lane is None or s.lane == current_lane(lane.upper()))
        ]
        if self.archive is not None:
            forgiven = [(s.carrier, s.lane) for s in lifted] + ([(carrier, None)] if lane is None else [])
            await self.archive.forgive(forgiven, self._clock())
        for s in lifted:
            names = [name for name in (scope(s.carrier, s.lane), legacy_key(scope(s.carrier, s.lane))) if name]
            await self._store.hdel(SUSPENSIONS, names)
            for name in names:
                await self._store.delete(FAILURES + name)
        if lane is None:
            await self._store.delete(FAILURES + carrier)
        self._forget()
        return lifted

    # --- the quote path ------------------------------------------------------------------

    async def view(self, pairs: Iterable[tuple[str, str]], lane: str | None) -> RecordView:
        """Tallies of these (carrier, service) pairs on `lane` and the suspensions in force, in at
        most one store round trip. A store that does not answer gives an empty view: quotes go on."""
        asked = pairs if isinstance(pairs, frozenset) else frozenset(pairs)
        now = self._monotonic()
        kept = self._views.get((lane, asked))
        if kept is not None and kept.generation == self._generation:
            if kept.goes_old > now:
                return kept.view
            if self._refresh(kept, now):
                return kept.view
        generation = self._generation  # of the entries looked up below, should a read intervene
        pairs = sorted(asked)
        # Each key built once, for the reads and for the tallies below (a quote from ten API
        # carriers has some forty pairs).
        carrier_keys = {c: aggregate_key(c) for c in sorted({c for c, _ in pairs})}
        service_keys = {p: aggregate_key(*p) for p in pairs}
        lane_keys = {p: aggregate_key(p[0], p[1], lane) for p in pairs} if lane is not None else {}
        wanted = [SUSPENSIONS, *carrier_keys.values(), *service_keys.values(), *lane_keys.values()]
        got: dict[str, object] = {}
        missing, expired = [], []
        goes_old = float("inf")
        for key in wanted:
            entry = self._cache.get(key)
            if entry is None:
                missing.append(key)
            else:
                got[key] = entry[1]
                if entry[0] < goes_old:
                    goes_old = entry[0]
                if entry[0] <= now:
                    expired.append(key)
        if expired:
            # Known but old: answer from memory and re-read behind the quote, so that only a
            # lane this worker has never quoted waits for the store.
            self._read_again(expired)
        if missing:
            self._memo.pop(lane, None)
            got.update(await self._read(missing))

        def tallies(keyed: Mapping[Any, str]) -> dict[Any, Any]:
            return {k: got[key] for k, key in keyed.items() if got[key] is not None}

        view = RecordView(
            lane,
            carriers=tallies(carrier_keys),
            services=tallies(service_keys),
            lanes=tallies(lane_keys),
            suspensions=got[SUSPENSIONS],  # type: ignore[arg-type]
            memo=self._memo.setdefault(lane, {}),  # type: ignore[arg-type]
        )
        if not missing:
            if len(self._views) >= _MAX_VIEWS:
                self._views.clear()
            self._views[lane, asked] = _KeptView(generation, goes_old, wanted, view)
        return view

    def _refresh(self, kept: _KeptView, now: float) -> bool:
        """A kept view some of whose entries went old: those are read again behind the quote (as
        `view` does) and the view stands meanwhile. False when an entry has left the cache."""
        expired = []
        cache = self._cache
        # Entries read again go old no sooner than a full lifetime from now: until then, only
        # the others can send the view back here.
        goes_old = now + self.config.cache_ttl_s
        for key in kept.keys:
            entry = cache.get(key)
            if entry is None:
                return False
            if entry[0] <= now:
                expired.append(key)
            elif entry[0] < goes_old:
                goes_old = entry[0]
        kept.goes_old = goes_old
        if expired:
            self._read_again(expired)
        return True

    def _window_from(self, imported: Mapping[str, int]) -> list[str]:
        """The window's months that hold any outcome: months nobody shipped in cost no reads."""
        this_month = month_of(self._clock().date())
        present = set(imported)  # `hsum` gives field names as text
        newest = min(max(present, default=this_month), this_month)
        return [m for m in months_back(newest, self.config.window_months) if m in present]

    async def _aggregates(
        self, keys: Sequence[str], extra: Sequence[str] = ()
    ) -> tuple[list[dict[str, int]], list[dict[str, bytes]]]:
        """Each aggregate's fields summed over the window's months (router/reliability.py, Ageing)
        by the store, and the hashes `extra` as they are, side by side. Read again only when the
        window was not the one last seen (a worker's first read, a new month imported)."""
        months = self._months if self._months is not None else []
        while True:
            # A lane's figures from before ISO region codes are summed in (router/history/layout.py).
            bases = [[key] + ([old] if (old := legacy_key(key)) else []) for key in keys]
            groups = [[MONTHS]] + [[k for b in named for k in (b, *(f"{b}@{m}" for m in months))] for named in bases]
            summed, hashes = await asyncio.gather(self._store.hsum(groups), self._store.hgetall(list(extra)))
            self._months, fresh = months, self._window_from(summed[0])
            if fresh == months:
                return summed[1:], hashes
            months = fresh

    async def _read(self, keys: list[str]) -> dict[str, object]:
        aggregates = [k for k in keys if k != SUSPENSIONS]
        try:
            summed, (suspended,) = await self._aggregates(aggregates, [SUSPENSIONS])
            read = dict(zip(aggregates, summed, strict=False))
            answers = [suspended if key == SUSPENSIONS else read[key] for key in keys]
        except StoreUnavailable:
            log.warning("track record unavailable; quoting without it", exc_info=True)
            answers = [{} for _ in keys]
        if len(self._cache) > _MAX_CACHED:
            self._forget()
        expires = self._monotonic() + self.config.cache_ttl_s
        values: dict[str, object] = {}
        changed = False
        for key, raw in zip(keys, answers, strict=False):
            value: object
            if key == SUSPENSIONS:
                value = {(s.carrier, s.lane): s for s in (suspension_from_json(cast(bytes, v)) for v in raw.values())}
            else:
                value = Tally.from_fields(raw) if raw else None
            known = self._cache.get(key)
            if known is not None:
                if known[1] == value:
                    value = known[1]  # the views and estimates made from it still hold
                else:
                    changed = True
            values[key] = value
            self._cache[key] = (expires, value)
        if changed:
            self._generation += 1
            self._memo.clear()
        return values

    def _forget(self) -> None:
        """Drop every cached figure and all that was made from them."""
        self._cache.clear()
        self._memo.clear()
        self._views.clear()
        self._generation += 1

    def _read_again(self, keys: list[str]) -> None:
        """Queue entries gone old for the one re-read behind the quotes, starting it if need be."""
        self._stale.update(keys)
        if self._rereading is None:
            self._rereading = asyncio.ensure_future(self._reread())

    async def _reread(self) -> None:
        try:
            while self._stale:
                keys, self._stale = list(self._stale), set()
                await self._read(keys)
        finally:
            self._rereading = None

    async def close(self) -> None:
        """Stop a re-read in flight; the store itself belongs to whoever opened it."""
        if self._rereading is not None:
            self._rereading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._rereading

    async def tallies(self, carrier: str, service: str | None = None, lane: str | None = None) -> Tally | None:
        """One aggregate over the window, read fresh."""
        (fields,), _ = await self._aggregates([aggregate_key(carrier, service, lane)])
        return Tally.from_fields(fields) if fields else None
