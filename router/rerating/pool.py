"""Re-rate a long file on every core: chunks of lines go out, their rows and totals come back in order.

Only for runs where no day plan ties shipments together (no capacities, no tiers): each row is
then re-rated on its own, and a chunk needs nothing from the chunks before it. The workers are
forked from the process that built the tariffs and the places, so they start warm and cost no
start-up. The file is read in blocks cut at line ends (never inside a quoted field), and at most
two chunks per worker are in flight, so memory stays flat however long the file is. Results are
taken in file order: the per-shipment CSV, the rejects and their line numbers come out as a
single process would write them.
"""

from __future__ import annotations

import asyncio
import gc
import io
import multiprocessing
import multiprocessing.pool
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from router.allocation.orders import RowError
from router.rerating.report import Overcharges, RowWriter
from router.rerating.results import DayPlan
from router.rerating.run import Rerater
from router.rerating.shipments import ColumnMap, HistoricalShipment, read_history
from router.rerating.summary import SummaryBuilder

# About 5,000 rows a block: small enough that the last blocks keep both workers busy to the end
# (at 2 MB one worker idled for seconds while the other re-rated the final block), large enough
# that handing blocks out costs nothing to speak of.
BLOCK_BYTES = 512 << 10


@dataclass(slots=True)
class ChunkResult:
    byte_count: int
    rows_csv: str  # per-shipment CSV rows, no header; empty unless asked for
    rejects: list[RowError] = field(default_factory=list)
    summary: SummaryBuilder = field(default_factory=SummaryBuilder)
    largest: Overcharges = field(default_factory=Overcharges)
    day_plans: list[DayPlan] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Job:
    rater: Rerater
    header: str
    columns: ColumnMap
    write_rows: bool


# Set in the parent before the pool forks; each worker has its own copy.
_job: _Job | None = None


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def rerate_chunks(
    path: Path,
    rater: Rerater,
    columns: ColumnMap,
    workers: int,
    write_rows: bool,
) -> Iterator[ChunkResult]:
    """Every chunk's result in file order. The pool forks here: start no threads before calling."""
    global _job
    if rater.coupled:
        raise ValueError("day plans with capacities or tiers need the shipments in one process")
    with path.open("rb") as f:
        header_raw = f.readline()
        header = header_raw.decode("utf-8-sig", errors="replace")
        # A bad header is one error on line 1, as the single-process reader reports it.
        head = list(read_history([header], columns))
        if head:
            yield _error_result(len(header_raw), head)
            return
        _job = _Job(rater, header, columns, write_rows)
        # The tariffs and the places index are long-lived and large: out of the collector's sight,
        # the workers' collections stay short and do not touch (and so copy) the pages they share.
        gc.freeze()
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                pending: deque[multiprocessing.pool.AsyncResult[ChunkResult]] = deque()
                for task in _blocks(f, first_line=2):
                    pending.append(pool.apply_async(_work, (task,)))
                    if len(pending) >= 2 * workers:
                        yield pending.popleft().get()
                while pending:
                    yield pending.popleft().get()
        finally:
            _job = None
            gc.unfreeze()


def _error_result(byte_count: int, errors: list[object]) -> ChunkResult:
    result = ChunkResult(byte_count, "")
    for e in errors:
        assert isinstance(e, RowError)
        result.rejects.append(e)
        result.summary.reject()
    return result


def _blocks(f: io.BufferedReader, first_line: int) -> Iterator[tuple[int, bytes]]:
    """(first line number, bytes) blocks of whole lines, never cut inside a quoted field."""
    line = first_line
    carry = b""
    while True:
        data = f.read(BLOCK_BYTES)
        if not data:
            if carry:
                yield line, carry
            return
        block = carry + data
        cut = _cut(block)
        if cut == 0:
            carry = block
            continue
        yield line, block[:cut]
        line += block.count(b"\n", 0, cut)
        carry = block[cut:]


def _cut(block: bytes) -> int:
    """Just past the last line end outside quotes, or 0 when there is none."""
    quotes = block.count(b'"')
    end = len(block)
    while True:
        nl = block.rfind(b"\n", 0, end)
        if nl < 0:
            return 0
        quotes -= block.count(b'"', nl + 1, end)
        if quotes % 2 == 0:
            return nl + 1
        end = nl


async def rerate_into(
    rater: Rerater,
    stream: Iterable[HistoricalShipment | RowError],
    summary: SummaryBuilder,
    largest: Overcharges,
    writer: RowWriter | None,
    rejected: Callable[[RowError], None],
) -> None:
    """Every row of `stream` re-rated into the totals and the CSV; bad rows counted and handed on."""
    async for item in rater.run(stream):
        if isinstance(item, RowError):
            summary.reject()
            rejected(item)
            continue
        summary.add(item)
        largest.add(item)
        if writer is not None:
            writer.write(item)


def _work(task: tuple[int, bytes]) -> ChunkResult:
    assert _job is not None
    first_line, data = task
    text = data.decode("utf-8", errors="replace")
    lines = [_job.header, *(part + "\n" for part in text.split("\n"))]
    if lines[-1] == "\n":
        lines.pop()
    else:
        lines[-1] = lines[-1][:-1]  # the file's last line had no line end
    rater = _job.rater
    result = ChunkResult(len(data), "")
    out = io.StringIO() if _job.write_rows else None
    writer = RowWriter(out, header=False) if out is not None else None
    stream = read_history(lines, _job.columns, first_line=first_line - 1)
    asyncio.run(rerate_into(rater, stream, result.summary, result.largest, writer, result.rejects.append))
    result.day_plans = rater.day_plans[:]
    rater.day_plans.clear()
    if out is not None:
        result.rows_csv = out.getvalue()
    return result


def merge_day_plans(into: list[DayPlan], more: list[DayPlan]) -> None:
    """Append, joining a day cut in two by a chunk boundary."""
    for d in more:
        if into and into[-1].day == d.day and into[-1].method == d.method == "per-order":
            last = into[-1]
            into[-1] = replace(
                last,
                shipments=last.shipments + d.shipments,
                total_cost=last.total_cost + d.total_cost,
                greedy_cost=last.greedy_cost + d.greedy_cost,
            )
        else:
            into.append(d)
