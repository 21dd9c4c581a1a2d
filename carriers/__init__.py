"""Every carrier the service can ask, behind one protocol (`base.Carrier`).

    base       the `Carrier` protocol the quote engine uses
    errors     everything carriers raise, under one root (`CarriersError`)
    api        what the API carriers share: time budget, retries, credentials, reading answers
    registry   the configured carriers, built from `config` (the carriers TOML)
    ratecard/  carriers as data: prices from tariff files, no network
    cdek/      CDEK's API v2: wire types, client, carrier, codes
    courier/   a same-day courier's calculate-order API: wire types, client, carrier
    sandbox/   local emulators of those APIs, faults on demand

API carriers speak HTTP through aiohttp's client on the one session the app opens. Imports
nothing from the service but `router.core`.
"""
