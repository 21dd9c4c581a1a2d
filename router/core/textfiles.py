"""Uploaded text files as people make them, read line by line so one bad line costs only itself.

    text_lines      bytes (or str) -> numbered lines, decoded one at a time
    csv_records     numbered lines -> CSV records, a stray quote never running rows together

Lines end at "\\n" alone (a "\\r" before it is dropped): U+2028 and U+0085 are legal inside a JSON
string and an address, so `str.splitlines` is never used. Text is UTF-8, with Excel's BOM or
without; a file whose first non-ASCII line is not UTF-8 is read as Windows-1251 (what Russian
Excel saves as "CSV"), and in a UTF-8 file a line that is not UTF-8 is reported on its own.

Whatever cannot be read becomes a `LineProblem` with its line, and reading goes on at the next
line: these readers never reject a whole file. Both the pickup-point and the delivery-outcome
importers read through here.
"""

from __future__ import annotations

import csv
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import cast

# A longer field is something else pasted into a cell (a traceback, a whole file); capped so one
# such cell cannot become a megabyte of error text or of a stored point.
MAX_FIELD_CHARS = 4096
# A quoted field may hold line breaks (an address on two lines), but not run on for more lines
# than this: beyond, its quote was never closed and the lines after it are rows of their own.
MAX_RECORD_LINES = 8
# Listed one by one; the others are counted. A file with more bad rows is the wrong file or a
# hostile one, and a reader learns nothing from the thousand-and-first.
MAX_LISTED_PROBLEMS = 1000

_BOM = b"\xef\xbb\xbf"
# One well-formed CSV line: fields quoted whole ("" inside for a quote) or holding no quote and no
# comma. Possessive, so a line that does not match fails without backtracking.
_FIELD = r'(?:"(?:[^"]|"")*+"|[^",]*+)'
_WELL_FORMED = re.compile(rf"{_FIELD}(?:,{_FIELD})*+")


@dataclass(frozen=True, slots=True)
class LineProblem:
    line: int  # 1-based, as an editor shows it
    field: str  # the column, or "" for the line as a whole
    reason: str


@dataclass(frozen=True, slots=True)
class Record:
    line: int  # where the record starts
    values: list[str]


Line = tuple[int, str]


def text_lines(data: bytes | str | Iterable[bytes] | Iterable[str]) -> Iterator[Line | LineProblem]:
    """Each line with its number; a line that cannot be decoded is a problem, the rest go on.

    `data` is a whole file, or an open file (binary, whose lines end at b"\\n" alone, or text).
    """
    lines: Iterable[bytes | str]
    if isinstance(data, str):
        lines = data.split("\n")
    elif isinstance(data, bytes):
        try:  # most files are UTF-8 throughout, and one call decodes them
            lines = data.removeprefix(_BOM).decode("utf-8").split("\n")
        except UnicodeDecodeError:
            lines = data.split(b"\n")
    else:
        lines = data
    encoding: str | None = None  # decided by the first line that is not ASCII
    for number, line in enumerate(lines, start=1):
        if isinstance(line, str):
            if line.endswith(("\n", "\r")):
                line = line.removesuffix("\n").removesuffix("\r")
            yield number, line.removeprefix("\ufeff") if number == 1 else line
            continue
        raw = cast(bytes, line).removesuffix(b"\n").removesuffix(b"\r")
        if number == 1:
            raw = raw.removeprefix(_BOM)
        if raw.isascii():
            yield number, raw.decode("ascii")
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if encoding is None:
                encoding = "cp1251"
            if encoding != "cp1251":
                at = exc.start + 1
                yield LineProblem(number, "", f"is not UTF-8 (byte 0x{raw[exc.start]:02x} at {at}); save as UTF-8")
                continue
            try:
                text = raw.decode("cp1251")
            except UnicodeDecodeError as exc:
                yield LineProblem(number, "", f"is neither UTF-8 nor Windows-1251 (byte 0x{raw[exc.start]:02x})")
                continue
        else:
            encoding = encoding or "utf-8"
        yield number, text


def csv_records(
    lines: Iterable[Line | LineProblem], max_field: int = MAX_FIELD_CHARS
) -> Iterator[Record | LineProblem]:
    """The header first, then every record; blank lines are skipped.

    A record spans lines only when a quoted field closes on a later line that is not itself a
    whole record; otherwise its quote is reported as never closed at the line it opened on, and
    reading starts again on the next line.
    """
    source = _Lookahead(lines)
    width: int | None = None
    names: list[str] = []
    while (item := source.next()) is not None:
        if isinstance(item, LineProblem):
            yield item
            continue
        number, text = item
        if not text or text.isspace():
            continue
        quoted = '"' in text
        if quoted:
            read = _quoted_record(text, source, width)
            if isinstance(read, tuple):
                column, reason = read
                yield LineProblem(number, names[column] if 0 <= column < len(names) else "", reason)
                continue
            values = read
        else:
            values = text.split(",")
        # A line no longer than the limit cannot hold a field over it; most lines are far shorter.
        if quoted or len(text) > max_field:
            long = [i for i, value in enumerate(values) if len(value) > max_field]
            for i in long:
                name = names[i] if i < len(names) else f"column {i + 1}"
                yield LineProblem(number, name, f"is {len(values[i])} characters long; at most {max_field}")
            if long:
                continue
        if width is None:
            width, names = len(values), [v.strip() for v in values]
        yield Record(number, values)


def _quoted_record(first: str, source: _Lookahead, width: int | None) -> list[str] | tuple[int, str]:
    """The record that starts with `first`, or the column and why it cannot be read.

    When it cannot, the lines it would have taken are put back, to be read as records themselves.
    """
    taken: list[Line] = []
    ran_out = False

    def feed() -> Iterator[str]:
        nonlocal ran_out
        yield first + "\n"
        while len(taken) < MAX_RECORD_LINES - 1:
            item = source.next()
            if item is None:
                break
            if isinstance(item, LineProblem) or _whole_record(item[1], width):
                source.put_back([item])
                break
            taken.append(item)
            yield item[1] + "\n"
        ran_out = True  # the reader asked for another line: a quoted field was still open

    try:
        values = next(csv.reader(feed()))
    except csv.Error as exc:
        source.put_back(taken)
        if "field larger than field limit" in str(exc):
            return -1, f"has a field of more than {csv.field_size_limit()} characters"
        return -1, f"is not well-formed CSV: {exc}"
    if ran_out:
        source.put_back(taken)
        column = len(next(csv.reader([first]))) - 1  # the open field is the line's last
        return column, "opens a quote that is never closed; the lines after it are read as rows of their own"
    return values


def _whole_record(text: str, width: int | None) -> bool:
    if width is None:
        return False
    if '"' not in text:
        return text.count(",") + 1 == width
    return _WELL_FORMED.fullmatch(text) is not None and len(next(csv.reader([text]))) == width


class _Lookahead:
    def __init__(self, items: Iterable[Line | LineProblem]) -> None:
        self._items = iter(items)
        self._back: deque[Line | LineProblem] = deque()

    def next(self) -> Line | LineProblem | None:
        if self._back:
            return self._back.popleft()
        return next(self._items, None)

    def put_back(self, items: list[Line] | list[Line | LineProblem]) -> None:
        self._back.extendleft(reversed(items))
