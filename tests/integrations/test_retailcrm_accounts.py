"""Connected accounts: clientIds recognised, never stored, never printed; changes seen at once."""

from __future__ import annotations

import stat
from decimal import Decimal
from pathlib import Path

from router.core.models import PolicyKind
from router.integrations.retailcrm.accounts import AccountBook


def test_a_client_id_finds_its_account_and_nothing_else_does(tmp_path: Path) -> None:
    book = AccountBook(tmp_path / "accounts.json")
    shop, shop_id = book.create("https://shop.retailcrm.ru/", "carrier-router", carriers=["magistral"])
    other, other_id = book.create("https://other.retailcrm.ru", "carrier-router")
    assert book.authenticate(shop_id) == shop and book.authenticate(other_id) == other
    assert shop_id != other_id
    assert book.authenticate(shop_id[:-1]) is None and book.authenticate("") is None
    assert shop.crm_url == "https://shop.retailcrm.ru"


def test_the_client_id_is_kept_nowhere_and_shown_in_no_repr(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    account, client_id = AccountBook(path).create("https://shop.retailcrm.ru", "carrier-router")
    assert client_id not in path.read_text()
    assert client_id not in repr(account) and account.client_id_sha256 not in repr(account)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_another_process_sees_an_account_connected_and_disconnected(tmp_path: Path) -> None:
    worker, cli = AccountBook(tmp_path / "accounts.json"), AccountBook(tmp_path / "accounts.json")
    account, client_id = cli.create(
        "https://shop.retailcrm.ru",
        "carrier-router",
        ["vestnik"],
        PolicyKind.CHEAPEST,
        Decimal("80"),
        "Казань",
        (40.0, 30.0, 20.0),
    )
    seen = worker.authenticate(client_id)
    assert seen == account
    assert seen.policy(Decimal("50")).kind is PolicyKind.CHEAPEST and seen.policy(Decimal("50")).day_value == Decimal(
        "80"
    )
    assert seen.policy(Decimal("50")).only == {"vestnik"} and seen.parcel_cm == (40.0, 30.0, 20.0)
    cli.remove(account.id)
    assert worker.authenticate(client_id) is None


def test_an_account_without_its_own_day_value_takes_the_services(tmp_path: Path) -> None:
    account, _ = AccountBook(tmp_path / "accounts.json").create("https://shop.retailcrm.ru", "carrier-router")
    assert account.policy(Decimal("50")).day_value == Decimal("50")
    assert account.allows("anything")
