"""The records package's errors, under the service's root."""

from __future__ import annotations

from router.core.errors import RouterError


class RecordsError(RouterError):
    """The records database could not do what was asked."""


class RecordsUnavailable(RecordsError):
    """The database did not answer (a restart, a network cut): the caller may retry (503)."""

    retry_after_s = 2
