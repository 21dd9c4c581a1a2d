"""A day's options as flat integer arrays: built once per plan, read by greedy, the flows and costing.

A day of 100,000 orders has well over a million options; walking their objects in Python once
per flow cost more than solving the flow. Here they are walked once, attribute by attribute,
and everything after is array arithmetic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import count
from operator import attrgetter

import numpy as np
import numpy.typing as npt

from router.allocation.model import Candidates, Terms

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Flat:
    """Option j belongs to modelled order `order[j]`; modelled order m is candidate `orders[m]`."""

    size: int  # how many candidates, with options or without
    orders: Ints  # candidate position of each modelled order (those with options)
    parcels: Ints  # per modelled order
    first: Ints  # options of modelled order m are first[m]..first[m+1]
    local: Ints  # option j's index within its candidate's options
    order: Ints
    price: Ints  # kopecks
    days: Ints
    eta: Ints  # ordinal of the latest promised date
    label: Ints  # rank of (warehouse, carrier, service) among the day's: the last tie-breaks
    group: Ints  # option j's pickup, an index into `pickups`
    pickups: list[tuple[str, str]]  # (carrier, warehouse)
    capacity: list[int | None]  # per pickup; None is unlimited

    @property
    def carrier_of_pickup(self) -> list[str]:
        return [carrier for carrier, _ in self.pickups]


def flatten(candidates: Sequence[Candidates], terms: Terms) -> Flat:
    # Positions and candidates in two lists, not pairs: a pair per order would be 100,000 more
    # objects for the cyclic collector to track.
    positions = [i for i, c in enumerate(candidates) if c.options]
    modelled = [candidates[i] for i in positions]
    options = [o for c in modelled for o in c.options]
    n = len(options)
    # Two walks over the option objects: the price, and everything else as one key. A day has
    # few distinct (warehouse, carrier, service, days, date) keys, numbered as first met (each
    # key tuple is dropped at once, so the walk leaves the collector nothing to do); the label,
    # days and date columns then follow from the small table of distinct keys.
    seen: defaultdict[tuple[str, str, str, int, date], int] = defaultdict(count().__next__)
    kind = np.fromiter(
        map(seen.__getitem__, map(attrgetter("warehouse", "carrier", "service", "days", "eta_max_date"), options)),
        dtype=np.int64,
        count=n,
    )
    price = np.fromiter(map(attrgetter("price_kop"), options), dtype=np.int64, count=n)
    kinds = list(seen)  # in the order numbered

    counts = np.fromiter(map(len, map(attrgetter("options"), modelled)), dtype=np.int64, count=len(modelled))
    first = np.zeros(len(modelled) + 1, dtype=np.int64)
    np.cumsum(counts, out=first[1:])
    order = np.repeat(np.arange(len(modelled), dtype=np.int64), counts)
    # One (warehouse, carrier, service) number per option, in sorted order: the number is the
    # greedy's last tie-break, and the pickup follows from it.
    distinct = sorted({k[:3] for k in kinds})
    number = {k: n for n, k in enumerate(distinct)}
    pickups: dict[tuple[str, str], int] = {}
    pickup_of_label = np.asarray([pickups.setdefault((c, w), len(pickups)) for w, c, _ in distinct], dtype=np.int64)
    label_of_kind = np.asarray([number[k[:3]] for k in kinds], dtype=np.int64)
    days_of_kind = np.asarray([k[3] for k in kinds], dtype=np.int64)
    eta_of_kind = np.asarray([k[4].toordinal() for k in kinds], dtype=np.int64)
    label = label_of_kind[kind] if n else np.zeros(0, dtype=np.int64)
    capacity = terms.capacity_by_pickup()
    return Flat(
        size=len(candidates),
        orders=np.asarray(positions, dtype=np.int64),
        parcels=np.fromiter(map(attrgetter("parcels"), modelled), dtype=np.int64, count=len(modelled)),
        first=first,
        local=np.arange(n, dtype=np.int64) - first[order],
        order=order,
        price=price,
        days=days_of_kind[kind] if n else np.zeros(0, dtype=np.int64),
        eta=eta_of_kind[kind] if n else np.zeros(0, dtype=np.int64),
        label=label,
        group=pickup_of_label[label] if n else np.zeros(0, dtype=np.int64),
        pickups=list(pickups),
        capacity=[capacity.get(k) for k in pickups],
    )


def choice_of(flat: Flat, picked: Ints) -> tuple[int | None, ...]:
    """Option index per candidate (None for none) from the chosen flat option per modelled order (-1: none)."""
    out = np.full(flat.size, -1, dtype=np.int64)
    chosen = picked >= 0
    out[flat.orders[chosen]] = flat.local[picked[chosen]]
    return tuple(None if k < 0 else k for k in out.tolist())
