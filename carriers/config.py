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
    polls_per_minute = 600              # optional: tracking polls of this account, at most, in any 60 s

    [[carriers]]
    kind = "courier"
    base_url = "https://courier.example/api/business/1.5"
    token_env = "COURIER_TOKEN"

An API entry with `sandbox = true` takes its URL and credentials from the running sandbox
emulators instead (`carrier-router serve --sandbox`). Every mistake is a `ConfigError` naming
the file and the field, e.g. `carriers[2].client_id_env`.

The file's shape is declared once as msgspec Structs (`ConfigFile`, one Struct per kind, told
apart by `kind`) and decoded through them (`carriers.decoding`); what a type cannot say (an
environment variable set, a path that exists, codes unique, sandbox or URL but not both) is
checked after decoding, and the entries the registry builds carriers from are made from them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from carriers.api import Secret
from carriers.cdek.carrier import DEFAULT_BASE_URL as CDEK_DEFAULT_BASE_URL
from carriers.decoding import decode
from router.core.errors import ConfigError

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# Upper case only: a pasted credential (mixed case) is then refused without being echoed back.
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
MAX_TIMEOUT_S = 60.0
# Tracking polls a carrier account is sent at most in any 60 s (router.tracking.poller), unless
# its table says otherwise: CDEK's and the courier's published limits are well above it.
DEFAULT_POLLS_PER_MINUTE = 600

# Where a running sandbox publishes itself in `Settings.extra`.
SANDBOX_CDEK_URL = "sandbox.cdek.base_url"
SANDBOX_CDEK_CLIENT_ID = "sandbox.cdek.client_id"
SANDBOX_CDEK_CLIENT_SECRET = "sandbox.cdek.client_secret"
SANDBOX_COURIER_URL = "sandbox.courier.base_url"
SANDBOX_COURIER_TOKEN = "sandbox.courier.token"

# --- the file, as declared

Code = Annotated[
    str, Meta(pattern=CODE.pattern, description="a carrier code: lower-case letters, digits, '-' or '_', at most 40")
]
Text = Annotated[str, Meta(pattern=r"\S", description="a non-empty string")]
Url = Annotated[str, Meta(pattern=r"^https?://[^/\s]+", description="an http:// or https:// URL")]
EnvName = Annotated[
    str,
    Meta(
        pattern=ENV_NAME.pattern,
        description="the NAME of an environment variable, like CDEK_CLIENT_ID; credentials never go in this file",
        extra={"secret": True},
    ),
]
Timeout = Annotated[
    float, Meta(gt=0, le=MAX_TIMEOUT_S, description=f"a number of seconds above 0 and at most {MAX_TIMEOUT_S:g}")
]
# TOML local times (cutoff = 18:00:00) arrive as text too: `_times_as_text` writes them out.
Clock = Annotated[
    str, Meta(pattern=r"^([01]?\d|2[0-3]):([0-5]\d)(:[0-5]\d)?$", description='a wall-clock time like "18:00"')
]
Tariff = Annotated[int, Meta(gt=0, description="a positive whole number")]
# Two at least: no pace keeps a single poll a minute to any 60 s however cut.
PerMinute = Annotated[int, Meta(ge=2, description="a whole number of polls a minute, 2 or more")]


class RatecardSpec(Struct, frozen=True, forbid_unknown_fields=True, tag_field="kind", tag="ratecard"):
    path: Text | UnsetType = UNSET  # unset: the bundled rate cards


class CdekSpec(Struct, frozen=True, forbid_unknown_fields=True, tag_field="kind", tag="cdek"):
    code: Code = "cdek"
    name: Text = "CDEK"
    name_ru: Text = "СДЭК"  # a buyer reads names in Russian or English: each carrier has both
    sandbox: bool = False
    base_url: Url | UnsetType = UNSET
    client_id_env: EnvName | UnsetType = UNSET
    client_secret_env: EnvName | UnsetType = UNSET
    timeout_s: Timeout | UnsetType = UNSET
    tariffs: Annotated[list[Tariff], Meta(min_length=1)] | UnsetType = UNSET  # unset: every tariff
    cutoff: Clock = "18:00"
    lang: Literal["rus", "eng", "zho"] = "rus"
    polls_per_minute: PerMinute = DEFAULT_POLLS_PER_MINUTE


class CourierSpec(Struct, frozen=True, forbid_unknown_fields=True, tag_field="kind", tag="courier"):
    code: Code = "courier"
    name: Text = "City courier"
    name_ru: Text = "Городской курьер"
    sandbox: bool = False
    base_url: Url | UnsetType = UNSET
    token_env: EnvName | UnsetType = UNSET
    timeout_s: Timeout | UnsetType = UNSET
    service: Text = "same_day"
    service_name: Text = "Same-day courier"
    service_name_ru: Text = "Курьер в тот же день"
    matter: Text = "Parcel"
    vehicle_type_id: Annotated[int, Meta(ge=0)] | UnsetType = UNSET
    cutoff: Clock = "20:00"
    polls_per_minute: PerMinute = DEFAULT_POLLS_PER_MINUTE


class ConfigFile(Struct, frozen=True, forbid_unknown_fields=True):
    carriers: Annotated[
        list[RatecardSpec | CdekSpec | CourierSpec],
        Meta(min_length=1, description="at least one carrier, each in a [[carriers]] table"),
    ]


# --- what the registry builds carriers from


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
    name_ru: str
    polls_per_minute: int = DEFAULT_POLLS_PER_MINUTE


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
    name_ru: str
    service_name_ru: str
    polls_per_minute: int = DEFAULT_POLLS_PER_MINUTE


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
    spec, problems = decode(_times_as_text(document), ConfigFile)
    if spec is None:
        raise ConfigError(source, problems[0].path, problems[0].message)
    entries: list[Entry] = []
    codes: dict[str, str] = {}
    for index, item in enumerate(spec.carriers):
        where = _Where(source, f"carriers[{index}]")
        entry: Entry
        if isinstance(item, RatecardSpec):
            entry = _ratecard(item, where, path.parent)
        elif isinstance(item, CdekSpec):
            entry = _cdek(item, where, env, sandbox)
        else:
            entry = _courier(item, where, env, sandbox)
        if not isinstance(entry, RatecardEntry):
            if entry.code in codes:
                raise where.error("code", f"duplicate carrier code {entry.code!r}, also {codes[entry.code]}")
            codes[entry.code] = where.path
        entries.append(entry)
    return CarriersConfig(path, tuple(entries))


def _times_as_text(document: Mapping[str, Any]) -> Any:
    items = document.get("carriers")
    if not isinstance(items, list):
        return document
    tables = [
        {k: v.isoformat() if isinstance(v, time) and v.tzinfo is None else v for k, v in item.items()}
        if isinstance(item, dict)
        else item
        for item in items
    ]
    return {**document, "carriers": tables}


@dataclass(frozen=True, slots=True)
class _Where:
    """One [[carriers]] table, for naming its fields in errors."""

    source: str
    path: str

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.source, f"{self.path}.{key}", message)


def _ratecard(spec: RatecardSpec, where: _Where, base: Path) -> RatecardEntry:
    if spec.path is UNSET:
        return RatecardEntry(None)
    path = (base / spec.path.strip()).resolve()
    if not path.exists():
        raise where.error("path", f"{path} does not exist")
    return RatecardEntry(path)


def _cdek(spec: CdekSpec, where: _Where, env: Mapping[str, str], sandbox: Mapping[str, str] | None) -> CdekEntry:
    if spec.sandbox:
        _nothing_the_sandbox_gives(where, base_url=spec.base_url, client_id_env=spec.client_id_env,
                                   client_secret_env=spec.client_secret_env)  # fmt: skip
        base_url = _from_sandbox(where, sandbox, SANDBOX_CDEK_URL)
        client_id = Secret(_from_sandbox(where, sandbox, SANDBOX_CDEK_CLIENT_ID))
        client_secret = Secret(_from_sandbox(where, sandbox, SANDBOX_CDEK_CLIENT_SECRET))
    else:
        base_url = CDEK_DEFAULT_BASE_URL if spec.base_url is UNSET else spec.base_url
        client_id = _secret(where, "client_id_env", spec.client_id_env, env)
        client_secret = _secret(where, "client_secret_env", spec.client_secret_env, env)
    return CdekEntry(
        code=spec.code,
        name=spec.name.strip(),
        base_url=base_url,
        client_id=client_id,
        client_secret=client_secret,
        timeout_s=None if spec.timeout_s is UNSET else spec.timeout_s,
        tariffs=None if spec.tariffs is UNSET else frozenset(spec.tariffs),
        cutoff=time.fromisoformat(_two_digit_hour(spec.cutoff)),
        lang=spec.lang,
        sandbox=spec.sandbox,
        name_ru=spec.name_ru.strip(),
        polls_per_minute=spec.polls_per_minute,
    )


def _courier(
    spec: CourierSpec, where: _Where, env: Mapping[str, str], sandbox: Mapping[str, str] | None
) -> CourierEntry:
    if spec.sandbox:
        _nothing_the_sandbox_gives(where, base_url=spec.base_url, token_env=spec.token_env)
        base_url = _from_sandbox(where, sandbox, SANDBOX_COURIER_URL)
        token = Secret(_from_sandbox(where, sandbox, SANDBOX_COURIER_TOKEN))
    else:
        if spec.base_url is UNSET:
            raise where.error("base_url", "is required")
        base_url = spec.base_url
        token = _secret(where, "token_env", spec.token_env, env)
    return CourierEntry(
        code=spec.code,
        name=spec.name.strip(),
        base_url=base_url,
        token=token,
        timeout_s=None if spec.timeout_s is UNSET else spec.timeout_s,
        service=spec.service.strip(),
        service_name=spec.service_name.strip(),
        matter=spec.matter.strip(),
        vehicle_type_id=None if spec.vehicle_type_id is UNSET else spec.vehicle_type_id,
        cutoff=time.fromisoformat(_two_digit_hour(spec.cutoff)),
        sandbox=spec.sandbox,
        name_ru=spec.name_ru.strip(),
        service_name_ru=spec.service_name_ru.strip(),
        polls_per_minute=spec.polls_per_minute,
    )


def _nothing_the_sandbox_gives(where: _Where, **given: object) -> None:
    for key, value in given.items():
        if value is not UNSET:
            raise where.error(key, "not used with sandbox = true; the sandbox provides it")


def _secret(where: _Where, key: str, name: str | UnsetType, env: Mapping[str, str]) -> Secret:
    if name is UNSET:
        raise where.error(key, "is required")
    value = env.get(name)
    if not value:
        raise where.error(key, f"environment variable {name} is not set")
    return Secret(value)


def _two_digit_hour(text: str) -> str:
    return text if text.index(":") == 2 else "0" + text


def _from_sandbox(where: _Where, sandbox: Mapping[str, str] | None, key: str) -> str:
    value = (sandbox or {}).get(key)
    if not value:
        raise where.error(
            "sandbox", "sandbox = true but no sandbox is running (start with `carrier-router serve --sandbox`)"
        )
    return value
