"""A declared answer as the JSON response every handler gives."""

from __future__ import annotations

import msgspec
from aiohttp import web

from router.core.codec import encode


def json_answer(answer: msgspec.Struct, status: int = 200) -> web.Response:
    return web.Response(status=status, body=encode(answer), content_type="application/json")
