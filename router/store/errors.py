"""What the store raises; the tree is drawn in the package's docstring (router/store/__init__.py)."""

from __future__ import annotations

from router.core.errors import RouterError


class StoreError(RouterError):
    """Anything the store raises across its border."""


class StoreUnavailable(StoreError):
    """The backing server did not answer, in time or at all, or refused us; callers decide whether
    that is fatal (ResilientStore lets memory stand in)."""


class UnstorableValue(StoreError, ValueError):
    """A value or field the store cannot keep as given (a NUL in a hash field or value)."""


class InvalidStoreUrl(StoreError, ValueError):
    """A Redis URL the store cannot use: not redis://, rediss:// or unix://, or a database that is not a number."""
