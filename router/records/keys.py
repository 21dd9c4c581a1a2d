"""API keys: secret keys for servers, publishable keys for the browser widget.

Only a key's SHA-256 is kept (the tokens are 32 random bytes, so a slow hash adds nothing);
the token itself is shown once, when it is created. Creating and revoking are single
statements in the records database. Every request's key is looked up there unless nothing can
have changed since it was last read (`router.records.changes`: the SQLite log's commit count,
PostgreSQL's NOTIFY), so a key revoked from any process is refused by every worker on its next
request, and a request does not pay a database round trip for it.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from router.records.database import Database
from router.records.errors import RecordsError
from router.records.tables import api_keys


class KeyKind(enum.StrEnum):
    SECRET = "secret"
    PUBLISHABLE = "publishable"


PREFIX = {KeyKind.SECRET: "sk_", KeyKind.PUBLISHABLE: "pk_"}


class UnknownKey(RecordsError):
    """No key has this id."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    kind: KeyKind
    name: str
    hint: str  # the token's first characters, to tell keys apart in listings
    sha256: str
    origins: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None = None
    rate_per_minute: int | None = None  # None: the service default for the kind

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows_origin(self, origin: str | None) -> bool:
        return origin is not None and origin.rstrip("/") in self.origins

    def __repr__(self) -> str:  # never print the hash either
        return f"ApiKey({self.id}, {self.kind.value}, {self.name!r}, revoked={not self.active})"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def key_row(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "kind": key.kind.value,
        "name": key.name,
        "hint": key.hint,
        "sha256": key.sha256,
        "origins": list(key.origins),
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
        "rate_per_minute": key.rate_per_minute,
    }


def _key(row: sa.Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        kind=KeyKind(row.kind),
        name=row.name,
        hint=row.hint,
        sha256=row.sha256,
        origins=tuple(row.origins),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        rate_per_minute=row.rate_per_minute,
    )


# Keys held in memory at most: a bound, not a tuning (a shop has a handful).
_CACHED_KEYS = 10_000


class KeyRing:
    """The keys in the records database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._ever_keyed = False
        self._read_under: object = None  # the change token the cache below was read under
        self._by_digest: dict[str, ApiKey] = {}
        self._publishable: set[str] | None = None

    def _cacheable(self) -> bool:
        """Whether what was read before still holds; forgets it when it may not."""
        token = self.db.changes.token()
        if token is None or token != self._read_under:
            self._by_digest.clear()
            self._publishable = None
            self._read_under = token
        return token is not None

    async def keys(self) -> list[ApiKey]:
        async with self.db.read() as conn:
            rows = await conn.execute(sa.select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id))
            return [_key(r) for r in rows]

    async def is_open(self) -> bool:
        """No key was ever created: the service runs without authentication (the loopback demo).

        Revoked keys count: revoking the last key must lock the service, not open it. Keys are
        never deleted, so once one is seen the answer is kept without asking again.
        """
        if not self._ever_keyed:
            async with self.db.read() as conn:
                self._ever_keyed = (await conn.execute(sa.select(api_keys.c.id).limit(1))).first() is not None
        return not self._ever_keyed

    async def authenticate(self, token: str) -> ApiKey | None:
        wanted = digest(token)
        # Read before the look-up: a change committed meanwhile leaves a newer token behind it.
        cacheable = self._cacheable()
        if cacheable and (known := self._by_digest.get(wanted)) is not None:
            return known
        async with self.db.read() as conn:
            row = (await conn.execute(sa.select(api_keys).where(api_keys.c.sha256 == wanted))).first()
        # compare_digest keeps the look-up from leaking how much of a guessed hash matched.
        if row is None or not hmac.compare_digest(row.sha256, wanted) or row.revoked_at is not None:
            return None  # unknown tokens are never kept: anyone can send a million of them
        key = _key(row)
        if cacheable and len(self._by_digest) < _CACHED_KEYS:
            self._by_digest[wanted] = key
        return key

    async def allows_origin(self, origin: str) -> bool:
        """Some active publishable key may be used from `origin` (a browser's preflight)."""
        query = sa.select(api_keys.c.origins).where(
            api_keys.c.kind == KeyKind.PUBLISHABLE.value, api_keys.c.revoked_at.is_(None)
        )
        async with self.db.read() as conn:
            return any(origin.rstrip("/") in origins for origins in (await conn.execute(query)).scalars())

    async def publishable_ids(self) -> set[str]:
        """Every publishable key's id, revoked ones included: their quotes stay the shop's to read."""
        cacheable = self._cacheable()
        if cacheable and self._publishable is not None:
            return self._publishable
        query = sa.select(api_keys.c.id).where(api_keys.c.kind == KeyKind.PUBLISHABLE.value)
        async with self.db.read() as conn:
            found = set((await conn.execute(query)).scalars())
        if cacheable:
            self._publishable = found
        return found

    async def create(
        self, kind: KeyKind, name: str, origins: tuple[str, ...] = (), rate_per_minute: int | None = None
    ) -> tuple[ApiKey, str]:
        """A new key and its token; the token is not kept anywhere."""
        token = PREFIX[kind] + secrets.token_urlsafe(32)
        key = ApiKey(
            id="key_" + secrets.token_hex(8),
            kind=kind,
            name=name,
            hint=token[:7],
            sha256=digest(token),
            origins=tuple(o.rstrip("/") for o in origins),
            created_at=datetime.now(UTC),
            rate_per_minute=rate_per_minute,
        )
        async with self.db.write() as conn:
            await conn.execute(api_keys.insert().values(**key_row(key)))
            await self.db.changes.notify(conn)
        self._ever_keyed = True
        return key, token

    async def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key (revoking it again keeps the first moment)."""
        async with self.db.write() as conn:
            await conn.execute(
                api_keys.update()
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            await self.db.changes.notify(conn)
            row = (await conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id))).first()
        if row is None:
            raise UnknownKey(key_id)
        return _key(row)
