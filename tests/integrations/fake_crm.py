"""A fake CRM API on port 0 that takes (or refuses) integration-module registrations and the
delivery statuses a module pushes, keeping what it was sent.

It runs in its own thread and event loop so that synchronous code — the CLI, which runs its
own `asyncio.run` — can call it unchanged.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_KEY = "crm-api-key-that-must-never-be-printed"


@dataclass
class Registration:
    code: str
    api_key: str
    module: dict[str, Any]


@dataclass
class StatusPush:
    subcode: str
    api_key: str
    updates: list[dict[str, Any]]  # `statusUpdate`, decoded
    answered: int  # the HTTP status the fake answered


@dataclass
class FakeCrm:
    url: str
    refuse_with: dict[str, Any] | None = None  # answer this (status 400) instead of accepting
    received: list[Registration] = field(default_factory=list)
    pushes: list[StatusPush] = field(default_factory=list)
    down: bool = False  # answer pushes 503, as a CRM being restarted does

    def taken(self) -> list[StatusPush]:
        """The pushes the CRM took."""
        return [p for p in list(self.pushes) if p.answered == 200]


def _app(crm: FakeCrm) -> web.Application:
    async def edit(request: web.Request) -> web.Response:
        form = await request.post()
        key = request.headers.get("X-API-KEY", "")
        crm.received.append(Registration(request.match_info["code"], key, json.loads(str(form["integrationModule"]))))
        if key != API_KEY:
            return web.json_response({"success": False, "errorMsg": 'Wrong "apiKey" value.'}, status=403)
        if crm.refuse_with is not None:
            return web.json_response({"success": False, **crm.refuse_with}, status=400)
        return web.json_response({"success": True, "info": {}})

    async def tracking(request: web.Request) -> web.Response:
        form = await request.post()
        key = request.headers.get("X-API-KEY", "")
        status = 403 if key != API_KEY else 503 if crm.down else 200
        updates = json.loads(str(form["statusUpdate"]))
        crm.pushes.append(StatusPush(request.match_info["subcode"], key, updates, status))
        if status == 403:
            return web.json_response({"success": False, "errorMsg": 'Wrong "apiKey" value.'}, status=status)
        if status == 503:
            return web.json_response({"success": False, "errorMsg": "Service unavailable"}, status=status)
        return web.json_response({"success": True})

    app = web.Application()
    app.router.add_post("/api/v5/integration-modules/{code}/edit", edit)
    app.router.add_post("/api/v5/delivery/generic/{subcode}/tracking", tracking)
    return app


@contextmanager
def running_fake_crm(refuse_with: dict[str, Any] | None = None) -> Iterator[FakeCrm]:
    crm = FakeCrm(url="", refuse_with=refuse_with)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(_app(crm))
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    host, port = runner.addresses[0][:2]
    crm.url = f"http://{host}:{port}"
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield crm
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.run_until_complete(runner.cleanup())
        loop.close()
