"""Every carrier the service can ask, behind one protocol (`base.Carrier`).

`registry` builds the configured carriers from `config` (the carriers TOML); `ratecard/` prices
from tariff files (carriers as data); `cdek/` and `courier` speak real carrier APIs over HTTP
(`api` and `http` hold what they share); `sandbox/` emulates those APIs locally, faults on
demand. Imports nothing from the service but `router.core`.
"""
