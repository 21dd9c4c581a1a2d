"""Bringing in the files earlier releases kept records in, once.

Before the records database, API keys lived in `keys.json` and RetailCRM accounts in
`retailcrm_accounts.json`, both in the state directory. On start each file is read into its
table (rows already there are left alone) and renamed `*.imported`, so nothing is lost and
nothing is imported twice, however many workers start together.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from router.records.database import Database
from router.records.tables import api_keys, retailcrm_accounts

log = logging.getLogger("carrier_router.records")

KEYS_FILE = "keys.json"
ACCOUNTS_FILE = "retailcrm_accounts.json"


def _moment(raw: Any) -> datetime | None:
    return datetime.fromisoformat(str(raw)) if raw else None


def _key_row(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(raw["id"]),
        "kind": str(raw["kind"]),
        "name": str(raw["name"]),
        "hint": str(raw["hint"]),
        "sha256": str(raw["sha256"]),
        "origins": [str(o) for o in raw.get("origins") or ()],
        "created_at": _moment(raw["created_at"]),
        "revoked_at": _moment(raw.get("revoked_at")),
        "rate_per_minute": int(raw["rate_per_minute"]) if raw.get("rate_per_minute") else None,
    }


def _account_row(raw: dict[str, Any]) -> dict[str, Any]:
    day_value = raw.get("day_value")
    return {
        "id": str(raw["id"]),
        "crm_url": str(raw["crm_url"]),
        "module_code": str(raw["module_code"]),
        "client_id_sha256": str(raw["client_id_sha256"]),
        "created_at": _moment(raw["created_at"]),
        "carriers": sorted(str(c) for c in raw.get("carriers") or ()),
        "policy": str(raw.get("policy") or "balanced"),
        "day_value_kopecks": None if day_value is None else int(Decimal(str(day_value)) * 100),
        "origin": raw.get("origin") or None,
        "parcel_cm": [float(x) for x in raw.get("parcel_cm") or (30.0, 20.0, 10.0)],
        "active": bool(raw.get("active", True)),
    }


FILES: tuple[tuple[str, str, sa.Table, Any], ...] = (
    (KEYS_FILE, "keys", api_keys, _key_row),
    (ACCOUNTS_FILE, "accounts", retailcrm_accounts, _account_row),
)


async def import_legacy_files(db: Database, state_dir: Path) -> dict[str, int]:
    """Import each earlier release's file found in `state_dir`; how many rows each brought."""
    imported: dict[str, int] = {}
    for filename, section, table, to_row in FILES:
        path = state_dir / filename
        if not path.exists():
            continue
        rows = [to_row(raw) for raw in json.loads(path.read_text(encoding="utf-8")).get(section, [])]
        primary = next(iter(table.primary_key.columns))
        try:
            async with db.write() as conn:
                present = set((await conn.execute(sa.select(primary))).scalars())
                fresh = [row for row in rows if row[primary.name] not in present]
                if fresh:
                    await conn.execute(table.insert(), fresh)
        except sa.exc.IntegrityError:
            fresh = []  # another worker imported the same file a moment ago
        try:
            path.rename(path.with_name(path.name + ".imported"))
        except FileNotFoundError:
            pass
        imported[filename] = len(fresh)
        log.info("imported %d of %d %s from %s", len(fresh), len(rows), section, path)
    return imported
