"""The carriers TOML: what it builds, and how each mistake is named."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from carriers.cdek.carrier import CdekCarrier
from carriers.config import (
    DEFAULT_POLLS_PER_MINUTE,
    SANDBOX_CDEK_CLIENT_ID,
    SANDBOX_CDEK_CLIENT_SECRET,
    SANDBOX_CDEK_URL,
    SANDBOX_COURIER_TOKEN,
    SANDBOX_COURIER_URL,
    CdekEntry,
    CourierEntry,
    RatecardEntry,
    load_config,
)
from carriers.courier import CourierCarrier
from carriers.registry import load_carriers, load_polls_per_minute
from router.core.errors import ConfigError
from router.core.settings import DEFAULT_DATA_DIR, Settings

CONFIG_DIR = DEFAULT_DATA_DIR / "config"
ENV = {"CDEK_CLIENT_ID": "id-value", "CDEK_CLIENT_SECRET": "secret-value", "COURIER_TOKEN": "token-value"}
SANDBOX = {
    SANDBOX_CDEK_URL: "http://127.0.0.1:5001",
    SANDBOX_CDEK_CLIENT_ID: "sandbox-id",
    SANDBOX_CDEK_CLIENT_SECRET: "sandbox-secret",
    SANDBOX_COURIER_URL: "http://127.0.0.1:5002",
    SANDBOX_COURIER_TOKEN: "sandbox-token",
}

CDEK = """
[[carriers]]
kind = "cdek"
client_id_env = "CDEK_CLIENT_ID"
client_secret_env = "CDEK_CLIENT_SECRET"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "carriers.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_for(
    tmp_path: Path, text: str, env: dict[str, str] = ENV, sandbox: dict[str, str] | None = None
) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), env, sandbox)
    return caught.value


# ------------------------------------------------------------------ what it builds


def test_without_a_config_file_the_bundled_rate_cards_are_the_carriers() -> None:
    carriers = load_carriers(Settings(), None)
    assert len(carriers) >= 6
    assert {c.info().kind for c in carriers} == {"ratecard"}


def test_the_demo_config_is_the_bundled_rate_cards_and_needs_no_credentials() -> None:
    config = load_config(CONFIG_DIR / "demo.toml", env={})
    assert config.entries == (RatecardEntry((DEFAULT_DATA_DIR / "carriers").resolve()),)
    with_config = load_carriers(Settings(config_path=CONFIG_DIR / "demo.toml"), None)
    assert [c.code for c in with_config] == [c.code for c in load_carriers(Settings(), None)]


def test_the_sandbox_config_adds_cdek_and_a_courier_pointed_at_the_sandbox() -> None:
    settings = Settings(config_path=CONFIG_DIR / "sandbox.toml", extra=SANDBOX)
    carriers = load_carriers(settings, None)
    cdek = next(c for c in carriers if isinstance(c, CdekCarrier))
    courier = next(c for c in carriers if isinstance(c, CourierCarrier))
    assert cdek.client.base_url == "http://127.0.0.1:5001"
    assert courier.client.base_url == "http://127.0.0.1:5002"
    assert sum(c.info().kind == "ratecard" for c in carriers) >= 6


def test_the_sandbox_config_refuses_to_load_when_no_sandbox_runs() -> None:
    with pytest.raises(ConfigError) as caught:
        load_carriers(Settings(config_path=CONFIG_DIR / "sandbox.toml"), None)
    assert caught.value.path.endswith(".sandbox")
    assert "--sandbox" in caught.value.message


def test_credentials_are_read_from_the_named_environment_variables(tmp_path: Path) -> None:
    (entry,) = load_config(write(tmp_path, CDEK), ENV).entries
    assert isinstance(entry, CdekEntry)
    assert (entry.client_id.reveal(), entry.client_secret.reveal()) == ("id-value", "secret-value")


def test_credentials_never_appear_in_the_configs_repr(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path, CDEK + '\n[[carriers]]\nkind = "courier"\nbase_url = "http://c"\ntoken_env = "COURIER_TOKEN"\n'
        ),
        ENV,
    )
    text = repr(config) + str(config)
    for value in ENV.values():
        assert value not in text


def test_cdek_defaults_to_the_public_test_environment(tmp_path: Path) -> None:
    (entry,) = load_config(write(tmp_path, CDEK), ENV).entries
    assert isinstance(entry, CdekEntry)
    assert entry.base_url == "https://api.edu.cdek.ru"
    assert (entry.code, entry.tariffs, entry.cutoff) == ("cdek", None, time(18, 0))


def test_every_setting_of_an_entry_reaches_the_carrier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    text = (
        CDEK
        + 'code = "cdek-live"\nname = "CDEK live"\nbase_url = "https://api.cdek.ru/v2"\ntimeout_s = 0.8\ntariffs = [136, 137]\ncutoff = 15:30:00\nlang = "eng"\n'
    )
    carrier = load_carriers(Settings(config_path=write(tmp_path, text)), None)[0]
    assert isinstance(carrier, CdekCarrier)
    assert (carrier.code, carrier.name, carrier.timeout_s, carrier.tariffs, carrier.cutoff, carrier.lang) == (
        "cdek-live",
        "CDEK live",
        0.8,
        frozenset({136, 137}),
        time(15, 30),
        "eng",
    )
    assert carrier.client.base_url == "https://api.cdek.ru"  # paths carry the /v2 themselves


def test_an_api_carrier_without_timeout_takes_the_services_carrier_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    carrier = load_carriers(Settings(config_path=write(tmp_path, CDEK), carrier_timeout_s=0.7), None)[0]
    assert isinstance(carrier, CdekCarrier) and carrier.timeout_s == 0.7


def test_a_ratecard_entry_may_name_one_file(tmp_path: Path) -> None:
    one = sorted((DEFAULT_DATA_DIR / "carriers").glob("*.json"))[0]
    text = f'[[carriers]]\nkind = "ratecard"\npath = "{one}"\n'
    carriers = load_carriers(Settings(config_path=write(tmp_path, text)), None)
    assert len(carriers) == 1


def test_a_courier_entry_builds_a_courier(tmp_path: Path) -> None:
    text = '[[carriers]]\nkind = "courier"\ncode = "bystro"\nbase_url = "https://c.example/api/business/1.5"\ntoken_env = "COURIER_TOKEN"\nvehicle_type_id = 6\n'
    (entry,) = load_config(write(tmp_path, text), ENV).entries
    assert isinstance(entry, CourierEntry)
    assert (entry.code, entry.vehicle_type_id, entry.token.reveal()) == ("bystro", 6, "token-value")


def test_each_api_carriers_tracking_poll_limit_is_its_own_and_600_a_minute_unless_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    text = (
        CDEK
        + "polls_per_minute = 120\n"
        + CDEK.replace('kind = "cdek"', 'kind = "cdek"\ncode = "cdek-2"')
        + '[[carriers]]\nkind = "courier"\nbase_url = "https://c.example/api"\ntoken_env = "COURIER_TOKEN"\npolls_per_minute = 30\n'
        + '[[carriers]]\nkind = "ratecard"\n'
    )
    limits = load_polls_per_minute(Settings(config_path=write(tmp_path, text)))
    assert limits == {"cdek": 120, "cdek-2": DEFAULT_POLLS_PER_MINUTE, "courier": 30}
    assert DEFAULT_POLLS_PER_MINUTE == 600
    assert load_polls_per_minute(Settings()) == {}  # no config: no API carriers to poll


# ------------------------------------------------------------------ mistakes, each named


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('[[carriers]]\nkind = "fax"\n', "carriers[0].kind"),
        ('[[carriers]]\ncode = "x"\n', "carriers[0].kind"),
        (CDEK + "timout_s = 1\n", "carriers[0].timout_s"),
        (CDEK + "timeout_s = 0\n", "carriers[0].timeout_s"),
        (CDEK + 'timeout_s = "1s"\n', "carriers[0].timeout_s"),
        (CDEK + 'base_url = "api.cdek.ru"\n', "carriers[0].base_url"),
        (CDEK + 'tariffs = [136, "137"]\n', "carriers[0].tariffs[1]"),
        (CDEK + "tariffs = []\n", "carriers[0].tariffs"),
        (CDEK + 'cutoff = "25:00"\n', "carriers[0].cutoff"),
        (CDEK + 'code = "CDEK!"\n', "carriers[0].code"),
        (CDEK + 'lang = "de"\n', "carriers[0].lang"),
        (CDEK + CDEK, "carriers[1].code"),
        (CDEK + "polls_per_minute = 1\n", "carriers[0].polls_per_minute"),
        (CDEK + 'polls_per_minute = "600/min"\n', "carriers[0].polls_per_minute"),
        (CDEK + "polls_per_minute = 60.5\n", "carriers[0].polls_per_minute"),
        ('[[carriers]]\nkind = "courier"\ntoken_env = "COURIER_TOKEN"\n', "carriers[0].base_url"),
        ('[[carriers]]\nkind = "ratecard"\npath = "nowhere"\n', "carriers[0].path"),
        ('[[carriers]]\nkind = "ratecard"\n\n[other]\nx = 1\n', "other"),
        ("carriers = []\n", "carriers"),
        ("carriers = [\n", "$"),
    ],
)
def test_a_mistake_is_named_by_its_field(tmp_path: Path, text: str, path: str) -> None:
    error = error_for(tmp_path, text)
    assert error.path == path
    assert error.source == str(tmp_path / "carriers.toml")


def test_an_unset_variable_is_named_but_no_value_is_shown(tmp_path: Path) -> None:
    error = error_for(tmp_path, CDEK, env={"CDEK_CLIENT_ID": "id-value"})
    assert error.path == "carriers[0].client_secret_env"
    assert "CDEK_CLIENT_SECRET" in error.message
    assert "id-value" not in str(error)


def test_a_credential_written_into_the_file_is_refused(tmp_path: Path) -> None:
    text = '[[carriers]]\nkind = "cdek"\nclient_id_env = "EMscd6r9JnFiQ3bLoyjJY6eM78JrJceI"\nclient_secret_env = "CDEK_CLIENT_SECRET"\n'
    error = error_for(tmp_path, text)
    assert error.path == "carriers[0].client_id_env"
    assert "EMscd6r9" not in str(error)


def test_sandbox_entries_may_not_also_name_a_url(tmp_path: Path) -> None:
    text = '[[carriers]]\nkind = "cdek"\nsandbox = true\nbase_url = "https://api.cdek.ru"\n'
    assert error_for(tmp_path, text, sandbox=SANDBOX).path == "carriers[0].base_url"


def test_a_rate_card_code_clashing_with_an_api_carrier_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    taken = load_carriers(Settings(), None)[0].code
    text = f'[[carriers]]\nkind = "ratecard"\npath = "{DEFAULT_DATA_DIR / "carriers"}"\n' + CDEK + f'code = "{taken}"\n'
    with pytest.raises(ConfigError) as caught:
        load_carriers(Settings(config_path=write(tmp_path, text)), None)
    assert caught.value.path == "carriers[1]"
    assert taken in caught.value.message


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "missing.toml", ENV)
    assert caught.value.path == "$" and "missing.toml" in caught.value.source
