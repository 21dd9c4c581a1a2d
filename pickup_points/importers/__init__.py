"""Read pickup points from GeoJSON, CSV and the CDEK API v2 `/v2/deliverypoints` JSON.

Every reader returns an `ImportResult`: the points it could read and, for every record it could
not, the line (CSV) or 1-based record number (JSON) with the field and the reason. One bad record
never stops the rest, and none is dropped without an entry in `errors`. A file that cannot be
read at all raises `ImportFormatError`.

CSV columns and GeoJSON properties share one vocabulary (GeoJSON takes lat/lon from the
geometry): `code`, `network`, `carrier`, `type` (pvz|locker|post|store), `name`, `address`,
`city`, `region` (see below), `postal_code`, `country`, `lat`, `lon`, `timezone`, `hours` (see `hours`),
`features` (`card|cod|...`), `max_weight_g`, `max_sides_cm` (`60x40x40`), `cells`
(`9x36x64|19x36x64`), `status`. Required: `code`, `address`, `lat`, `lon`, `hours`.

A region is kept as ISO 3166-2 (`RU-MOW`) whichever way a record writes it: an ISO code, the
GeoNames admin1 code bundled files carried before (`48`, `RU-48`), or a name (CDEK's
"Новосибирская обл."); a name no table knows, or no region at all, is placed by the point's
coordinates when the caller gives a `region_at` lookup (`records.region_of`).

`records` holds what the formats share, `table` the CSV/GeoJSON vocabulary, `cdek` CDEK's.
"""

from pickup_points.errors import ImportFormatError
from pickup_points.importers.cdek import import_cdek
from pickup_points.importers.records import ImportResult, ImportRowError, RegionAt, ZoneFor
from pickup_points.importers.table import CSV_COLUMNS, REQUIRED, import_csv, import_geojson

__all__ = [
    "CSV_COLUMNS",
    "REQUIRED",
    "ImportFormatError",
    "ImportResult",
    "ImportRowError",
    "RegionAt",
    "ZoneFor",
    "import_cdek",
    "import_csv",
    "import_geojson",
]
