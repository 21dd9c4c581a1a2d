"""Tracking events as a shop or a partner's file tells them (`POST /v1/shipments/{id}/events`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from carriers.tracking import Status


class EventIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    status: Status
    at: Annotated[datetime, Meta(tz=True, description="When it happened, with its offset")]
    code: Annotated[str, Meta(max_length=64)] | None = None
    text: Annotated[str, Meta(max_length=500)] | None = None
    city: Annotated[str, Meta(max_length=200)] | None = None


class EventsRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    events: Annotated[list[EventIn], Meta(min_length=1, max_length=500)]
