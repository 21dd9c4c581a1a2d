"""Records: what must outlive a process, in SQL.

API keys, RetailCRM accounts and their saved deliveries, imported pickup-point networks and raw
delivery outcomes live in one relational database through SQLAlchemy 2 (Core, async): a SQLite
file in the service's state directory by default, nothing to set up; PostgreSQL when
`DATABASE_URL` is set, so that every worker on every machine reads the same records. The schema
is Alembic's (`migrations/`), upgraded when the service starts or by `carrier-router db upgrade`.

What is shared but short-lived (the quote cache and its locks, rate limits, breakers) stays in
`router.store` (Redis or memory): losing it costs a recomputation, never a record.
"""

from router.records.database import Database, open_database, open_records, records_url
from router.records.errors import RecordsError, RecordsUnavailable

__all__ = ["Database", "RecordsError", "RecordsUnavailable", "open_database", "open_records", "records_url"]
