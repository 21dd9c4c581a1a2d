"""The widget's list of carriers that offer nothing here, worked out by its own module under Node."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from tests.widget.conftest import ROOT

OFFERS_JS = ROOT / "widget" / "src" / "offers.js"
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")


def absent(quote: dict[str, Any], lang: str = "ru") -> Any:
    script = (
        f"import {{ absentCarriers }} from {json.dumps(OFFERS_JS.as_uri())};"
        f"import {{ strings }} from {json.dumps((OFFERS_JS.parent / 'i18n.js').as_uri())};"
        f"console.log(JSON.stringify(absentCarriers({json.dumps(quote)}, strings({json.dumps(lang)}), {json.dumps(lang)})));"
    )
    done = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def offer(carrier: str) -> dict[str, Any]:
    return {"id": f"{carrier}:std", "carrier": carrier}


def named(carrier: str, en: str, ru: str) -> dict[str, str]:
    return {"carrier": carrier, "carrier_name": en, "carrier_name_ru": ru}


def test_every_carrier_without_an_offer_is_listed_by_name_with_its_reasons_or_its_silence() -> None:
    quote = {
        "offers": [offer("magistral")],
        "rejections": [
            {**named("cdek", "CDEK", "СДЭК"), "service": "*", "code": "no_offers", "reason": "не предложила тарифов"},
            {**named("magistral", "Magistral", "Магистраль"), "service": "door", "reason": "в зоне 3 не оказывается"},
            {**named("shustry", "Shustry", "Шустрый"), "service": "sameday", "reason": "в зоне B не оказывается"},
            {**named("shustry", "Shustry", "Шустрый"), "service": "nextday", "reason": "в зоне B не оказывается"},
        ],
        "errors": [{**named("bystro", "Bystro", "Быстро"), "kind": "timeout", "message": "не ответила вовремя"}],
    }
    assert absent(quote) == [
        {"carrier": "cdek", "name": "СДЭК", "reasons": ["не предложила тарифов"]},
        {"carrier": "shustry", "name": "Шустрый", "reasons": ["в зоне B не оказывается"]},
        {"carrier": "bystro", "name": "Быстро", "reasons": ["не ответила"]},
    ]


def test_an_answer_without_names_is_listed_by_carrier_code() -> None:
    quote = {
        "offers": [],
        "rejections": [{"carrier": "cdek", "service": "*", "reason": "answered with no offers"}],
        "errors": [],
    }
    assert absent(quote, "en") == [{"carrier": "cdek", "name": "cdek", "reasons": ["answered with no offers"]}]


def test_nothing_is_listed_when_every_carrier_asked_offers_something() -> None:
    quote = {
        "offers": [offer("cdek")],
        "rejections": [{"carrier": "cdek", "service": "137", "reason": "x"}],
        "errors": [],
    }
    assert absent(quote, "en") == []
