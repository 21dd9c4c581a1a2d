"""Running the service: one process, or several workers sharing a port and one Redis.

Workers bind the same port with SO_REUSEPORT, so the kernel spreads connections across them;
the parent only supervises — it restarts a worker that dies and passes SIGTERM on, and each
worker finishes its in-flight requests before it exits.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import ipaddress
import logging
import multiprocessing
import os
import secrets
import signal
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING

import aiohttp
import uvloop
from aiohttp import web

from carriers.config import SANDBOX_CDEK_URL
from router.core.errors import ConfigError, RouterError
from router.core.settings import Settings
from router.http import appkeys as keys
from router.http.logs import setup_logging
from router.records import open_records
from router.records.keys import KeyRing

if TYPE_CHECKING:
    from carriers.sandbox import SandboxServers

log = logging.getLogger("carrier_router.serve")
SHUTDOWN_GRACE_S = 15.0
KEEPALIVE_S = 75.0  # web.run_app's


class RefuseToStart(RouterError):
    """The settings would expose the service unsafely (no keys on a public interface, workers without Redis)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _without_keys(settings: Settings) -> bool:
    async def ask() -> bool:
        # Opening the records upgrades their schema here, once, before any worker starts.
        async with open_records(settings) as records:
            return await KeyRing(records).is_open()

    return asyncio.run(ask())


def preflight(settings: Settings, workers: int) -> str:
    """Why the service may not start as asked (raises), else a line saying how it runs."""
    is_open = _without_keys(settings)
    if is_open and not is_loopback(settings.host) and not settings.insecure:
        raise RefuseToStart(
            f"no API keys exist and {settings.host} is not a loopback address: anyone could call the API. "
            "Create a key with `carrier-router keys create`, bind 127.0.0.1, or pass --insecure."
        )
    if workers > 1 and not settings.redis_url:
        raise RefuseToStart("several workers must share one store: set REDIS_URL (or --redis-url)")
    if not settings.sandbox:
        from carriers.registry import load_carriers

        try:
            load_carriers(settings, None)
        except ConfigError as exc:
            raise RefuseToStart(str(exc)) from None
    access = "OPEN (no API keys; loopback only)" if is_open else "API keys required"
    store = f"Redis at {settings.redis_url}" if settings.redis_url else "memory (set REDIS_URL for Redis)"
    return (
        f"carrier-router on http://{settings.host}:{settings.port} — {access}; quotes kept in {store}; "
        f"{workers} worker{'s' if workers > 1 else ''}"
        + ("; carrier APIs routed to the sandbox" if settings.sandbox else "")
    )


def run(settings: Settings, workers: int = 1) -> None:
    if workers <= 1:
        _serve(settings, reuse_port=False)
        return
    _supervise(settings, workers)


def _serve(settings: Settings, reuse_port: bool) -> None:
    """`web.run_app`, through `router.http.server.AppRunner` (which `run_app` cannot be given)."""
    setup_logging()
    # libuv's loop does the socket and timer work in C: 20-30 % more cache hits a second here.
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    main = loop.create_task(_listen(settings, reuse_port))
    try:
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass  # SIGTERM or SIGINT: the runner's cleanup below finishes the requests in flight
    finally:
        if not main.done():
            main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(main)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def _listen(settings: Settings, reuse_port: bool) -> None:
    from router.http.server import AppRunner

    runner = AppRunner(
        await _make_app(settings),
        handle_signals=True,
        shutdown_timeout=SHUTDOWN_GRACE_S,
        keepalive_timeout=KEEPALIVE_S,
        access_log=None,
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.port, reuse_port=reuse_port).start()
        await asyncio.Event().wait()  # until a signal ends the loop's run
    finally:
        await runner.cleanup()


async def _freeze_heap(_: web.Application) -> None:
    # Places, pickup points and zone trees are a few hundred thousand objects that live as long
    # as the process; left to the collector, every full collection walks them all, a pause of
    # ~200 ms of CPU with the event loop stopped. Frozen, a full collection costs ~20 ms.
    gc.collect()
    gc.freeze()
    # A quote in flight holds a few thousand young objects (a quote from ten API carriers has
    # some forty offers); at the default 700 allocations a collection, every in-flight quote's
    # objects are walked and promoted several times over. Fewer, larger young collections free
    # the same garbage (reference counting frees nearly all of it anyway) for less CPU a quote.
    gc.set_threshold(20_000, 20, 20)


SANDBOX_POINTS_SYNC_S = 24 * 3600.0
SANDBOX_JOURNEY_SPEED = 3600.0  # simulated seconds a second
SANDBOX_POLL_S = 30.0
SANDBOX_CLOCK_READ_S = 1.0


async def _make_app(settings: Settings) -> web.Application:
    from router.http.app import create_app

    servers = None
    if settings.sandbox and SANDBOX_CDEK_URL not in settings.extra:
        servers = await _start_sandbox()
        settings = _route_to_sandbox(settings, servers)
    app = create_app(settings)
    app.on_startup.append(_freeze_heap)  # after the resources' contexts: they load the data
    if servers is not None:
        running = servers

        async def learn_on_the_sandboxs_calendar(app: web.Application) -> None:
            # Its parcels are delivered weeks ahead of the calendar within minutes: counted by
            # ours, their outcomes would fall in months still to come, out of the learned figures.
            if running.cdek_journeys is not None:
                app[keys.TRACK_RECORD].follow_clock(running.cdek_journeys.clock.now)

        async def stop_sandbox(_: web.Application) -> None:
            await running.close()

        app.on_startup.append(learn_on_the_sandboxs_calendar)
        app.on_cleanup.append(stop_sandbox)
    elif settings.sandbox:
        app.cleanup_ctx.append(_SandboxCalendar(str(settings.extra[SANDBOX_CDEK_URL])).followed)
    return app


class _SandboxCalendar:
    """The sandbox's clock for a worker whose emulators run in the supervisor: read from the
    emulator every second, run on at its speed in between, and followed by the track record as
    the one-process sandbox's is."""

    def __init__(self, cdek_url: str) -> None:
        self.url = cdek_url.rstrip("/") + "/_sandbox/clock"
        self._read = (datetime.now(UTC), 0.0, time.monotonic())  # its time, its speed, when read

    def now(self) -> datetime:
        at, speed, read = self._read
        return at + timedelta(seconds=speed * (time.monotonic() - read))

    async def _follow(self, http: aiohttp.ClientSession) -> None:
        while True:
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError, KeyError, TypeError, ValueError):
                async with http.get(self.url) as resp:
                    body = await resp.json()
                self._read = (datetime.fromisoformat(body["now"]), float(body["speed"]), time.monotonic())
            await asyncio.sleep(SANDBOX_CLOCK_READ_S)

    async def followed(self, app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SANDBOX_CLOCK_READ_S)) as http:
            task = asyncio.create_task(self._follow(http))
            app[keys.TRACK_RECORD].follow_clock(self.now)
            yield
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _start_sandbox() -> SandboxServers:
    from carriers.sandbox import start_sandbox
    from carriers.sandbox.cdek_journeys import SandboxJourneys
    from carriers.sandbox.cdek_orders import SandboxOrders

    orders = SandboxOrders()
    # Parcels travel an hour a second: a newcomer watches one delivered within a few minutes.
    servers = await start_sandbox(
        cdek_orders=orders, cdek_journeys=SandboxJourneys(orders, speed=SANDBOX_JOURNEY_SPEED)
    )
    # The emulators take free ports; without this line nobody could reach their fault controls.
    log.info(
        "sandbox emulators listening",
        extra={"cdek_url": servers.cdek_url, "courier_url": servers.courier_url, "pid": os.getpid()},
    )
    return servers


def _route_to_sandbox(settings: Settings, servers: SandboxServers) -> Settings:
    """The settings every worker serves the sandbox with: one set of emulators, one inbound token."""
    settings = servers.configure(settings)
    if not settings.points_sync_s:
        # The sandbox CDEK's offices and lockers are synced as the service starts, so that a
        # newcomer can book a pickup-point offer at once; and daily after that.
        settings = settings.with_(points_sync_s=SANDBOX_POINTS_SYNC_S)
    if not settings.public_url:
        # The emulator calls this service back with every status, as CDEK would a public URL.
        settings = settings.with_(
            public_url=f"http://127.0.0.1:{settings.port}",
            inbound_token=settings.inbound_token or secrets.token_urlsafe(24),
            tracking_poll_s=min(settings.tracking_poll_s, SANDBOX_POLL_S),
        )
    return settings


class _SandboxThread:
    """The emulators of a several-worker sandbox, in the supervisor on a loop of their own: each
    worker starting its own would know only the orders booked through it."""

    def __init__(self) -> None:
        self._ready: concurrent.futures.Future[SandboxServers] = concurrent.futures.Future()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="sandbox", daemon=True)

    def start(self) -> SandboxServers:
        self._thread.start()
        return self._ready.result(timeout=60)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            servers = self._loop.run_until_complete(_start_sandbox())
        except BaseException as exc:
            self._ready.set_exception(exc)
            return
        self._ready.set_result(servers)
        self._loop.run_forever()
        self._loop.run_until_complete(servers.close())

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)


def _supervise(settings: Settings, workers: int) -> None:
    setup_logging()
    ctx = multiprocessing.get_context("spawn")
    procs: dict[int, BaseProcess] = {}
    stopping = False
    sandbox = None
    if settings.sandbox and SANDBOX_CDEK_URL not in settings.extra:
        sandbox = _SandboxThread()
        settings = _route_to_sandbox(settings, sandbox.start())

    def start(slot: int) -> None:
        proc = ctx.Process(target=_serve, args=(settings, True), name=f"worker-{slot}", daemon=False)
        proc.start()
        procs[slot] = proc
        log.info("worker started", extra={"worker": slot, "pid": proc.pid})

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for proc in procs.values():
            if proc.is_alive() and proc.pid:
                os.kill(proc.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for slot in range(workers):
        start(slot)
    while not stopping:
        time.sleep(0.2)
        for slot, proc in list(procs.items()):
            if not proc.is_alive() and not stopping:
                log.warning("worker exited; restarting", extra={"worker": slot, "exitcode": proc.exitcode})
                start(slot)
    deadline = time.monotonic() + SHUTDOWN_GRACE_S + 5
    for proc in procs.values():
        proc.join(max(0.1, deadline - time.monotonic()))
    if sandbox is not None:
        sandbox.stop()
