"""CDEK API v2 codes: delivery modes, currencies, a few well-known tariffs, error codes."""

from __future__ import annotations

import enum

from router.core.models import ANY_POINT, DeliveryType, PointType


class DeliveryMode(enum.IntEnum):
    """Where the parcel is handed over and where the buyer gets it."""

    DOOR_DOOR = 1
    DOOR_OFFICE = 2
    OFFICE_DOOR = 3
    OFFICE_OFFICE = 4
    DOOR_LOCKER = 6
    OFFICE_LOCKER = 7
    LOCKER_DOOR = 8
    LOCKER_OFFICE = 9
    LOCKER_LOCKER = 10

    @property
    def delivery_type(self) -> DeliveryType:
        return delivery_type(self.value)

    @property
    def point_types(self) -> frozenset[PointType]:
        return point_types(self.value)


# Only the receiving end matters to the buyer: "to door" is a courier, anything else a pickup.
_TO_DOOR = frozenset({DeliveryMode.DOOR_DOOR, DeliveryMode.OFFICE_DOOR, DeliveryMode.LOCKER_DOOR})


def delivery_type(mode: int) -> DeliveryType:
    """Courier for the to-door modes; every other mode, known or new, ends at an office or locker."""
    return DeliveryType.COURIER if mode in _TO_DOOR else DeliveryType.PICKUP


# CDEK takes a "to office" tariff only for an office (PVZ) and a "to locker" one only for a
# POSTAMAT: an order naming the other kind of point is refused.
_TO_OFFICE = frozenset({DeliveryMode.DOOR_OFFICE, DeliveryMode.OFFICE_OFFICE, DeliveryMode.LOCKER_OFFICE})
_TO_LOCKER = frozenset({DeliveryMode.DOOR_LOCKER, DeliveryMode.OFFICE_LOCKER, DeliveryMode.LOCKER_LOCKER})
_OFFICE, _LOCKER = frozenset({PointType.PVZ}), frozenset({PointType.LOCKER})


def point_types(mode: int) -> frozenset[PointType]:
    """The kinds of point a mode's parcel is handed over at: none for the door, any for a new mode."""
    if mode in _TO_OFFICE:
        return _OFFICE
    if mode in _TO_LOCKER:
        return _LOCKER
    return ANY_POINT


class Currency(enum.IntEnum):
    """The calculator takes currency as an integer code, not ISO 4217 letters."""

    RUB = 1


CALCULATOR_TYPE_ESHOP = 1  # "online store" contract; type 2 is plain delivery

# Tariffs the calculator commonly offers for parcels inside Russia, named in English and Russian
# (as CDEK names them); names are descriptive only, the live answer's `tariff_name` wins in the
# language the adapter asks in.
KNOWN_TARIFFS: dict[int, tuple[str, str, DeliveryMode]] = {
    136: ("Parcel office-office", "Посылка склад-склад", DeliveryMode.OFFICE_OFFICE),
    137: ("Parcel office-door", "Посылка склад-дверь", DeliveryMode.OFFICE_DOOR),
    138: ("Parcel door-office", "Посылка дверь-склад", DeliveryMode.DOOR_OFFICE),
    139: ("Parcel door-door", "Посылка дверь-дверь", DeliveryMode.DOOR_DOOR),
    233: ("Economy parcel office-door", "Экономичная посылка склад-дверь", DeliveryMode.OFFICE_DOOR),
    234: ("Economy parcel office-office", "Экономичная посылка склад-склад", DeliveryMode.OFFICE_OFFICE),
    366: ("Parcel door-locker", "Посылка дверь-постамат", DeliveryMode.DOOR_LOCKER),
    368: ("Parcel office-locker", "Посылка склад-постамат", DeliveryMode.OFFICE_LOCKER),
    378: ("Economy parcel office-locker", "Экономичная посылка склад-постамат", DeliveryMode.OFFICE_LOCKER),
    480: ("Express door-door", "Экспресс дверь-дверь", DeliveryMode.DOOR_DOOR),
    481: ("Express door-office", "Экспресс дверь-склад", DeliveryMode.DOOR_OFFICE),
    482: ("Express office-door", "Экспресс склад-дверь", DeliveryMode.OFFICE_DOOR),
    483: ("Express office-office", "Экспресс склад-склад", DeliveryMode.OFFICE_OFFICE),
}


def russian_name(code: object, live: str, lang: str) -> str:
    """A tariff's Russian name: the calculator's own when asked in Russian, else the known one."""
    if lang == "rus":
        return live
    # A tariff read leniently may carry any JSON as its code, even an unhashable list.
    known = KNOWN_TARIFFS.get(code) if isinstance(code, int) else None
    return known[1] if known is not None else live


ERR_INVALID_VALUE_TYPE = "v2_invalid_value_type"
ERR_INTERNAL = "v2_internal_error"
ERR_BAD_REQUEST = "v2_bad_request"
ERR_FIELD_IS_EMPTY = "v2_field_is_empty"
ERR_ENTITY_NOT_FOUND = "v2_entity_not_found"
ERR_UNAUTHORIZED = "v2_unauthorized"
