"""The carriers TOML: which carriers to ask, where, and with which credentials.

    [[carriers]]
    kind = "ratecard"
    path = "../carriers"                # a rate-card file or a directory of them; relative to this file

    [[carriers]]
    kind = "cdek"
    code = "cdek"
    base_url = "https://api.edu.cdek.ru"
    client_id_env = "CDEK_CLIENT_ID"    # the NAME of the environment variable, never the value
    client_secret_env = "CDEK_CLIENT_SECRET"
    timeout_s = 1.5
    tariffs = [136, 137, 368]           # optional: only these tariffs

    [[carriers]]
    kind = "courier"
    base_url = "https://courier.example/api/business/1.5"
    token_env = "COURIER_TOKEN"

An API entry with `sandbox = true` takes its URL and credentials from the running sandbox
emulators instead (`carrier-router serve --sandbox`). Every mistake is a `ConfigError` naming
the file and the field, e.g. `carriers[2].client_id_env`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from carriers.api import Secret
from carriers.cdek.carrier import DEFAULT_BASE_URL as CDEK_DEFAULT_BASE_URL
from router.core.errors import ConfigError

KINDS = ("ratecard", "cdek", "courier")
CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# Upper case only: a pasted credential (mixed case) is then refused without being echoed back.
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
MAX_TIMEOUT_S = 60.0

# Where a running sandbox publishes itself in `Settings.extra`.
SANDBOX_CDEK_URL = "sandbox.cdek.base_url"
SANDBOX_CDEK_CLIENT_ID = "sandbox.cdek.client_id"
SANDBOX_CDEK_CLIENT_SECRET = "sandbox.cdek.client_secret"
SANDBOX_COURIER_URL = "sandbox.courier.base_url"
SANDBOX_COURIER_TOKEN = "sandbox.courier.token"


@dataclass(frozen=True, slots=True)
class RatecardEntry:
    path: Path | None  # None: the bundled rate cards


@dataclass(frozen=True, slots=True)
class CdekEntry:
    code: str
    name: str
    base_url: str
    client_id: Secret
    client_secret: Secret
    timeout_s: float | None
    tariffs: frozenset[int] | None
    cutoff: time
    lang: str
    sandbox: bool


@dataclass(frozen=True, slots=True)
class CourierEntry:
    code: str
    name: str
    base_url: str
    token: Secret
    timeout_s: float | None
    service: str
    service_name: str
    matter: str
    vehicle_type_id: int | None
    cutoff: time
    sandbox: bool


Entry = RatecardEntry | CdekEntry | CourierEntry


@dataclass(frozen=True, slots=True)
class CarriersConfig:
    source: Path
    entries: tuple[Entry, ...]


def load_config(path: Path, env: Mapping[str, str], sandbox: Mapping[str, str] | None = None) -> CarriersConfig:
    """Read and check the whole file; raises ConfigError at the first wrong field."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(source, "$", f"cannot read: {exc.strerror or exc}") from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(source, "$", "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "$", f"not valid TOML: {exc}") from None
    return parse_config(document, path, env, sandbox)


def parse_config(
    document: Mapping[str, Any], path: Path, env: Mapping[str, str], sandbox: Mapping[str, str] | None = None
) -> CarriersConfig:
    source = str(path)
    unknown = set(document) - {"carriers"}
    if unknown:
        raise ConfigError(source, sorted(unknown)[0], "unknown top-level key; carriers go in [[carriers]] tables")
    items = document.get("carriers")
    if not isinstance(items, list) or not items:
        raise ConfigError(source, "carriers", "list at least one carrier in [[carriers]] tables")
    entries: list[Entry] = []
    codes: dict[str, str] = {}
    for index, item in enumerate(items):
        where = f"carriers[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(source, where, "must be a table")
        fields = _Fields(source, where, item)
        kind = fields.string("kind", required=True)
        if kind not in KINDS:
            raise ConfigError(source, f"{where}.kind", f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
        entry: Entry
        if kind == "ratecard":
            entry = _ratecard(fields, path.parent)
        elif kind == "cdek":
            entry = _cdek(fields, env, sandbox)
        else:
            entry = _courier(fields, env, sandbox)
        fields.no_leftovers()
        code = getattr(entry, "code", None)
        if code is not None:
            if code in codes:
                raise ConfigError(source, f"{where}.code", f"duplicate carrier code {code!r}, also {codes[code]}")
            codes[code] = where
        entries.append(entry)
    return CarriersConfig(path, tuple(entries))


def _ratecard(f: _Fields, base: Path) -> RatecardEntry:
    text = f.string("path")
    if text is None:
        return RatecardEntry(None)
    path = (base / text).resolve()
    if not path.exists():
        raise f.error("path", f"{path} does not exist")
    return RatecardEntry(path)


def _cdek(f: _Fields, env: Mapping[str, str], sandbox: Mapping[str, str] | None) -> CdekEntry:
    code = f.code(default="cdek")
    use_sandbox = f.boolean("sandbox", default=False)
    if use_sandbox:
        for key in ("base_url", "client_id_env", "client_secret_env"):
            if key in f.item:
                raise f.error(key, "not used with sandbox = true; the sandbox provides it")
        base_url = _from_sandbox(f, sandbox, SANDBOX_CDEK_URL)
        client_id = Secret(_from_sandbox(f, sandbox, SANDBOX_CDEK_CLIENT_ID))
        client_secret = Secret(_from_sandbox(f, sandbox, SANDBOX_CDEK_CLIENT_SECRET))
    else:
        base_url = f.url("base_url", default=CDEK_DEFAULT_BASE_URL)
        client_id = f.secret("client_id_env", env)
        client_secret = f.secret("client_secret_env", env)
    tariffs = f.int_list("tariffs")
    lang = f.string("lang") or "rus"
    if lang not in ("rus", "eng", "zho"):
        raise f.error("lang", "one of rus, eng, zho")
    return CdekEntry(
        code=code,
        name=f.string("name") or "CDEK",
        base_url=base_url,
        client_id=client_id,
        client_secret=client_secret,
        timeout_s=f.timeout(),
        tariffs=frozenset(tariffs) if tariffs is not None else None,
        cutoff=f.clock("cutoff", default=time(18, 0)),
        lang=lang,
        sandbox=use_sandbox,
    )


def _courier(f: _Fields, env: Mapping[str, str], sandbox: Mapping[str, str] | None) -> CourierEntry:
    code = f.code(default="courier")
    use_sandbox = f.boolean("sandbox", default=False)
    if use_sandbox:
        for key in ("base_url", "token_env"):
            if key in f.item:
                raise f.error(key, "not used with sandbox = true; the sandbox provides it")
        base_url = _from_sandbox(f, sandbox, SANDBOX_COURIER_URL)
        token = Secret(_from_sandbox(f, sandbox, SANDBOX_COURIER_TOKEN))
    else:
        base_url = f.url("base_url", default=None)
        token = f.secret("token_env", env)
    vehicle = f.integer("vehicle_type_id")
    return CourierEntry(
        code=code,
        name=f.string("name") or "City courier",
        base_url=base_url,
        token=token,
        timeout_s=f.timeout(),
        service=f.string("service") or "same_day",
        service_name=f.string("service_name") or "Same-day courier",
        matter=f.string("matter") or "Parcel",
        vehicle_type_id=vehicle,
        cutoff=f.clock("cutoff", default=time(20, 0)),
        sandbox=use_sandbox,
    )


def _from_sandbox(f: _Fields, sandbox: Mapping[str, str] | None, key: str) -> str:
    value = (sandbox or {}).get(key)
    if not value:
        raise f.error(
            "sandbox", "sandbox = true but no sandbox is running (start with `carrier-router serve --sandbox`)"
        )
    return value


class _Fields:
    """Typed reads from one [[carriers]] table; whatever is left unread is a typo."""

    def __init__(self, source: str, where: str, item: Mapping[str, Any]) -> None:
        self.source = source
        self.where = where
        self.item = item
        self._read: set[str] = set()

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.source, f"{self.where}.{key}", message)

    def _get(self, key: str) -> Any:
        self._read.add(key)
        return self.item.get(key)

    def no_leftovers(self) -> None:
        extra = sorted(set(self.item) - self._read)
        if extra:
            raise self.error(extra[0], "unknown key for this kind of carrier")

    def string(self, key: str, *, required: bool = False) -> str | None:
        value = self._get(key)
        if value is None:
            if required:
                raise self.error(key, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "must be a non-empty string")
        return value.strip()

    def code(self, default: str) -> str:
        value = self.string("code") or default
        if not CODE.match(value):
            raise self.error("code", "lower-case letters, digits, '-' or '_', at most 40")
        return value

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, "must be true or false")
        return value

    def integer(self, key: str) -> int | None:
        value = self._get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.error(key, "must be a non-negative whole number")
        return value

    def int_list(self, key: str) -> list[int] | None:
        value = self._get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not value:
            raise self.error(key, "must be a non-empty list of whole numbers")
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, int) or item <= 0:
                raise self.error(f"{key}[{i}]", "must be a positive whole number")
        return list(value)

    def url(self, key: str, *, default: str | None) -> str:
        value = self.string(key)
        if value is None:
            if default is None:
                raise self.error(key, "is required")
            return default
        if not re.match(r"^https?://[^/\s]+", value):
            raise self.error(key, "must be an http:// or https:// URL")
        return value

    def secret(self, key: str, env: Mapping[str, str]) -> Secret:
        name = self.string(key, required=True)
        assert name is not None
        if not ENV_NAME.match(name):
            raise self.error(
                key,
                "must be the NAME of an environment variable, like CDEK_CLIENT_ID; credentials never go in this file",
            )
        value = env.get(name)
        if not value:
            raise self.error(key, f"environment variable {name} is not set")
        return Secret(value)

    def timeout(self) -> float | None:
        value = self._get("timeout_s")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIMEOUT_S:
            raise self.error("timeout_s", f"must be a number of seconds above 0 and at most {MAX_TIMEOUT_S:g}")
        return float(value)

    def clock(self, key: str, *, default: time) -> time:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, time) and value.tzinfo is None:
            return value  # TOML local time: cutoff = 18:00:00
        if isinstance(value, str):
            match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
            if match:
                return time(int(match[1]), int(match[2]))
        raise self.error(key, 'must be a wall-clock time like "18:00"')
