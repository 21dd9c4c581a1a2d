"""How pickup points are kept between runs, in the importers' own vocabulary.

Bundled networks are CSV files in `data/pickup_points/`, read-only: files whose name starts
with `demo` hold the demo networks, and a network's own file there replaces that network's demo
points. Imported networks are kept by the service's records as one GeoJSON feature per point
(`point_feature`) and read back by the GeoJSON importer, so there is one reader of the
vocabulary. Either way time zones are stored, so starting the service never looks a zone up
again.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def replace_networks(base: Iterable[PickupPoint], replacing: Sequence[PickupPoint]) -> tuple[PickupPoint, ...]:
    """`base` with every network that has points in `replacing` swapped for those points."""
    replaced = {p.network for p in replacing}
    return (*(p for p in base if p.network not in replaced), *replacing)


def point_feature(p: PickupPoint) -> dict[str, Any]:
    """`p` as a GeoJSON feature the GeoJSON importer reads back as it was; blank fields left out."""
    fields = {name: value for name, value in _fields(p).items() if value and name not in ("lat", "lon")}
    # The float itself, not the CSV's six decimals: a stored point comes back where it was.
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]}, "properties": fields}


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
        values = _fields(p)
        writer.writerow([values[c] for c in CSV_COLUMNS])
    return out.getvalue()


def _fields(p: PickupPoint) -> dict[str, str]:
    limits = p.limits
    return {
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


def _box(sides: tuple[float, float, float]) -> str:
    return "x".join(f"{s:g}" for s in sides)
