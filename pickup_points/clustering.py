"""Grid clustering for map views, on the server, so a map never downloads the whole country.

Cells are squares of `CELL_PX` screen pixels in Web Mercator at the view's zoom, aligned to the
world grid (not to the view) so clusters stay put while the map pans. A cell holding one site is
that site's marker; a cell holding several becomes one cluster with a count.

A view is never more than `MAX_VIEW_PX` a side (see `view_zoom`), so its cells fit a small dense
grid and every count is a `bincount`, with no sort of the points.
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
class Cells:
    """The non-empty cells of a view, and for each input row the position of its cell."""

    keys: np.ndarray  # y * cells_per_side + x, world-aligned
    counts: np.ndarray
    lat: np.ndarray  # mean of the rows in the cell
    lon: np.ndarray
    one_site: np.ndarray  # bool: every row of the cell is at the same site
    of_row: np.ndarray

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


def grid_cells(
    x: np.ndarray, y: np.ndarray, lat: np.ndarray, lon: np.ndarray, site: np.ndarray, zoom: int, west: float
) -> Cells:
    """Cells of the rows at `zoom`; `west` is the view's west edge, where a box across 180° starts."""
    side = cells_per_side(zoom)
    ix = np.minimum((x * side).astype(np.int64), side - 1)
    iy = np.minimum((y * side).astype(np.int64), side - 1)
    if ix.shape[0] == 0:
        empty = np.empty(0, dtype=np.int64)
        return Cells(empty, empty, empty.astype(float), empty.astype(float), empty.astype(bool), empty)
    x0 = min(int(mercator_x(west) * side), side - 1)
    y0 = int(iy.min())
    lx = (ix - x0) % side
    ly = iy - y0
    nx = int(lx.max()) + 1
    local = ly * nx + lx
    size = int(local.max()) + 1
    counts = np.bincount(local, minlength=size)
    # Any one row's site stands for its cell; a cell is one site when no row differs from it.
    representative = np.empty(size, dtype=site.dtype)
    representative[local] = site
    differing = np.bincount(local, weights=site != representative[local], minlength=size)
    filled = np.flatnonzero(counts)
    position = np.empty(size, dtype=np.int64)
    position[filled] = np.arange(filled.shape[0])
    n = counts[filled]
    return Cells(
        keys=(y0 + filled // nx) * side + (x0 + filled % nx) % side,
        counts=n,
        lat=np.bincount(local, weights=lat, minlength=size)[filled] / n,
        lon=np.bincount(local, weights=lon, minlength=size)[filled] / n,
        one_site=differing[filled] == 0,
        of_row=position[local],
    )
