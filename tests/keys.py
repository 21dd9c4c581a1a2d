"""Creating and revoking keys as `carrier-router keys` does: in the records of a state directory."""

from __future__ import annotations

from pathlib import Path

from router.core.settings import Settings
from router.records import open_records
from router.records.keys import ApiKey, KeyKind, KeyRing


async def create_key(
    state: Path, kind: KeyKind, name: str, origins: tuple[str, ...] = (), rate_per_minute: int | None = None
) -> tuple[ApiKey, str]:
    async with open_records(Settings(state_dir=state)) as records:
        return await KeyRing(records).create(kind, name, origins, rate_per_minute)


async def revoke_key(state: Path, key_id: str) -> ApiKey:
    async with open_records(Settings(state_dir=state)) as records:
        return await KeyRing(records).revoke(key_id)
