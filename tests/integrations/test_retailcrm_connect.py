"""Connecting a CRM account: the registration payload in the CRM's types, sent to a fake CRM by the CLI."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import jsonschema
import pytest
from click.testing import CliRunner, Result

from router.cli.main import main
from router.core.settings import Settings
from router.http.app import create_app
from router.integrations.retailcrm.accounts import Account, AccountBook, new_client_id
from router.integrations.retailcrm.registration import PREFIX, integration_module
from router.records import open_records
from tests.integrations import published
from tests.integrations.fake_crm import API_KEY, running_fake_crm

PUBLIC_URL = "https://router.example.com"
T = TypeVar("T")


def in_records(state: Path, work: Callable[[AccountBook], Awaitable[T]]) -> T:
    """What `work` finds in the accounts a CLI run with this state directory keeps."""

    async def go() -> T:
        async with open_records(Settings(state_dir=state)) as records:
            return await work(AccountBook(records))

    return asyncio.run(go())


def an_account() -> tuple[Account, str]:
    client_id = new_client_id()
    digest = hashlib.sha256(client_id.encode()).hexdigest()
    return Account("crm_1", "https://shop.retailcrm.ru", "carrier-router", digest, datetime.now(UTC)), client_id


def connect(state: Path, *args: str) -> Result:
    return CliRunner().invoke(
        main,
        ["integrations", "retailcrm", "connect", "--public-url", PUBLIC_URL, *args],
        env={"CARRIER_ROUTER_STATE": str(state)},
    )


def test_the_registration_payload_has_the_crms_published_shape(tmp_path: Path) -> None:
    account, client_id = an_account()
    module = integration_module(account, client_id, PUBLIC_URL + "/", "Carrier Router")
    published.check(module, published.INTEGRATION_MODULE)
    delivery = module["integrations"]["delivery"]
    assert module["clientId"] == client_id and module["baseUrl"] == PUBLIC_URL + PREFIX
    assert set(delivery["actions"]) == {
        "calculate", "save", "get", "delete", "print", "shipmentSave", "shipmentDelete", "shipmentPointList",
        "tariffList",
    }  # fmt: skip
    assert {p["type"] for p in delivery["plateList"]} == {"order", "shipment"}
    assert {"booked", "failed", "cancelled"} <= {s["code"] for s in delivery["statusList"]}
    assert set(delivery["payerType"]) <= {"receiver", "sender"}
    assert "quoteId" in {f["code"] for f in delivery["deliveryDataFieldList"]}
    with pytest.raises(jsonschema.ValidationError):  # the schema is strict enough to catch a misspelt field
        published.check(
            {**module, "integrations": {"delivery": {**delivery, "payerTypes": []}}}, published.INTEGRATION_MODULE
        )


def test_the_registration_advertises_exactly_the_actions_the_service_serves(tmp_path: Path) -> None:
    account, client_id = an_account()
    module = integration_module(account, client_id, PUBLIC_URL, "x")
    actions = module["integrations"]["delivery"]["actions"]
    app = create_app(Settings(state_dir=tmp_path))  # routes are registered without starting anything
    served = {
        (r.method, r.resource.canonical)
        for r in app.router.routes()
        if r.resource and r.resource.canonical.startswith(PREFIX + "/")
    }
    advertised = set()
    for action, relative in actions.items():
        # The CRM calls {baseUrl}/{action path}.
        url = urlsplit(f"{module['baseUrl']}/{relative}")
        assert f"{url.scheme}://{url.netloc}" == PUBLIC_URL, action
        method = "GET" if action in ("get", "shipmentPointList") else "POST"
        assert (method, url.path) in served, action
        advertised.add(url.path)
    assert {path for _, path in served} == advertised  # nothing served that the CRM is not told of
    # Every action the CRM's delivery module publishes is performed here.
    assert {"print", "shipmentSave", "shipmentDelete"} <= set(actions)


def test_connect_registers_the_module_in_the_crm_with_a_client_id_that_then_works(tmp_path: Path) -> None:
    with running_fake_crm() as crm:
        result = connect(
            tmp_path,
            "--url",
            crm.url,
            "--api-key",
            API_KEY,
            "--carrier",
            "magistral",
            "--policy",
            "cheapest",
            "--origin",
            "Москва",
        )
    assert result.exit_code == 0, result.output
    (registration,) = crm.received
    assert registration.code == "carrier-router" and registration.api_key == API_KEY
    published.check(registration.module, published.INTEGRATION_MODULE)
    assert registration.module["baseUrl"] == PUBLIC_URL + PREFIX
    account = in_records(tmp_path, lambda book: book.authenticate(registration.module["clientId"]))
    assert account is not None
    assert (account.crm_url, account.carriers, account.policy_kind.value, account.origin) == (
        crm.url,
        {"magistral"},
        "cheapest",
        "Москва",
    )
    stored = b"".join(f.read_bytes() for f in tmp_path.glob("records.sqlite3*"))
    for secret in (API_KEY, registration.module["clientId"]):
        assert secret not in result.output and secret.encode() not in stored


def test_push_statuses_keeps_the_api_key_for_the_pushes_and_prints_it_nowhere(tmp_path: Path) -> None:
    with running_fake_crm() as crm:
        result = connect(tmp_path, "--url", crm.url, "--api-key", API_KEY, "--push-statuses")
    assert result.exit_code == 0, result.output
    (registration,) = crm.received
    account = in_records(tmp_path, lambda book: book.authenticate(registration.module["clientId"]))
    assert account is not None and account.api_key == API_KEY
    assert API_KEY not in result.output and API_KEY not in repr(account)


def test_a_crm_that_refuses_the_module_leaves_nothing_connected(tmp_path: Path) -> None:
    refusal = {"errorMsg": "Validation error", "errors": {"integrations.delivery.actions": "unknown action"}}
    with running_fake_crm(refuse_with=refusal) as crm:
        result = connect(tmp_path, "--url", crm.url, "--api-key", API_KEY)
    assert result.exit_code == 1
    assert "Validation error" in result.output and "unknown action" in result.output
    assert in_records(tmp_path, lambda book: book.accounts()) == []


def test_a_wrong_api_key_is_reported_without_echoing_it(tmp_path: Path) -> None:
    with running_fake_crm() as crm:
        result = connect(tmp_path, "--url", crm.url, "--api-key", "wrong-key-123")
    assert result.exit_code == 1 and "apiKey" in result.output and "wrong-key-123" not in result.output


def test_an_unreachable_crm_leaves_nothing_connected(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = connect(tmp_path, "--url", f"http://127.0.0.1:{port}", "--api-key", API_KEY)
    assert result.exit_code == 1 and "did not answer" in result.output
    assert in_records(tmp_path, lambda book: book.accounts()) == []


def test_no_send_prints_the_payload_to_register_by_hand(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "integrations",
            "retailcrm",
            "connect",
            "--url",
            "https://shop.retailcrm.ru",
            "--api-key",
            API_KEY,
            "--public-url",
            PUBLIC_URL,
            "--no-send",
        ],
        env={"CARRIER_ROUTER_STATE": str(tmp_path)},
    )
    assert result.exit_code == 0, result.output
    module = json.loads(result.stdout)
    published.check(module, published.INTEGRATION_MODULE)
    assert in_records(tmp_path, lambda book: book.authenticate(module["clientId"])) is not None


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--url", "shop.retailcrm.ru"], "--url"),
        (["--url", "https://shop.retailcrm.ru", "--carrier", "teleport"], "teleport"),
        (["--url", "https://shop.retailcrm.ru", "--code", "no spaces"], "--code"),
        (["--url", "https://shop.retailcrm.ru", "--parcel-size", "30x20"], "--parcel-size"),
    ],
)
def test_connect_refuses_bad_options_before_connecting_anything(
    tmp_path: Path, args: list[str], complaint: str
) -> None:
    result = connect(tmp_path, "--api-key", API_KEY, "--no-send", *args)
    assert result.exit_code == 2 and complaint in result.output
    assert in_records(tmp_path, lambda book: book.accounts()) == []


def test_list_and_disconnect(tmp_path: Path) -> None:
    account, _ = in_records(
        tmp_path, lambda book: book.create("https://shop.retailcrm.ru", "carrier-router", carriers=["vestnik"])
    )
    env = {"CARRIER_ROUTER_STATE": str(tmp_path), "COLUMNS": "200"}
    listed = CliRunner().invoke(main, ["integrations", "retailcrm", "list"], env=env)
    assert account.id in listed.output and "vestnik" in listed.output
    gone = CliRunner().invoke(main, ["integrations", "retailcrm", "disconnect", account.id], env=env)
    assert gone.exit_code == 0 and in_records(tmp_path, lambda book: book.accounts()) == []
    assert CliRunner().invoke(main, ["integrations", "retailcrm", "disconnect", account.id], env=env).exit_code == 1
