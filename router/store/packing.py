"""Values deflated against a dictionary, and quotes packed so for keeping.

A quote's JSON is 4-6 kB, and a quote is kept for its guarantee and a day after, so a shop's
Redis holds hundreds of thousands of them. Quotes repeat each other's keys, carriers, services,
labels and places: deflated against a few quotes as a dictionary, one comes to about 300 bytes.
Redis is shared by workers and outlives releases, so its quotes are packed against a dictionary
shipped with the service (data/packing/), named by the packed value's first byte; a value
beginning with `{` is a quote kept as plain JSON, as it was before packing, and reads as it is.

A quote is kept with its owner, who alone may read it back (router/quoting/book.py): a first byte
of 0 (no dictionary is number 0), the owner's length in one byte, the owner in UTF-8, then the
quote packed as above. A quote kept before quotes had owners reads back with owner None.
"""

from __future__ import annotations

import functools
import zlib

from router.core.settings import DEFAULT_DATA_DIR

_WBITS = -15  # raw deflate: the packed bytes carry their dictionary's number, never leave the service
_LEVEL, _MEM_LEVEL = 3, 5  # as small as level 6 here, and as fast as level 1
DICTIONARY_MAX = 32 * 1024  # what deflate's window can reach

DICTIONARIES = DEFAULT_DATA_DIR / "packing"  # quotes-<number>.ndjson: sample quotes, one a line
# Each dictionary ever shipped keeps its number for as long as quotes packed with it may be kept
# (their guarantee and a day): a dictionary's bytes never change once shipped.
QUOTE_DICTIONARY = 2
_PLAIN_JSON = ord("{")
_OWNED = 0
OWNER_MAX = 255  # bytes of UTF-8: the length is one byte


class Deflater:
    """Deflate and inflate against one dictionary. The compressor is primed with the dictionary
    once and copied for each value: priming costs about as much as deflating a quote."""

    def __init__(self, zdict: bytes) -> None:
        self._zdict = bytes(zdict[-DICTIONARY_MAX:])
        self._primed = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WBITS, _MEM_LEVEL, zdict=self._zdict)

    def deflate(self, value: bytes) -> bytes:
        packer = self._primed.copy()
        return packer.compress(value) + packer.flush()

    def inflate(self, packed: bytes | memoryview) -> bytes:
        # A fresh decompressor is cheaper than a copy of a primed one: inflating needs no hashing.
        unpacker = zlib.decompressobj(_WBITS, zdict=self._zdict)
        value = unpacker.decompress(packed)
        if not unpacker.eof:
            raise ValueError("a packed value ends before its deflate stream does")
        return value


@functools.cache
def _quote_deflater(number: int) -> Deflater:
    return Deflater((DICTIONARIES / f"quotes-{number}.ndjson").read_bytes())


def load_quote_dictionary() -> None:
    """Read the dictionary quotes are packed with now: a service without it must not start, as
    it could keep no quote."""
    _quote_deflater(QUOTE_DICTIONARY)


def pack_quote(body: bytes, owner: str | None = None) -> bytes:
    """`owner`: who may read the quote back; None packs it as quotes were before they had owners."""
    packed = bytes((QUOTE_DICTIONARY,)) + _quote_deflater(QUOTE_DICTIONARY).deflate(body)
    if owner is None:
        return packed
    name = owner.encode()
    if not name or len(name) > OWNER_MAX:
        raise ValueError(f"a quote's owner takes 1 to {OWNER_MAX} bytes of UTF-8, not {len(name)}")
    return bytes((_OWNED, len(name))) + name + packed


def unpack_owned_quote(kept: bytes) -> tuple[str | None, bytes]:
    """The quote's owner (None if it was kept before quotes had owners) and its JSON."""
    if kept[:1] != bytes((_OWNED,)):
        return None, unpack_quote(kept)
    if len(kept) < 2 or len(kept) < 2 + kept[1]:
        raise ValueError("a quote's owner ends before its length says")
    end = 2 + kept[1]
    try:
        owner = kept[2:end].decode()
    except UnicodeDecodeError:
        raise ValueError("a quote's owner is not UTF-8") from None
    if not owner or kept[end : end + 1] == bytes((_OWNED,)):
        raise ValueError("a quote's owner is empty or followed by another")
    return owner, unpack_quote(kept[end:])


def unpack_quote(kept: bytes) -> bytes:
    """The quote's JSON, byte for byte as it was packed; plain JSON as it is; its owner, if kept
    with one, left aside (`unpack_owned_quote` reads it)."""
    if not kept:
        raise ValueError("an empty value is not a quote")
    if kept[0] == _OWNED:
        return unpack_owned_quote(kept)[1]
    number = kept[0]
    if number == _PLAIN_JSON:
        return kept
    try:
        deflater = _quote_deflater(number)
    except FileNotFoundError:
        raise ValueError(f"a quote packed with dictionary {number}, which this service does not ship") from None
    try:
        return deflater.inflate(memoryview(kept)[1:])
    except zlib.error as exc:
        raise ValueError(f"a packed quote does not inflate: {exc}") from None
