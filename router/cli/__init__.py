"""`carrier-router`: serve, quote, plan a day, re-rate, import outcomes and points, RetailCRM.

`main` holds the group and the quote and serve commands; each other command group has its own
module named for it.
"""

from router.cli.main import main

__all__ = ["main"]
