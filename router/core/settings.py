"""Service settings: one frozen value, built from the environment (and CLI flags on top)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from router.core import bundled


def default_state_dir() -> Path:
    # Keys and RetailCRM accounts: a checkout keeps them beside the code, as it always has; an
    # installed package must never write into site-packages, so it keeps them where it started.
    return (bundled.checkout() or Path.cwd()) / "var"


DEFAULT_DATA_DIR = bundled.data_dir()
DEFAULT_STATE_DIR = default_state_dir()


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = DEFAULT_DATA_DIR
    redis_url: str | None = None
    database_url: str | None = None  # PostgreSQL for records; None: a SQLite file in state_dir
    # Several services (or a staging and a production one) can share one Redis under their own prefixes.
    redis_prefix: str = "cr:"
    config_path: Path | None = None  # carriers TOML; None means the bundled rate cards only
    quote_ttl_s: int = 1800  # how long a quoted price is guaranteed
    cache_ttl_s: int = 300  # how long identical requests are answered from cache
    deadline_s: float = 2.0  # the whole fan-out
    carrier_timeout_s: float = 2.0  # each carrier, within the deadline
    max_body_bytes: int = 64 * 1024
    max_parcels: int = 50
    day_value: Decimal = Decimal("50")  # RUB per day of delivery for the balanced policy
    sandbox: bool = False
    state_dir: Path = DEFAULT_STATE_DIR  # keys and other state the service writes
    request_timeout_s: float = 10.0
    # How often each worker asks the records whether a network was imported or removed; 0: never.
    points_reload_s: float = 30.0
    # How often the CDEK carriers' networks are synced from their APIs; 0: never (`points sync` by hand).
    points_sync_s: float = 0.0
    rate_secret_per_min: int = 6000
    rate_publishable_per_min: int = 300
    insecure: bool = False  # serve open (no keys) on a public interface
    # How long a booking request waits for the carrier to decide before answering `booking`.
    booking_wait_s: float = 5.0
    # Whether this process claims background jobs (bookings to follow, labels to fetch); a
    # deployment may leave them to dedicated workers.
    run_jobs: bool = True
    # How often each open shipment of a carrier with an API is asked where it is; 0: never.
    tracking_poll_s: float = 900.0
    # Where carriers reach this service (CDEK's status webhooks); None: no inbound webhooks, polling only.
    public_url: str | None = None
    # The secret part of the inbound URLs: carriers sign nothing, so the URL itself must be unguessable.
    inbound_token: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def carriers_dir(self) -> Path:
        return self.data_dir / "carriers"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        s = cls()
        return cls(
            host=env.get("CARRIER_ROUTER_HOST", s.host),
            port=int(env.get("CARRIER_ROUTER_PORT", s.port)),
            data_dir=Path(env.get("CARRIER_ROUTER_DATA", s.data_dir)),
            redis_url=env.get("REDIS_URL") or None,
            database_url=env.get("DATABASE_URL") or None,
            redis_prefix=env.get("CARRIER_ROUTER_REDIS_PREFIX") or s.redis_prefix,
            config_path=Path(env["CARRIER_ROUTER_CONFIG"]) if env.get("CARRIER_ROUTER_CONFIG") else None,
            quote_ttl_s=int(env.get("CARRIER_ROUTER_QUOTE_TTL_S", s.quote_ttl_s)),
            cache_ttl_s=int(env.get("CARRIER_ROUTER_CACHE_TTL_S", s.cache_ttl_s)),
            deadline_s=float(env.get("CARRIER_ROUTER_DEADLINE_S", s.deadline_s)),
            carrier_timeout_s=float(env.get("CARRIER_ROUTER_CARRIER_TIMEOUT_S", s.carrier_timeout_s)),
            max_body_bytes=int(env.get("CARRIER_ROUTER_MAX_BODY_BYTES", s.max_body_bytes)),
            day_value=Decimal(env.get("CARRIER_ROUTER_DAY_VALUE", s.day_value)),
            state_dir=Path(env.get("CARRIER_ROUTER_STATE", s.state_dir)),
            request_timeout_s=float(env.get("CARRIER_ROUTER_REQUEST_TIMEOUT_S", s.request_timeout_s)),
            points_reload_s=float(env.get("CARRIER_ROUTER_POINTS_RELOAD_S", s.points_reload_s)),
            points_sync_s=float(env.get("CARRIER_ROUTER_POINTS_SYNC_S", s.points_sync_s)),
            booking_wait_s=float(env.get("CARRIER_ROUTER_BOOKING_WAIT_S", s.booking_wait_s)),
            run_jobs=env.get("CARRIER_ROUTER_JOBS", "1").strip().lower() not in ("0", "false", "no", "off"),
            tracking_poll_s=float(env.get("CARRIER_ROUTER_TRACKING_POLL_S", s.tracking_poll_s)),
            public_url=env.get("CARRIER_ROUTER_PUBLIC_URL") or None,
            inbound_token=env.get("CARRIER_ROUTER_INBOUND_TOKEN") or None,
            rate_secret_per_min=int(env.get("CARRIER_ROUTER_RATE_SECRET_PER_MIN", s.rate_secret_per_min)),
            rate_publishable_per_min=int(
                env.get("CARRIER_ROUTER_RATE_PUBLISHABLE_PER_MIN", s.rate_publishable_per_min)
            ),
        )
