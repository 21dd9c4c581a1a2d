"""Everything pickup_points raises across its border, under one root.

    PickupPointsError           catch this to catch anything this package refuses
    ├── ImportFormatError       a file as a whole cannot be read: not JSON, no header, wrong shape
    ├── HoursError              opening hours that cannot be read or do not make a day
    ├── NetworkNameError        a network's name that cannot name its file (`../../x`)
    └── PointsFileError         a stored network file is wrong; also a `ConfigError`

One bad record inside a readable file is not an exception: the importers report it as data
(`ImportRowError`) and go on with the rest.

`ImportFormatError`, `HoursError` and `NetworkNameError` are also `ValueError`s, as they were before this tree, so
callers that catch `ValueError` around a parse keep working. `PointsFileError` is also the
service's `ConfigError`: a broken file in `data/pickup_points/` is a misconfigured service that
must refuse to start, and the startup code already turns every `ConfigError` into that message.
"""

from __future__ import annotations

from router.core.errors import ConfigError


class PickupPointsError(Exception):
    """The root: every error this package raises derives from it."""


class ImportFormatError(PickupPointsError, ValueError):
    """The file as a whole cannot be read (not JSON, no header, wrong shape)."""


class HoursError(PickupPointsError, ValueError):
    """Opening hours that cannot be read (`Mo-Fr 10:00-20:00`) or that do not make a day."""


class NetworkNameError(PickupPointsError, ValueError):
    """A network name that is not a short lower-case code; it would become a path, so it is refused."""


class PointsFileError(PickupPointsError, ConfigError):
    """A pickup-point file the service stores is wrong; `source` names it, `path` the field."""
