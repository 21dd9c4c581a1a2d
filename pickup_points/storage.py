"""Where pickup points live between runs: CSV files in `data/pickup_points/`.

`points import` writes one file per network (`<network>.csv`) in the importers' CSV vocabulary,
time zones included, so starting the service never looks a zone up again. Files whose name
starts with `demo` hold the bundled demo networks; a network's own file replaces that network's
demo points.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pickup_points.errors import ImportFormatError, PointsFileError
from pickup_points.hours import format_hours
from pickup_points.importers import CSV_COLUMNS, ImportRowError, ZoneFor, import_csv
from pickup_points.model import PickupPoint, network_name


@dataclass(frozen=True, slots=True)
class FileRowError:
    file: str
    error: ImportRowError

    def __str__(self) -> str:
        e = self.error
        return f"{self.file}:{e.line}: {e.field or 'row'}: {e.reason}"


@dataclass(frozen=True, slots=True)
class Loaded:
    points: tuple[PickupPoint, ...]
    errors: tuple[FileRowError, ...]
    files: tuple[str, ...]


def load_points(directory: Path, zone_for: ZoneFor | None = None) -> Loaded:
    files = sorted(directory.glob("*.csv"), key=lambda p: (not p.name.startswith("demo"), p.name))
    by_network: dict[str, list[PickupPoint]] = {}
    errors: list[FileRowError] = []
    for path in files:
        try:
            result = import_csv(path.read_bytes(), zone_for=zone_for)
        except ImportFormatError as exc:
            raise PointsFileError(str(path), "header", str(exc)) from None
        errors.extend(FileRowError(path.name, e) for e in result.errors)
        mine: dict[str, list[PickupPoint]] = {}
        for point in result.points:
            mine.setdefault(point.network, []).append(point)
        by_network.update(mine)
    points = tuple(p for network in sorted(by_network) for p in by_network[network])
    return Loaded(points, tuple(errors), tuple(p.name for p in files))


def network_file(directory: Path, network: str) -> Path:
    return directory / f"{network_name(network)}.csv"


def save_network(points: Sequence[PickupPoint], directory: Path, network: str) -> Path:
    """Write atomically, so a running service never reads half a file."""
    directory.mkdir(parents=True, exist_ok=True)
    target = network_file(directory, network)
    temporary = target.with_suffix(".csv.tmp")
    temporary.write_text(to_csv(points), encoding="utf-8")
    os.replace(temporary, target)
    return target


def to_csv(points: Iterable[PickupPoint]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in points:
        writer.writerow(_row(p))
    return out.getvalue()


def _row(p: PickupPoint) -> list[str]:
    limits = p.limits
    values = {
        "code": p.code,
        "network": p.network,
        "carrier": p.carrier,
        "type": p.type.value,
        "name": p.name,
        "address": p.address,
        "city": p.city or "",
        "region": p.region or "",
        "postal_code": p.postal_code or "",
        "country": p.country,
        "lat": f"{p.lat:.6f}",
        "lon": f"{p.lon:.6f}",
        "timezone": p.timezone,
        "hours": format_hours(p.hours),
        "features": "|".join(sorted(f.value for f in p.features)),
        "max_weight_g": "" if limits.max_weight_g is None else str(limits.max_weight_g),
        "max_sides_cm": "" if limits.max_sides_cm is None else _box(limits.max_sides_cm),
        "cells": "|".join(_box(c.sides_cm) for c in limits.cells),
        "status": p.status.value,
    }
    return [values[c] for c in CSV_COLUMNS]


def _box(sides: tuple[float, float, float]) -> str:
    return "x".join(f"{s:g}" for s in sides)
