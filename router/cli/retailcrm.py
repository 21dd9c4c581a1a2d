"""`carrier-router integrations retailcrm …`: connect a CRM account, list and disconnect them."""

from __future__ import annotations

import re
import sys
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TypeVar
from urllib.parse import urlsplit

import aiohttp
import click
import orjson
from rich.console import Console
from rich.table import Table

from router.cli.records import with_records
from router.core.models import PolicyKind
from router.core.settings import Settings
from router.integrations.retailcrm.accounts import DEFAULT_PARCEL_CM, AccountBook, UnknownAccount, kopecks_exact
from router.integrations.retailcrm.crm import CrmError, register
from router.integrations.retailcrm.registration import PREFIX, integration_module

T = TypeVar("T")
_MODULE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _with_book(ctx: click.Context, work: Callable[[AccountBook], Awaitable[T]]) -> T:
    settings: Settings = ctx.find_root().obj
    return with_records(settings, lambda records: work(AccountBook(records)))


def _http_url(value: str, option: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"give a full URL such as https://shop.retailcrm.ru, not {value!r}", param_hint=option)
    return value.rstrip("/")


def _sides(value: str) -> tuple[float, float, float]:
    try:
        a, b, c = (float(x) for x in value.lower().replace("×", "x").split("x"))
    except ValueError:
        raise click.BadParameter("give LxWxH in cm, e.g. 30x20x10", param_hint="--parcel-size") from None
    if min(a, b, c) <= 0:
        raise click.BadParameter("every side must be above 0 cm", param_hint="--parcel-size")
    return a, b, c


@click.group()
def integrations() -> None:
    """Appear inside other systems as their delivery module."""


@integrations.group()
def retailcrm() -> None:
    """RetailCRM (Simla): quotes, pickup points and saved deliveries in the CRM's order screen."""


@retailcrm.command("connect")
@click.option("--url", "crm_url", required=True, help="The CRM account's URL, e.g. https://shop.retailcrm.ru.")
@click.option(
    "--api-key",
    required=True,
    envvar="RETAILCRM_API_KEY",
    help="A CRM API key allowed to edit integration modules (also RETAILCRM_API_KEY).",
)
@click.option(
    "--public-url",
    required=True,
    envvar="CARRIER_ROUTER_PUBLIC_URL",
    help="Where the CRM reaches this service (also CARRIER_ROUTER_PUBLIC_URL).",
)
@click.option(
    "--code", "module_code", default="carrier-router", show_default=True, help="The module's code in the CRM."
)
@click.option("--name", default="Carrier Router", show_default=True, help="The module's name in the CRM.")
@click.option("--carrier", "carriers", multiple=True, help="A carrier this account may use, repeatable (default: all).")
@click.option(
    "--policy",
    type=click.Choice([k.value for k in PolicyKind if k is not PolicyKind.DEADLINE]),
    default="balanced",
    show_default=True,
)
@click.option(
    "--day-value", type=Decimal, default=None, help="RUB a buyer would pay for one day sooner (default: the service's)."
)
@click.option("--origin", default=None, help="City parcels leave from when the CRM sends no shipment address.")
@click.option(
    "--parcel-size",
    default="x".join(f"{s:g}" for s in DEFAULT_PARCEL_CM),
    show_default=True,
    help="LxWxH cm for packages the CRM sends without sizes.",
)
@click.option(
    "--push-statuses/--no-push-statuses",
    default=False,
    show_default=True,
    help="Keep the API key in the records so the parcels' statuses are pushed to the CRM"
    " (otherwise the key is used once and kept nowhere).",
)
@click.option(
    "--send/--no-send",
    default=True,
    show_default=True,
    help="Register the module in the CRM now, or print the payload to send by hand.",
)
@click.pass_context
def connect(
    ctx: click.Context,
    crm_url: str,
    api_key: str,
    public_url: str,
    module_code: str,
    name: str,
    carriers: tuple[str, ...],
    policy: str,
    day_value: Decimal | None,
    origin: str | None,
    parcel_size: str,
    push_statuses: bool,
    send: bool,
) -> None:
    """Connect a CRM account: a new clientId, its carriers and policy, and the module registered in the CRM."""
    from carriers.registry import load_carriers

    crm_url = _http_url(crm_url, "--url")
    public_url = _http_url(public_url, "--public-url")
    if not _MODULE_CODE.match(module_code):
        raise click.BadParameter("letters, digits, '-' and '_' only", param_hint="--code")
    settings: Settings = ctx.find_root().obj
    known = {c.code for c in load_carriers(settings, None)}
    unknown = sorted(set(carriers) - known)
    if unknown:
        raise click.BadParameter(
            f"unknown carrier {', '.join(unknown)}; known: {', '.join(sorted(known))}", param_hint="--carrier"
        )
    if day_value is not None and not (day_value >= 0 and kopecks_exact(day_value)):
        raise click.BadParameter("must be 0 or more, in whole kopecks", param_hint="--day-value")
    sides = _sides(parcel_size)

    async def connect_account(book: AccountBook) -> tuple[str, dict[str, object]]:
        account, client_id = await book.create(
            crm_url,
            module_code,
            carriers,
            PolicyKind(policy),
            day_value,
            origin,
            sides,
            api_key=api_key if push_statuses else None,
        )
        module = integration_module(account, client_id, public_url, name)
        if send:
            try:
                await _register(crm_url, api_key, module)
            except BaseException:
                await book.forget(account.id)  # a clientId the CRM never received must not stay valid
                raise
        return account.id, module

    try:
        account_id, module = _with_book(ctx, connect_account)
    except CrmError as exc:
        raise click.ClickException(
            f"{exc}; nothing was connected (--no-send prints the payload to send by hand)"
        ) from None
    if not send:
        sys.stdout.buffer.write(orjson.dumps(module, option=orjson.OPT_INDENT_2) + b"\n")
        click.echo(
            f"{account_id}: connected locally. POST this as the form field integrationModule to "
            f"{crm_url}/api/v5/integration-modules/{module_code}/edit with your X-API-KEY; "
            "it holds the account's clientId, shown only here.",
            err=True,
        )
        return
    click.echo(f"{account_id}: {crm_url} now calls {public_url}{PREFIX}/… as module {module_code}")


async def _register(crm_url: str, api_key: str, module: dict[str, object]) -> None:
    async with aiohttp.ClientSession() as http:
        await register(http, crm_url, api_key, module)


@retailcrm.command("list")
@click.pass_context
def list_accounts(ctx: click.Context) -> None:
    """Connected CRM accounts (never their clientIds)."""
    table = Table()
    for col in ("id", "crm", "module", "carriers", "policy", "origin", "connected"):
        table.add_column(col)
    for a in _with_book(ctx, lambda book: book.accounts()):
        table.add_row(
            a.id,
            a.crm_url,
            a.module_code,
            ", ".join(sorted(a.carriers)) or "all",
            a.policy_kind.value,
            a.origin or "",
            f"{a.created_at:%Y-%m-%d %H:%M}",
        )
    Console().print(table)


@retailcrm.command("disconnect")
@click.argument("account_id")
@click.pass_context
def disconnect(ctx: click.Context, account_id: str) -> None:
    """Disconnect an account; its callbacks are refused from the next request on, its saved deliveries kept."""
    try:
        account = _with_book(ctx, lambda book: book.remove(account_id))
    except UnknownAccount:
        raise click.ClickException(f"no account {account_id}") from None
    click.echo(f"disconnected {account.id} ({account.crm_url}); turn the module off in the CRM as well")
