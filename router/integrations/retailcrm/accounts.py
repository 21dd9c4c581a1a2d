"""Connected CRM accounts: who may call the callbacks, and with which carriers and policy.

Each account has its own `clientId`, the secret the CRM sends with every callback. Only its
SHA-256 is kept (it is 122 random bits, so a slow hash adds nothing); the clientId itself goes
to the CRM once, in the registration payload. Accounts live in one JSON file that the CLI
writes and every worker re-reads when it changes, so a disconnected account is refused at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from router.core.models import Policy, PolicyKind
from router.core.settings import Settings

DEFAULT_PARCEL_CM = (30.0, 20.0, 10.0)


def accounts_path(settings: Settings) -> Path:
    return settings.state_dir / "retailcrm_accounts.json"


def new_client_id() -> str:
    # UUID-shaped because the CRM's own delivery modules use UUIDs; the bits come from `secrets`.
    return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))


def _digest(client_id: str) -> str:
    return hashlib.sha256(client_id.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    crm_url: str
    module_code: str
    client_id_sha256: str = field(repr=False)
    created_at: datetime
    carriers: frozenset[str] = frozenset()  # empty: every carrier the service has
    policy_kind: PolicyKind = PolicyKind.BALANCED
    day_value: Decimal | None = None  # RUB per day sooner; None: the service's default
    origin: str | None = None  # the city parcels leave from when the CRM sends no shipment address
    parcel_cm: tuple[float, float, float] = DEFAULT_PARCEL_CM  # for packages sent without sizes
    active: bool = True

    def allows(self, carrier: str) -> bool:
        return not self.carriers or carrier in self.carriers

    def policy(self, default_day_value: Decimal) -> Policy:
        return Policy(
            kind=self.policy_kind,
            day_value=default_day_value if self.day_value is None else self.day_value,
            only=self.carriers,
        )


def _account_json(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "crm_url": account.crm_url,
        "module_code": account.module_code,
        "client_id_sha256": account.client_id_sha256,
        "created_at": account.created_at.isoformat(),
        "carriers": sorted(account.carriers),
        "policy": account.policy_kind.value,
        "day_value": None if account.day_value is None else str(account.day_value),
        "origin": account.origin,
        "parcel_cm": list(account.parcel_cm),
        "active": account.active,
    }


def _account_from_json(raw: dict[str, Any]) -> Account:
    a, b, c = (float(x) for x in raw.get("parcel_cm") or DEFAULT_PARCEL_CM)
    return Account(
        id=str(raw["id"]),
        crm_url=str(raw["crm_url"]),
        module_code=str(raw["module_code"]),
        client_id_sha256=str(raw["client_id_sha256"]),
        created_at=datetime.fromisoformat(str(raw["created_at"])),
        carriers=frozenset(str(c) for c in raw.get("carriers") or ()),
        policy_kind=PolicyKind(raw.get("policy", PolicyKind.BALANCED.value)),
        day_value=None if raw.get("day_value") is None else Decimal(str(raw["day_value"])),
        origin=raw.get("origin") or None,
        parcel_cm=(a, b, c),
        active=bool(raw.get("active", True)),
    )


class AccountBook:
    """The accounts file, re-read whenever it changes on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._accounts: list[Account] = []
        self._by_digest: dict[str, Account] = {}

    def _refresh(self) -> None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._accounts, self._by_digest = None, [], {}
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return
        raw = json.loads(self.path.read_text(encoding="utf-8"))
        self._accounts = [_account_from_json(a) for a in raw.get("accounts", [])]
        self._by_digest = {a.client_id_sha256: a for a in self._accounts}
        self._stamp = stamp

    def accounts(self) -> list[Account]:
        self._refresh()
        return list(self._accounts)

    def get(self, account_id: str) -> Account | None:
        return next((a for a in self.accounts() if a.id == account_id), None)

    def authenticate(self, client_id: str) -> Account | None:
        """The active account this clientId belongs to, or None."""
        self._refresh()
        digest = _digest(client_id)
        account = self._by_digest.get(digest)
        # compare_digest keeps the look-up from leaking how much of a guessed hash matched.
        if account is None or not hmac.compare_digest(account.client_id_sha256, digest) or not account.active:
            return None
        return account

    def create(
        self,
        crm_url: str,
        module_code: str,
        carriers: Iterable[str] = (),
        policy_kind: PolicyKind = PolicyKind.BALANCED,
        day_value: Decimal | None = None,
        origin: str | None = None,
        parcel_cm: tuple[float, float, float] = DEFAULT_PARCEL_CM,
    ) -> tuple[Account, str]:
        """A new account and its clientId; the clientId is not kept anywhere."""
        client_id = new_client_id()
        account = Account(
            id="crm_" + secrets.token_hex(6),
            crm_url=crm_url.rstrip("/"),
            module_code=module_code,
            client_id_sha256=_digest(client_id),
            created_at=datetime.now(UTC),
            carriers=frozenset(carriers),
            policy_kind=policy_kind,
            day_value=day_value,
            origin=origin,
            parcel_cm=parcel_cm,
        )
        self._write([*self.accounts(), account])
        return account, client_id

    def remove(self, account_id: str) -> Account:
        accounts = self.accounts()
        for account in accounts:
            if account.id == account_id:
                self._write([a for a in accounts if a.id != account_id])
                return account
        raise KeyError(account_id)

    def _write(self, accounts: list[Account]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Write-then-rename so a worker never reads half a file.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".retailcrm_accounts.")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"accounts": [_account_json(a) for a in accounts]}, f, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)
        self._stamp = None
