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
        f"console.log(JSON.stringify(absentCarriers({json.dumps(quote)}, strings({json.dumps(lang)}))));"
    )
    done = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def offer(carrier: str) -> dict[str, Any]:
    return {"id": f"{carrier}:std", "carrier": carrier}


def test_every_carrier_without_an_offer_is_listed_with_its_reasons_or_its_silence() -> None:
    quote = {
        "offers": [offer("magistral")],
        "rejections": [
            {"carrier": "cdek", "service": "*", "reason": "answered with no offers"},
            {"carrier": "magistral", "service": "door", "reason": "service not offered in zone 3"},
            {"carrier": "shustry", "service": "sameday", "reason": "service not offered in zone"},
            {"carrier": "shustry", "service": "nextday", "reason": "service not offered in zone"},
        ],
        "errors": [{"carrier": "bystro", "kind": "timeout", "message": "no answer within 1.50 s"}],
    }
    assert absent(quote) == [
        {"carrier": "cdek", "reasons": ["answered with no offers"]},
        {"carrier": "shustry", "reasons": ["service not offered in zone"]},
        {"carrier": "bystro", "reasons": ["не ответила"]},
    ]


def test_nothing_is_listed_when_every_carrier_asked_offers_something() -> None:
    quote = {
        "offers": [offer("cdek")],
        "rejections": [{"carrier": "cdek", "service": "137", "reason": "x"}],
        "errors": [],
    }
    assert absent(quote, "en") == []
