"""Sandbox emulators of the API carriers, on loopback, with faults on demand.

    servers = await start_sandbox()            # both emulators on 127.0.0.1, free ports
    settings = servers.configure(settings)     # sandbox URLs and credentials, sandbox.toml
    ...                                        # create_app(settings), quote, ...
    await servers.close()

`python -m carriers.sandbox` runs them on their own and prints where they listen.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace

from aiohttp import web

from carriers.config import (
    SANDBOX_CDEK_CLIENT_ID,
    SANDBOX_CDEK_CLIENT_SECRET,
    SANDBOX_CDEK_URL,
    SANDBOX_COURIER_TOKEN,
    SANDBOX_COURIER_URL,
)
from carriers.sandbox.cdek import TOKEN_TTL_S, create_cdek_app
from carriers.sandbox.cdek_journeys import JOURNEYS, SandboxJourneys
from carriers.sandbox.cdek_orders import SandboxOrders
from carriers.sandbox.cdek_plans import SandboxClock
from carriers.sandbox.courier import create_courier_app
from carriers.sandbox.faults import Faults, SandboxState
from carriers.sandbox.points import SandboxPoints
from router.core.settings import DEFAULT_DATA_DIR, Settings

SANDBOX_CONFIG = DEFAULT_DATA_DIR / "config" / "sandbox.toml"
SHUTDOWN_TIMEOUT_S = 1.0  # hanging handlers are released first; nothing else needs longer

__all__ = [
    "Faults",
    "SandboxClock",
    "SandboxJourneys",
    "SandboxOrders",
    "SandboxPoints",
    "SandboxServers",
    "SandboxState",
    "SANDBOX_CONFIG",
    "sandbox_ctx",
    "start_sandbox",
]


@dataclass
class SandboxServers:
    """Both emulators, running; `cdek` / `courier` are their fault and counter state, `cdek_points`
    the delivery points the CDEK emulator lists, `cdek_orders` what it was asked to book."""

    cdek_url: str
    courier_url: str
    cdek_client_id: str
    cdek_client_secret: str = field(repr=False)
    courier_token: str = field(repr=False)
    cdek: SandboxState = field(repr=False)
    courier: SandboxState = field(repr=False)
    _runners: list[web.AppRunner] = field(repr=False, default_factory=list)
    cdek_points: SandboxPoints = field(repr=False, default_factory=SandboxPoints)
    cdek_orders: SandboxOrders = field(repr=False, default_factory=SandboxOrders)
    cdek_journeys: SandboxJourneys | None = field(repr=False, default=None)

    def endpoints(self) -> dict[str, str]:
        """What `Settings.extra` needs for `sandbox = true` carriers to find the emulators."""
        return {
            SANDBOX_CDEK_URL: self.cdek_url,
            SANDBOX_CDEK_CLIENT_ID: self.cdek_client_id,
            SANDBOX_CDEK_CLIENT_SECRET: self.cdek_client_secret,
            SANDBOX_COURIER_URL: self.courier_url,
            SANDBOX_COURIER_TOKEN: self.courier_token,
        }

    def configure(self, settings: Settings) -> Settings:
        """`settings` routed to these emulators; the bundled sandbox.toml unless a config is given."""
        return settings.with_(
            sandbox=True,
            config_path=settings.config_path or SANDBOX_CONFIG,
            extra={**settings.extra, **self.endpoints()},
        )

    async def close(self) -> None:
        for state in (self.cdek, self.courier):
            state.release.set()
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()


async def _serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_host, bound_port = runner.addresses[0][:2]
    return runner, f"http://{bound_host}:{bound_port}"


async def start_sandbox(
    host: str = "127.0.0.1",
    *,
    cdek_port: int = 0,
    courier_port: int = 0,
    seed: int | None = None,
    token_ttl_s: float = TOKEN_TTL_S,
    faults: Faults | None = None,
    cdek_points: SandboxPoints | None = None,
    cdek_orders: SandboxOrders | None = None,
    cdek_journeys: SandboxJourneys | None = None,
) -> SandboxServers:
    """Start the CDEK-format and courier emulators; port 0 picks free ports.

    `cdek_points`: what the CDEK emulator lists (every demo point by default); `cdek_orders`:
    its book of orders (how soon it decides them, how long labels take); `cdek_journeys`: how its
    parcels travel (made on `cdek_orders` when given; else seeded from `seed`).
    """
    cdek_points = cdek_points or SandboxPoints()
    cdek_orders = cdek_orders or SandboxOrders()
    cdek_state, courier_state = SandboxState(seed), SandboxState(seed)
    if faults is not None:
        cdek_state.set_faults(faults)
        courier_state.set_faults(replace(faults))
    client_id = "sandbox-" + secrets.token_hex(4)
    client_secret = secrets.token_urlsafe(16)
    token = secrets.token_urlsafe(16)
    runners: list[web.AppRunner] = []
    try:
        cdek_app = create_cdek_app(
            client_id,
            client_secret,
            state=cdek_state,
            token_ttl_s=token_ttl_s,
            points=cdek_points,
            orders=cdek_orders,
            journeys=cdek_journeys,
        )
        runner, cdek_url = await _serve(cdek_app, host, cdek_port)
        runners.append(runner)
        runner, courier_url = await _serve(create_courier_app(token, state=courier_state), host, courier_port)
        runners.append(runner)
    except BaseException:
        for r in runners:
            await r.cleanup()
        raise
    return SandboxServers(
        cdek_url=cdek_url,
        courier_url=courier_url,
        cdek_client_id=client_id,
        cdek_client_secret=client_secret,
        courier_token=token,
        cdek=cdek_state,
        courier=courier_state,
        _runners=runners,
        cdek_points=cdek_points,
        cdek_orders=cdek_orders,
        cdek_journeys=cdek_app[JOURNEYS],
    )
