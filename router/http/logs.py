"""Structured logs: one JSON object per line, with the request id when there is one.

`setup_logging` sends every line to one `JsonLines` sink. The access line, written for every
request, skips the logging module's records, handler locks and formatter and goes to the sink
directly; lines of the same event-loop turn are written together. Without `setup_logging` (tests,
an embedding application) the access line is an ordinary `logging` record.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import logging
import sys
import threading
import time
from datetime import UTC, datetime
from typing import BinaryIO

import orjson

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
ACCESS_LOGGER = "carrier_router.access"
_access_log = logging.getLogger(ACCESS_LOGGER)
_sink: JsonLines | None = None


def _entry(created: float, level: str, logger: str, msg: str) -> dict[str, object]:
    entry: dict[str, object] = {"ts": _timestamp(created), "level": level, "logger": logger, "msg": msg}
    rid = request_id.get()
    if rid:
        entry["request_id"] = rid
    return entry


_second = -1
_second_text = ""


def _timestamp(created: float) -> str:
    """ISO 8601 in UTC to the millisecond, as `datetime.isoformat(timespec="milliseconds")` writes it."""
    global _second, _second_text
    whole = int(created)
    micros = round((created - whole) * 1_000_000)  # rounded first, as datetime does
    if micros == 1_000_000:
        whole, micros = whole + 1, 0
    if whole != _second:  # formatting a date costs more than the rest of the line; once a second
        _second_text = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second = whole
    return f"{_second_text}.{micros // 1000:03d}+00:00"


class JsonFormatter(logging.Formatter):
    def entry(self, record: logging.LogRecord) -> dict[str, object]:
        entry = _entry(record.created, record.levelname.lower(), record.name, record.getMessage())
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return entry

    def format(self, record: logging.LogRecord) -> str:
        return orjson.dumps(self.entry(record), default=str).decode()


class JsonLines:
    """Lines written by the event loop's thread wait for the end of the loop's turn and go out in
    one write; lines from other threads (or with no loop running) are written at once. A crash
    loses at most one turn's lines."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._pending: list[bytes] = []
        self._scheduled = False
        self._lock = threading.Lock()

    def write(self, entry: dict[str, object]) -> None:
        line = orjson.dumps(entry, default=str, option=orjson.OPT_APPEND_NEWLINE)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            with self._lock:
                self._flush_locked()
                self._out(line)
            return
        self._pending.append(line)
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self.flush)

    def flush(self) -> None:
        with self._lock:
            self._scheduled = False
            self._flush_locked()

    def _flush_locked(self) -> None:
        n = len(self._pending)
        if n:
            data = b"".join(self._pending[:n])
            del self._pending[:n]  # lines appended meanwhile stay for the next flush
            self._out(data)

    def _out(self, data: bytes) -> None:
        try:
            self._stream.write(data)
            self._stream.flush()
        except (OSError, ValueError):
            pass  # the log's reader is gone; the service still answers


class _SinkHandler(logging.Handler):
    def __init__(self, sink: JsonLines) -> None:
        super().__init__()
        self.sink = sink
        self.formatter = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.sink.write(self.formatter.entry(record))  # type: ignore[union-attr]
        except Exception:
            self.handleError(record)


def access(method: str, route: str, status: int, ms: float) -> None:
    """The one line each request leaves. The query string and headers are never in it: they may carry keys."""
    if not _access_log.isEnabledFor(logging.INFO):
        return
    fields = {"method": method, "route": route, "status": status, "ms": ms}
    if _sink is None:
        _access_log.info("request", extra=fields)
        return
    entry = _entry(time.time(), "info", ACCESS_LOGGER, "request")
    entry.update(fields)
    _sink.write(entry)


def setup_logging(level: int = logging.INFO, stream: BinaryIO | None = None) -> JsonLines:
    global _sink
    sink = JsonLines(stream if stream is not None else sys.stderr.buffer)
    root = logging.getLogger()
    root.handlers[:] = [_SinkHandler(sink)]
    root.setLevel(level)
    # aiohttp's own access log would repeat ours, without the request id.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    _sink = sink
    atexit.register(sink.flush)  # the last turn's lines, when the loop stops before its flush runs
    return sink


def reset_logging() -> None:
    """Access lines go back to the logging module (tests; the root logger's handlers are the caller's)."""
    global _sink
    if _sink is not None:
        _sink.flush()
        atexit.unregister(_sink.flush)
    _sink = None
