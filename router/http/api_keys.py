"""API keys: secret keys for servers, publishable keys for the browser widget.

Only a key's SHA-256 is kept (the tokens are 32 random bytes, so a slow hash adds nothing);
the token itself is shown once, when it is created. Keys live in one JSON file that the CLI
writes and every worker re-reads when it changes, so a revoked key is refused at once.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class KeyKind(enum.StrEnum):
    SECRET = "secret"
    PUBLISHABLE = "publishable"


PREFIX = {KeyKind.SECRET: "sk_", KeyKind.PUBLISHABLE: "pk_"}


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


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _key_json(key: ApiKey) -> dict[str, object]:
    return {
        "id": key.id,
        "kind": key.kind.value,
        "name": key.name,
        "hint": key.hint,
        "sha256": key.sha256,
        "origins": list(key.origins),
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
        "rate_per_minute": key.rate_per_minute,
    }


def _key_from_json(raw: dict[str, Any]) -> ApiKey:
    return ApiKey(
        id=str(raw["id"]),
        kind=KeyKind(raw["kind"]),
        name=str(raw["name"]),
        hint=str(raw["hint"]),
        sha256=str(raw["sha256"]),
        origins=tuple(str(o) for o in raw.get("origins") or ()),
        created_at=datetime.fromisoformat(str(raw["created_at"])),
        revoked_at=datetime.fromisoformat(str(raw["revoked_at"])) if raw.get("revoked_at") else None,
        rate_per_minute=int(raw["rate_per_minute"]) if raw.get("rate_per_minute") else None,
    )


class KeyRing:
    """The keys file, re-read whenever it changes on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._by_digest: dict[str, ApiKey] = {}
        self._keys: list[ApiKey] = []

    def _refresh(self) -> None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._keys, self._by_digest = None, [], {}
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return
        raw = json.loads(self.path.read_text(encoding="utf-8"))
        self._keys = [_key_from_json(k) for k in raw.get("keys", [])]
        self._by_digest = {k.sha256: k for k in self._keys}
        self._stamp = stamp

    def keys(self) -> list[ApiKey]:
        self._refresh()
        return list(self._keys)

    @property
    def open(self) -> bool:
        """No key was ever created: the service runs without authentication (the loopback demo).

        Revoked keys count: revoking the last key must lock the service, not open it.
        """
        return not self.keys()

    def authenticate(self, token: str) -> ApiKey | None:
        self._refresh()
        key = self._by_digest.get(_digest(token))
        # compare_digest keeps the look-up from leaking how much of a guessed hash matched.
        if key is None or not hmac.compare_digest(key.sha256, _digest(token)) or not key.active:
            return None
        return key

    def create(
        self, kind: KeyKind, name: str, origins: tuple[str, ...] = (), rate_per_minute: int | None = None
    ) -> tuple[ApiKey, str]:
        """A new key and its token; the token is not kept anywhere."""
        token = PREFIX[kind] + secrets.token_urlsafe(32)
        key = ApiKey(
            id="key_" + secrets.token_hex(6),
            kind=kind,
            name=name,
            hint=token[:7],
            sha256=_digest(token),
            origins=tuple(o.rstrip("/") for o in origins),
            created_at=datetime.now(UTC),
            rate_per_minute=rate_per_minute,
        )
        self._write([*self.keys(), key])
        return key, token

    def revoke(self, key_id: str) -> ApiKey:
        keys = self.keys()
        for i, key in enumerate(keys):
            if key.id == key_id:
                keys[i] = replace(key, revoked_at=key.revoked_at or datetime.now(UTC))
                self._write(keys)
                return keys[i]
        raise KeyError(key_id)

    def _write(self, keys: list[ApiKey]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Write-then-rename so a worker never reads half a file.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".keys.")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"keys": [_key_json(k) for k in keys]}, f, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)
        self._stamp = None
