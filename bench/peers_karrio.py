"""karrio's side of `bench/peers.py`: the ten CDEK-format emulators quoted through karrio's SDK.

karrio has no CDEK connector, so this file holds a small one written the way karrio's own are
(`modules/connectors/<carrier>/karrio/{schemas,providers,mappers}/<carrier>/` in karrio's
repository, here in one file's sections): attrs/jstruct schema types for the wire format, a
provider that builds the request and parses the answer into `RateDetails` and `Message`s, a
`Proxy` that does the HTTP through `karrio.lib.request` with the OAuth token in the connection
cache's thread-safe token manager (as the UPS connector does), a `Mapper` and a `Settings`.
Each quote asks all ten carriers with `karrio.Rating.fetch(...).from_(*gateways)`, one gateway a
carrier, which calls them concurrently in threads.

It runs under the venv `bench/peers.py` makes for it (karrio and the standard library only,
never the project's venv) and is started by that script, which writes its two inputs:

    bench/.peers-venv/bin/python bench/peers_karrio.py ENDPOINTS.json BODIES.jsonl --one 100 --seconds 10

ENDPOINTS.json is `[{"url", "client_id", "client_secret"}, ...]`; BODIES.jsonl holds `POST
/v1/quotes` bodies (the service's request format), used in turn. It prints one JSON object: the
karrio version and, for each phase, the quotes, seconds, CPU seconds of this whole process (all
its threads, `time.process_time`) and latencies. The clients are threads of this process, so
their loop's CPU counts as karrio's; it is a call and a list append a quote.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import math
import statistics
import threading
import time
import typing

import attr
import karrio.sdk as karrio
from jstruct import JList, JStruct
from karrio import core, lib
from karrio.api import gateway, hooks, mapper, proxy
from karrio.core import errors, models

CARRIER_NAME = "cdek_emulator"
# The per-carrier deadline the service gets in the same bench; karrio's connectors set none, but
# this run must end by itself if an emulator stops answering.
TIMEOUT_S = 1
CALCULATOR_TYPE_ESHOP = 1
CURRENCY_RUB = 1


# ---------------------------------------------------------------- schemas (as karrio generates them)


@attr.s(auto_attribs=True)
class LocationType:
    code: int | None = None
    postal_code: str | None = None
    country_code: str | None = None
    city: str | None = None
    address: str | None = None


@attr.s(auto_attribs=True)
class PackageType:
    weight: int | None = None
    length: int | None = None
    width: int | None = None
    height: int | None = None


@attr.s(auto_attribs=True)
class TarifflistRequestType:
    type: int | None = None
    currency: int | None = None
    lang: str | None = None
    from_location: LocationType | None = JStruct[LocationType]
    to_location: LocationType | None = JStruct[LocationType]
    packages: list[PackageType] = JList[PackageType]


@attr.s(auto_attribs=True)
class TariffCodeType:
    tariff_code: int | None = None
    tariff_name: str | None = None
    tariff_description: str | None = None
    delivery_mode: int | None = None
    delivery_sum: float | None = None
    period_min: int | None = None
    period_max: int | None = None
    calendar_min: int | None = None
    calendar_max: int | None = None


@attr.s(auto_attribs=True)
class ErrorType:
    code: str | None = None
    message: str | None = None


@attr.s(auto_attribs=True)
class TarifflistResponseType:
    tariff_codes: list[TariffCodeType] = JList[TariffCodeType]
    errors: list[ErrorType] = JList[ErrorType]


# ---------------------------------------------------------------- settings


@attr.s(auto_attribs=True)
class Settings(core.Settings):
    """One CDEK-format account: an emulator's base URL and its client credentials."""

    base_url: str = ""
    client_id: str = ""
    client_secret: str = ""

    @property
    def carrier_name(self) -> str:
        return CARRIER_NAME

    @property
    def server_url(self) -> str:
        return self.base_url


# ---------------------------------------------------------------- provider: request and answer


def parse_error_response(response: dict, settings: Settings) -> list[models.Message]:
    return [
        models.Message(
            carrier_id=settings.carrier_id,
            carrier_name=settings.carrier_name,
            code=error.get("code"),
            message=error.get("message"),
        )
        for error in response.get("errors") or []
    ]


def parse_rate_response(
    _response: lib.Deserializable[dict], settings: Settings
) -> tuple[list[models.RateDetails], list[models.Message]]:
    response = _response.deserialize()
    messages = parse_error_response(response, settings)
    answer = lib.to_object(TarifflistResponseType, response)
    rates = [_extract_details(tariff, settings) for tariff in answer.tariff_codes]
    return rates, messages


def _extract_details(tariff: TariffCodeType, settings: Settings) -> models.RateDetails:
    return models.RateDetails(
        carrier_id=settings.carrier_id,
        carrier_name=settings.carrier_name,
        service=f"cdek_tariff_{tariff.tariff_code}",
        total_charge=lib.to_money(tariff.delivery_sum),
        currency="RUB",
        transit_days=lib.to_int(tariff.period_max),
        meta={
            "service_name": tariff.tariff_name,
            "delivery_mode": tariff.delivery_mode,
            "period_min": tariff.period_min,
        },
    )


def _location(address: typing.Any) -> LocationType:
    return LocationType(
        postal_code=address.postal_code,
        country_code=address.country_code,
        city=address.city,
        address=address.address_line or None,
    )


def rate_request(payload: models.RateRequest, settings: Settings) -> lib.Serializable:
    shipper = lib.to_address(payload.shipper)
    recipient = lib.to_address(payload.recipient)
    packages = lib.to_packages(payload.parcels)
    request = TarifflistRequestType(
        type=CALCULATOR_TYPE_ESHOP,
        currency=CURRENCY_RUB,
        lang="rus",
        from_location=_location(shipper),
        to_location=_location(recipient),
        # CDEK's calculator takes whole grams and centimetres.
        packages=[
            PackageType(
                weight=max(1, round(package.weight.KG * 1000)),
                length=math.ceil(package.length.CM or 0) or None,
                width=math.ceil(package.width.CM or 0) or None,
                height=math.ceil(package.height.CM or 0) or None,
            )
            for package in packages
        ],
    )
    return lib.Serializable(request, lib.to_dict)


# ---------------------------------------------------------------- proxy and mapper


class Proxy(proxy.Proxy):
    settings: Settings

    def get_token(self) -> str:
        cache_key = f"{self.settings.carrier_name}|{self.settings.client_id}|{self.settings.client_secret}"

        def fetch_token() -> dict:
            response = lib.request(
                url=f"{self.settings.server_url}/v2/oauth/token",
                trace=self.trace_as("json"),
                method="POST",
                headers={"content-Type": "application/x-www-form-urlencoded"},
                data=lib.to_query_string(
                    {
                        "grant_type": "client_credentials",
                        "client_id": self.settings.client_id,
                        "client_secret": self.settings.client_secret,
                    }
                ),
                decoder=lib.to_dict,
                on_error=lib.error_decoder,
                timeout=TIMEOUT_S,
            )
            if "access_token" not in response:
                raise errors.ShippingSDKError(f"token refused: {response}")
            expiry = datetime.datetime.now() + datetime.timedelta(seconds=float(response.get("expires_in", 0)))
            return {**response, "expiry": lib.fdatetime(expiry)}

        # A token lives an hour at CDEK (and in the emulators); refreshed when under 30 minutes are left.
        return self.settings.connection_cache.thread_safe(
            refresh_func=fetch_token, cache_key=cache_key, buffer_minutes=30
        ).get_state()

    def get_rates(self, request: lib.Serializable) -> lib.Deserializable:
        response = lib.request(
            url=f"{self.settings.server_url}/v2/calculator/tarifflist",
            trace=self.trace_as("json"),
            method="POST",
            headers={"authorization": f"Bearer {self.get_token()}", "content-Type": "application/json"},
            data=lib.to_json(request.serialize()),
            on_error=lib.error_decoder,
            timeout=TIMEOUT_S,
        )
        return lib.Deserializable(response, lib.to_dict)


class Mapper(mapper.Mapper):
    settings: Settings

    def create_rate_request(self, payload: models.RateRequest) -> lib.Serializable:
        return rate_request(payload, self.settings)

    def parse_rate_response(
        self, response: lib.Deserializable[str]
    ) -> tuple[list[models.RateDetails], list[models.Message]]:
        return parse_rate_response(response, self.settings)


def create_gateway(settings: Settings, tracer: lib.Tracer, cache: lib.Cache) -> gateway.Gateway:
    """A gateway wired as `karrio.gateway[name].create(...)` wires an installed plugin's: this
    connector is one file, not an installed plugin package, so it is not in karrio's registry."""
    settings.cache, settings.tracer, settings.system_config = cache, tracer, lib.SystemConfig()
    return gateway.Gateway(
        is_hub=False,
        proxy=Proxy(settings),
        mapper=Mapper(settings),
        tracer=tracer,
        settings=settings,
        hooks=hooks.Hooks(settings),
    )


# ---------------------------------------------------------------- the driver


def rate_payload(body: dict) -> dict:
    """A `POST /v1/quotes` body as karrio's `RateRequest`."""

    def address(end: dict) -> dict:
        return {
            "city": end.get("city"),
            "postal_code": end.get("postal_code"),
            "country_code": end.get("country", "RU"),
        }

    return {
        "shipper": address(body["origin"]),
        "recipient": address(body["destination"]),
        "parcels": [
            {
                "weight": p["weight_g"] / 1000,
                "weight_unit": "KG",
                "length": p["length_cm"],
                "width": p["width_cm"],
                "height": p["height_cm"],
                "dimension_unit": "CM",
            }
            for p in body["parcels"]
        ],
        "options": {"declared_value": float(body.get("declared_value") or 0)},
    }


class Quoter:
    """Per quote a tracer of its own (a karrio `Tracer` keeps every request and answer it sees) and
    a gateway a carrier made from its settings; the connection cache, where tokens live, shared."""

    def __init__(self, endpoints: list[dict], payloads: list[dict]) -> None:
        self.settings = [
            {
                "carrier_id": f"cdek{i}",
                "base_url": e["url"],
                "client_id": e["client_id"],
                "client_secret": e["client_secret"],
            }
            for i, e in enumerate(endpoints, start=1)
        ]
        self.payloads = payloads
        self.cache = lib.Cache()
        self._next = 0
        self._lock = threading.Lock()

    def quote(self) -> tuple[int, int]:
        """One quote from every carrier: (rates, carriers that gave rates)."""
        with self._lock:
            payload = self.payloads[self._next % len(self.payloads)]
            self._next += 1
        tracer = lib.Tracer()
        gateways = [create_gateway(Settings(**s), tracer, self.cache) for s in self.settings]
        rates, _messages = karrio.Rating.fetch(payload).from_(*gateways).parse()
        return len(rates), len({rate.carrier_id for rate in rates})


def phase(quoter: Quoter, clients: int, *, quotes: int | None = None, seconds: float | None = None) -> dict:
    """Closed-loop client threads until `quotes` are done or `seconds` have passed."""
    latencies: list[float] = []
    outcomes = {"rates": 0, "short": 0}  # short: a quote without rates from every carrier
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds if seconds is not None else math.inf

    def done() -> bool:
        return time.monotonic() >= stop_at or (quotes is not None and len(latencies) >= quotes)

    def client() -> None:
        while not done():
            started = time.perf_counter()
            try:
                rates, carriers = quoter.quote()
            except Exception:  # noqa: BLE001 - counted as short; karrio returns carrier failures as messages
                rates, carriers = 0, 0
            ms = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(ms)
                outcomes["rates"] += rates
                outcomes["short"] += carriers < len(quoter.settings)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    cpu_before, started = time.process_time(), time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_before
    ordered = sorted(latencies)
    return {
        "clients": clients,
        "quotes": len(latencies),
        "seconds": elapsed,
        "cpu_s": cpu,
        "p50_ms": statistics.median(ordered) if ordered else None,
        "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] if ordered else None,
        **outcomes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("endpoints", help="JSON list of {url, client_id, client_secret}")
    parser.add_argument("bodies", help="JSON lines, one POST /v1/quotes body each")
    parser.add_argument("--warm", type=int, default=20, help="quotes before measuring (tokens, imports)")
    parser.add_argument("--one", type=int, default=100, help="quotes at one client")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each many-client phase")
    args = parser.parse_args()
    with open(args.endpoints) as f:
        endpoints = json.load(f)
    with open(args.bodies) as f:
        payloads = [rate_payload(json.loads(line)) for line in f if line.strip()]
    quoter = Quoter(endpoints, payloads)
    warm = phase(quoter, 4, quotes=args.warm)
    one = phase(quoter, 1, quotes=args.one)
    many = phase(quoter, args.clients, seconds=args.seconds)
    print(json.dumps({"karrio": importlib.metadata.version("karrio"), "warm": warm, "one": one, "many": many}))


if __name__ == "__main__":
    main()
