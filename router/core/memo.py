"""What is worked out from an object, kept for as long as the same object comes back.

Adapters hand out the same Price, Eta or request object to many offers and calls (one Price per
sum all day, one request to a quote's ten carriers), and what each becomes (an Eta's JSON, a
Price's packed form, a chargeable weight) is the same every time. (The codec's memo of Price JSON
is small: rate-card Prices are each written once, and a large memo would only keep them alive.)
Kept by id(), with the object held beside its result so that no other object can take the id
meanwhile; the whole memo is dropped when full.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class IdMemo(Generic[T, R]):
    def __init__(self, make: Callable[[T], R], limit: int) -> None:
        self._make = make
        self._limit = limit
        self._kept: dict[int, tuple[T, R]] = {}

    def __call__(self, obj: T) -> R:
        kept = self._kept.get(id(obj))
        if kept is not None:
            return kept[1]
        if len(self._kept) >= self._limit:
            self._kept.clear()
        result = self._make(obj)
        self._kept[id(obj)] = (obj, result)
        return result
