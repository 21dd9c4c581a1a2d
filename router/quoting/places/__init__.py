"""Offline place resolution: where a shipment's ends are, from a city, a postal code or lat/lon.

`resolver` holds `Places`, the index every lookup goes through; `names` folds spellings into
keys and picks a city's Russian name; `postal_codes` reads the bundled Russian postal prefixes;
`coordinates` finds the city a point is in, districts of big cities folded into the city. A
place's region is ISO 3166-2 (router/core/regions.py).
"""

from router.quoting.places.postal_codes import POSTAL_PREFIXES
from router.quoting.places.resolver import DEFAULT_COUNTRY, Places, PlaceSuggestion

__all__ = ["DEFAULT_COUNTRY", "POSTAL_PREFIXES", "PlaceSuggestion", "Places"]
