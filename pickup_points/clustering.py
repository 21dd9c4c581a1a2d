"""Grid clustering for map views, on the server, so a map never downloads the whole country.

Cells are squares of `CELL_PX` screen pixels in Web Mercator at the view's zoom, aligned to the
world grid (not to the view) so clusters stay put while the map pans. A cell holding one site is
that site's marker; a cell holding several becomes one cluster with a count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CELL_PX = 64
TILE_PX = 256
MAX_ZOOM = 20
# The largest view we render, in pixels a side: above it the zoom is lowered so the answer
# stays one screen's worth of cells (a 4K display at device pixel ratio 1.5 is ~2560 wide).
MAX_VIEW_PX = 2560
_MAX_MERCATOR_LAT = 85.05112878


@dataclass(frozen=True, slots=True)
class Groups:
    """Rows grouped by cell: rows[starts[i]:starts[i + 1]] lie in cell keys[i]."""

    keys: np.ndarray
    rows: np.ndarray
    starts: np.ndarray  # len(keys) + 1

    def __len__(self) -> int:
        return int(self.keys.shape[0])


def mercator_x(lon: np.ndarray | float) -> np.ndarray:
    """0..1 west to east."""
    return (np.asarray(lon, dtype=np.float64) + 180.0) / 360.0


def mercator_y(lat: np.ndarray | float) -> np.ndarray:
    """0..1 north to south."""
    phi = np.radians(np.clip(np.asarray(lat, dtype=np.float64), -_MAX_MERCATOR_LAT, _MAX_MERCATOR_LAT))
    return (1.0 - np.log(np.tan(phi) + 1.0 / np.cos(phi)) / np.pi) / 2.0


def cells_per_side(zoom: int) -> int:
    return (1 << zoom) * TILE_PX // CELL_PX


def view_zoom(west: float, south: float, east: float, north: float, zoom: int) -> int:
    """`zoom`, lowered until the box fits MAX_VIEW_PX a side."""
    width = ((east - west) % 360.0 or (360.0 if east != west else 0.0)) / 360.0
    height = float(mercator_y(south) - mercator_y(north))
    zoom = max(0, min(zoom, MAX_ZOOM))
    while zoom > 0 and max(width, height) * (1 << zoom) * TILE_PX > MAX_VIEW_PX:
        zoom -= 1
    return zoom


def group_by_cell(lat: np.ndarray, lon: np.ndarray, zoom: int) -> Groups:
    side = cells_per_side(zoom)
    x = np.minimum((mercator_x(lon) * side).astype(np.int64), side - 1)
    y = np.minimum((mercator_y(lat) * side).astype(np.int64), side - 1)
    keys = y * side + x
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    if sorted_keys.shape[0] == 0:
        return Groups(sorted_keys, order, np.zeros(1, dtype=np.int64))
    heads = np.flatnonzero(np.diff(sorted_keys)) + 1
    starts = np.concatenate(([0], heads, [sorted_keys.shape[0]]))
    return Groups(sorted_keys[starts[:-1]], order, starts)
