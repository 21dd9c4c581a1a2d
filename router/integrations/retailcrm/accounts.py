"""Connected CRM accounts: who may call the callbacks, and with which carriers and policy.

Each account has its own `clientId`, the secret the CRM sends with every callback. Only its
SHA-256 is kept (it is 122 random bits, so a slow hash adds nothing); the clientId itself goes
to the CRM once, in the registration payload. Accounts are rows of the records database
(`retailcrm_accounts`): the CLI connects and disconnects them there, and every worker looks the
clientId up on each callback, so a disconnected account is refused at once everywhere.

Disconnecting keeps the row, marked inactive, and with it the deliveries the account saved:
they are records of what was sold. Only an account whose clientId never reached a CRM (its
registration failed) is deleted outright.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from router.core.errors import RouterError
from router.core.models import KOPECK, Policy, PolicyKind
from router.records import Database
from router.records.tables import retailcrm_accounts

DEFAULT_PARCEL_CM = (30.0, 20.0, 10.0)


class UnknownAccount(RouterError, LookupError):
    """No connected account has this id."""


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
    # The CRM's API key the account was connected with: statuses are pushed with it. None for
    # accounts connected before it was kept.
    api_key: str | None = field(default=None, repr=False)

    def allows(self, carrier: str) -> bool:
        return not self.carriers or carrier in self.carriers

    def policy(self, default_day_value: Decimal) -> Policy:
        return Policy(
            kind=self.policy_kind,
            day_value=default_day_value if self.day_value is None else self.day_value,
            only=self.carriers,
        )


def _row(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "crm_url": account.crm_url,
        "module_code": account.module_code,
        "client_id_sha256": account.client_id_sha256,
        "created_at": account.created_at,
        "carriers": sorted(account.carriers),
        "policy": account.policy_kind.value,
        "day_value_kopecks": None if account.day_value is None else int(account.day_value / KOPECK),
        "origin": account.origin,
        "parcel_cm": list(account.parcel_cm),
        "active": account.active,
        "api_key": account.api_key,
    }


def _account(row: sa.Row[Any]) -> Account:
    a, b, c = (float(x) for x in row.parcel_cm)
    return Account(
        id=row.id,
        crm_url=row.crm_url,
        module_code=row.module_code,
        client_id_sha256=row.client_id_sha256,
        created_at=row.created_at,
        carriers=frozenset(row.carriers),
        policy_kind=PolicyKind(row.policy),
        day_value=None if row.day_value_kopecks is None else Decimal(row.day_value_kopecks) * KOPECK,
        origin=row.origin,
        parcel_cm=(a, b, c),
        active=row.active,
        api_key=row.api_key,
    )


def kopecks_exact(day_value: Decimal) -> bool:
    """Whether a RUB amount is a whole number of kopecks, as the records keep money."""
    return day_value == day_value.quantize(KOPECK)


class AccountBook:
    """The accounts in the records database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def accounts(self) -> list[Account]:
        """The connected (active) accounts, oldest first."""
        query = (
            sa.select(retailcrm_accounts)
            .where(retailcrm_accounts.c.active)
            .order_by(retailcrm_accounts.c.created_at, retailcrm_accounts.c.id)
        )
        async with self.db.read() as conn:
            return [_account(r) for r in await conn.execute(query)]

    async def get(self, account_id: str) -> Account | None:
        async with self.db.read() as conn:
            row = (
                await conn.execute(sa.select(retailcrm_accounts).where(retailcrm_accounts.c.id == account_id))
            ).first()
        return None if row is None else _account(row)

    async def authenticate(self, client_id: str) -> Account | None:
        """The active account this clientId belongs to, or None."""
        digest = _digest(client_id)
        query = sa.select(retailcrm_accounts).where(retailcrm_accounts.c.client_id_sha256 == digest)
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        # compare_digest keeps the look-up from leaking how much of a guessed hash matched.
        if row is None or not hmac.compare_digest(row.client_id_sha256, digest) or not row.active:
            return None
        return _account(row)

    async def create(
        self,
        crm_url: str,
        module_code: str,
        carriers: Iterable[str] = (),
        policy_kind: PolicyKind = PolicyKind.BALANCED,
        day_value: Decimal | None = None,
        origin: str | None = None,
        parcel_cm: tuple[float, float, float] = DEFAULT_PARCEL_CM,
        api_key: str | None = None,
    ) -> tuple[Account, str]:
        """A new account and its clientId; the clientId is not kept anywhere."""
        if day_value is not None and not kopecks_exact(day_value):
            raise ValueError(f"day_value {day_value} RUB is not a whole number of kopecks")
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
            api_key=api_key,
        )
        async with self.db.write() as conn:
            await conn.execute(retailcrm_accounts.insert().values(**_row(account)))
        return account, client_id

    async def remove(self, account_id: str) -> Account:
        """Disconnect an account: its callbacks are refused from now on, its saved deliveries stay."""
        table = retailcrm_accounts
        async with self.db.write() as conn:
            changed = await conn.execute(
                table.update().where(table.c.id == account_id, table.c.active).values(active=False).returning(table)
            )
            row = changed.first()
        if row is None:
            raise UnknownAccount(account_id)
        return _account(row)

    async def forget(self, account_id: str) -> None:
        """Delete an account whose clientId no CRM ever received, so it can never be used."""
        async with self.db.write() as conn:
            await conn.execute(retailcrm_accounts.delete().where(retailcrm_accounts.c.id == account_id))
