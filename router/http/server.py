"""aiohttp's server, with the refusals it makes itself answered and logged as the app's are.

aiohttp refuses a request it cannot parse (a control byte in a header, a malformed request
line, a line too long) before any middleware runs: in plain text that quotes the offending
bytes, and with an error log line that quotes them again. A secret key followed by a stray
control byte was written to the error log that way. Here such a refusal is problem+json naming
only its status, and its log line names only the kind of error.

aiohttp has no hook for these answers (aio-libs/aiohttp#3287): `AppRunner` builds its server
with a connection handler of ours, and the service runs through it (`router.http.serving`).
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from router.http.middlewares.problems import problem

log = logging.getLogger("carrier_router.server")


class _Handler(RequestHandler):
    __slots__ = ()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if isinstance(exc, HttpProcessingError):
            # The parser's message and traceback quote the request's bytes, headers included.
            log.warning("unreadable request refused", extra={"status": status, "error": type(exc).__name__})
        elif exc is not None:
            log.error("request failed outside the app", exc_info=exc)
        else:
            log.warning("request refused by the server", extra={"status": status})
        if request.writer.output_size > 0:
            raise ConnectionError("an answer was under way; no error answer can follow it")
        try:
            title = HTTPStatus(status).phrase
        except ValueError:
            title = "Error"
        resp = problem(status, title, "the request could not be read as HTTP" if status == 400 else None)
        resp.force_close()  # the connection's framing can no longer be trusted
        return resp


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        return _Handler(self, loop=self._loop, **self._kwargs)


class AppRunner(web.AppRunner):
    """`web.AppRunner` whose connections answer their own errors in problem+json."""

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()
        return _Server(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=made._loop,
            **made._kwargs,
        )
