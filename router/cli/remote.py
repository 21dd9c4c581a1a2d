"""`carrier-router quote --url`: the same shipment asked of a running service, which holds the price.

The shipment is posted as `POST /v1/quotes` JSON; the answer is decoded with the declared answer
type (router/core/answers.py) and printed as a local quote is, its header saying until when and by
whom the price is held. What goes wrong is one line: the fields a problem answer names, or why
the service could not be reached.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
import click
import msgspec
from rich.markup import escape

from router.cli.quote_table import ESTIMATE_MARK, Learned, Row, marks, print_quote_table
from router.core import answers

TIMEOUT_S = 60.0  # a quote waits on every carrier; the service's own carrier timeouts are shorter


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    reason: str
    content_type: str
    body: bytes


def endpoint(url: str) -> str:
    base = url.rstrip("/")
    return base if base.endswith("/v1/quotes") else base + "/v1/quotes"


def wire_moment(text: str) -> str:
    # The service judges the moment and its 422 names the field; only the form is made RFC 3339's
    # (seconds required), so that "10:00+03:00" means there what it means here.
    try:
        return datetime.fromisoformat(text).isoformat(timespec="seconds")
    except ValueError:
        return text


def ask(url: str, body: dict[str, Any], api_key: str | None) -> Answer:
    """Posts the quote request; an unreachable or silent service is a `click.ClickException`."""
    headers = {"Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"

    async def post() -> Answer:
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.post(endpoint(url), json=body, headers=headers) as resp:
                return Answer(resp.status, resp.reason or "", resp.content_type, await resp.read())

    try:
        return asyncio.run(post())
    except TimeoutError:
        raise click.ClickException(f"{url} gave no answer within {TIMEOUT_S:.0f} s") from None
    except aiohttp.InvalidURL:
        raise click.ClickException(f"--url {url!r} is not an http(s) URL") from None
    except aiohttp.ClientError as exc:
        raise click.ClickException(f"cannot reach {url}: {_one_line(str(exc) or type(exc).__name__)}") from None


def refusal(url: str, answer: Answer) -> str:
    """One line for an answer that is not a quote: the problem's title and the fields it names."""
    if answer.content_type in ("application/problem+json", "application/json"):
        try:
            problem = json.loads(answer.body)
        except ValueError:
            problem = None
        if isinstance(problem, dict):
            said = str(problem.get("title") or answer.reason)
            fields = [
                f"{e.get('path')}: {e.get('message')}" for e in problem.get("errors") or [] if isinstance(e, dict)
            ]
            if fields:
                said += " — " + "; ".join(fields)
            elif problem.get("detail"):
                said += " — " + str(problem["detail"])
            return _one_line(f"{url} refused the quote ({answer.status}): {said}")
    return f"{url} answered {answer.status} {answer.reason}, not a quote"


def decode(url: str, answer: Answer) -> answers.Quote:
    try:
        return msgspec.json.decode(answer.body, type=answers.Quote)
    except msgspec.DecodeError:
        raise click.ClickException(f"{url} answered {answer.status} with something that is not a quote") from None


def print_answer(url: str, q: answers.Quote) -> None:
    by_id = {o.id: o for o in q.offers}
    recommended = q.recommended.offer_id if q.recommended else None
    rows = [
        Row(
            marks=marks(o.id, recommended, q.cheapest, q.fastest) + (ESTIMATE_MARK if o.estimate else ""),
            carrier_name=o.carrier_name,
            service_name=o.service_name,
            delivery_type=o.delivery_type.value,
            total=o.price.total,
            min_days=o.eta.min_days,
            max_days=o.eta.max_days,
            min_date=o.eta.min_date,
            max_date=o.eta.max_date,
            learned=Learned(o.learned.p95_date, o.learned.on_time_rate, o.learned.sample_size, o.learned.badge)
            if o.learned
            else None,
        )
        for o in q.offers
    ]
    chosen = by_id.get(recommended) if recommended else None
    # The service refuses to hold a quote whose recommended (or only) offers are estimates.
    held_by = [chosen] if chosen else q.offers
    until = f"{q.expires_at.astimezone():%H:%M}"
    if held_by and all(o.estimate for o in held_by):
        held = f"not held: its {'recommended offer is' if chosen else 'offers are'} an estimate; quote {q.quote_id}"
    else:
        held = f"price held until {until} by {url}, quote {q.quote_id}"
    ship_date = min((o.eta.ship_date for o in q.offers), default=None)
    print_quote_table(
        f"[bold]{escape(f'{q.origin.city} → {q.destination.city}')}[/bold]  "
        + (f"ships {ship_date:%d %b}; " if ship_date else "")
        + escape(held),
        rows,
        with_history=any(o.learned for o in q.offers),
        recommended=recommended,
        reason=q.reason,
        breakdown=", ".join(f"{ln.label} {ln.amount}" for ln in chosen.price.breakdown) if chosen else None,
        notes=[f"[dim]left out: {escape(f'{r.carrier}/{r.service}: {r.reason}')}[/dim]" for r in q.rejections]
        + [f"[red]{escape(f'{e.carrier}: {e.kind}: {e.message}')}[/red]" for e in q.errors],
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())
