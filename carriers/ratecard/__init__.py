"""Rate-card carriers: partners with no API, each described by one JSON file in `data/carriers/`.

Adding a partner is dropping a file. Every file is validated in full when the service starts; a
wrong file raises `ConfigError` naming the file and the field, so the service never runs with
half its carriers. The format is declared once as msgspec Structs in `schema`; `loader` decodes
through them and checks what a type cannot say (zones known, breaks rising, geometry valid).

File format (money and percentages are strings, parsed to Decimal: a float cannot hold kopecks)::

    {
      "_note": "keys starting with _ are comments",
      "code": "sibcourier",                 # [a-z0-9_-], unique across files; offer ids use it
      "name": {"ru": "Сиб Курьер", "en": "Sib Courier"},   # both required: a buyer reads it
      "demo": true,                         # optional, default false
      "currency": "RUB",                    # optional, default RUB
      "volumetric_divisor": 5000,           # optional, cm³ per kg, default 5000
      "cutoff": "14:00",                    # local time at the origin; later ships next work day
      "countries": ["RU"],                  # optional: both ends must be in one of these
      "zones": {"type": "polygons",         # or "distance" / "cities", see below
                "destination": <GeoJSON FeatureCollection, properties.zone on each feature>,
                "origin": <optional GeoJSON FeatureCollection or (Multi)Polygon: home area>,
                "inbound": {"fee": "260.00", "extra_days": 3}},  # optional, see below
      "surcharges": {                       # all optional
        "fuel_pct": "12.5",                 # % of the freight: base + weight + distance
        "insurance": {"pct": "0.5", "min": "10.00"},   # % of declared value, when declared
        "cod": {"pct": "2.0", "min": "50.00"},         # % of declared value, when COD asked
        "remote_area": {"fee": "150.00", "zones": ["FAR"]}
      },
      "services": [{
        "code": "door", "name": {"ru": "До двери", "en": "Door to door"},
        "delivery_type": "courier",         # or "pickup"
        "cod": true,                        # optional, default true: offers cash on delivery
        "limits": {"max_weight_g": 30000, "max_side_cm": 120, "max_sum_sides_cm": 250},
        "zones": {"NSK": {"base": "180.00",
                          "weight_breaks": [{"max_g": 1000, "price": "0.00"},
                                            {"max_g": 3000, "price": "45.00"}],
                          "per_extra_kg": "20.00",   # each started kg past the last break
                          "per_km": "0.00",          # optional, per started km origin→destination
                          "transit_days": {"min": 1, "max": 2}}}
      }]
    }

    "zones": {"type": "distance", "bands": [{"zone": "1", "max_km": 50}, {"zone": "2", "max_km": 500}]}
    "zones": {"type": "cities", "cities": [{"zone": "MOW", "name": "Moscow", "lat": 55.75,
                                            "lon": 37.62, "radius_km": 40}]}

Pricing, per service, once the zone is known:

- base: the zone's base rate once per parcel (each parcel is handled and labelled on its own);
- weight: per parcel, on that parcel's own chargeable weight (max of actual and volumetric):
  the price of the first weight break whose `max_g` it fits, and past the last break that
  break's price plus `per_extra_kg` for every started kilogram beyond it;
- distance: `per_km` × started kilometres origin→destination, once (one trip carries them all);
- fuel: `fuel_pct` of base + weight + distance;
- insurance: `pct` of the declared value, at least `min`, when a value is declared;
- cod: `pct` of the declared value (the sum the courier collects), at least `min`;
- remote_area: the flat fee once per shipment, when the zone is listed as remote;
- other ("Line-haul"): with `zones.inbound`, an origin outside the home area is not refused but
  carried in by line-haul: its flat fee once per shipment, and `extra_days` on every transit.

Each line is rounded half-up to kopecks and the total is the sum of the rounded lines, so the
breakdown always adds up. A line with nothing to charge (no weight past a free first break, no
fuel rate, nothing declared) is left out; base is always there.
"""

from carriers.ratecard.carrier import RateCardCarrier
from carriers.ratecard.loader import (
    load_ratecard,
    load_ratecards,
    parse_ratecard,
    validate_directory,
)
from carriers.ratecard.tariff import (
    Inbound,
    Limits,
    PercentFee,
    RateCard,
    Service,
    Surcharges,
    WeightBreak,
    ZoneTariff,
)

__all__ = [
    "Inbound",
    "Limits",
    "PercentFee",
    "RateCard",
    "RateCardCarrier",
    "Service",
    "Surcharges",
    "WeightBreak",
    "ZoneTariff",
    "load_ratecard",
    "load_ratecards",
    "parse_ratecard",
    "validate_directory",
]
