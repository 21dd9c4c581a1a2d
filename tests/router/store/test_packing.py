from __future__ import annotations

import hashlib

import pytest

from router.core.settings import Settings
from router.http import appkeys as keys
from router.store import MemoryStore
from router.store.packing import DICTIONARIES, QUOTE_DICTIONARY, Deflater, pack_quote, unpack_owned_quote, unpack_quote
from tests.router.http.test_api_quotes import MOSCOW_NOVOSIBIRSK

# A quote packed with a dictionary reads back only with the same bytes: quotes in a shop's Redis
# outlive a release by a day, so a shipped dictionary may only be added to, never edited.
SHIPPED = {
    1: "78ca9311520d272678d96208efb92b63b92bd6adde045462640d221f15baba96",
    2: "b17f6e03019e4d3fccdf676d0301959d77b123ca613a3aafcbede959b1fa9ad3",
}


def test_shipped_dictionaries_are_never_edited() -> None:
    for number, digest in SHIPPED.items():
        assert hashlib.sha256((DICTIONARIES / f"quotes-{number}.ndjson").read_bytes()).hexdigest() == digest
    assert QUOTE_DICTIONARY in SHIPPED


async def test_a_quote_packs_to_a_tenth_and_unpacks_byte_for_byte(make_api) -> None:
    api = await make_api()
    body = await (await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)).read()
    packed = pack_quote(body)
    assert packed[0] == QUOTE_DICTIONARY
    assert len(packed) < len(body) / 10
    assert unpack_quote(packed) == body


def test_a_quote_kept_as_plain_json_before_packing_reads_as_it_is() -> None:
    plain = b'{"quote_id":"q_old","expires_at":"2026-11-24T10:00:00+00:00"}'
    assert unpack_quote(plain) is plain


@pytest.mark.parametrize(
    "kept", [b"", b"\x07" + pack_quote(b"{}")[1:], pack_quote(b'{"a":' * 200)[:-3], b"\x01\xff\xff"]
)
def test_what_is_not_a_packed_quote_is_refused_not_misread(kept: bytes) -> None:
    with pytest.raises(ValueError):
        unpack_quote(kept)


def test_a_quote_packed_with_its_owner_unpacks_to_both_and_one_packed_before_owners_to_none() -> None:
    body = b'{"quote_id":"q_1","offers":[]}'
    assert unpack_owned_quote(pack_quote(body, "key_0a1b2c")) == ("key_0a1b2c", body)
    assert unpack_owned_quote(pack_quote(body, "crm_ф")) == ("crm_ф", body)
    assert unpack_quote(pack_quote(body, "key_0a1b2c")) == body
    assert unpack_owned_quote(pack_quote(body)) == (None, body)
    assert unpack_owned_quote(body) == (None, body)  # plain JSON, as quotes were before packing


@pytest.mark.parametrize("owner", ["", "k" * 256])
def test_an_owner_that_does_not_fit_its_length_byte_is_refused(owner: str) -> None:
    with pytest.raises(ValueError):
        pack_quote(b"{}", owner)


@pytest.mark.parametrize(
    "kept",
    [
        b"\x00",
        b"\x00\x09key",  # shorter than its length says
        b"\x00\x00" + pack_quote(b"{}"),  # an empty owner
        b"\x00\x02\xff\xfe" + pack_quote(b"{}"),  # not UTF-8
        b"\x00\x01a" + pack_quote(b"{}", "b"),  # an owner after an owner
        b"\x00\x01a",  # no quote after it
    ],
)
def test_what_is_not_an_owned_quote_is_refused_not_misread(kept: bytes) -> None:
    with pytest.raises(ValueError):
        unpack_owned_quote(kept)


def test_a_deflater_inflates_what_it_deflated_and_others_cannot() -> None:
    ours, theirs = Deflater(b'{"carrier":"cdek","service":"136"}' * 50), Deflater(b"unrelated" * 100)
    value = b'{"carrier":"cdek","service":"137"}'
    packed = ours.deflate(value)
    assert ours.inflate(packed) == value
    assert theirs.inflate(packed) != value


async def test_quotes_are_kept_packed_in_memory_and_read_back_as_answered(make_api) -> None:
    api = await make_api()
    store = api.app[keys.STORE]
    assert isinstance(store, MemoryStore)
    made = await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)
    body = await made.read()
    quote_id = (await made.json())["quote_id"]
    assert (await store.get("quote:" + quote_id)) == pack_quote(body, "open")
    assert await (await api.get(f"/v1/quotes/{quote_id}")).read() == body
    assert await (await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)).read() == body  # from the cache


async def test_quotes_are_kept_packed_in_redis(make_api, redis_url: str, redis_prefix: str) -> None:
    import redis

    api = await make_api(Settings(redis_url=redis_url, redis_prefix=redis_prefix))
    made = await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)
    body = await made.read()
    quote_id = (await made.json())["quote_id"]
    direct = redis.Redis.from_url(redis_url)
    try:
        kept = direct.get(f"{redis_prefix}quote:{quote_id}")
    finally:
        direct.close()
    assert kept is not None and unpack_owned_quote(kept) == ("open", body) and len(kept) < len(body) / 10
    assert await (await api.get(f"/v1/quotes/{quote_id}")).read() == body


def test_a_service_without_its_quote_dictionary_does_not_start(monkeypatch, tmp_path) -> None:
    from router.quoting.book import QuoteBook
    from router.store import packing

    monkeypatch.setattr(packing, "DICTIONARIES", tmp_path)
    packing._quote_deflater.cache_clear()
    try:
        with pytest.raises(FileNotFoundError):
            QuoteBook(MemoryStore(), Settings())
    finally:
        packing._quote_deflater.cache_clear()
