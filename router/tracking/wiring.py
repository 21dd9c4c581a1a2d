"""The one way to build the Shipper with everything it runs: its own booking and label jobs, the
shops' webhooks its changes cause, and the carriers' tracking polls. The app and every CLI command
that books use it. It lives here, above shipping and webhooks, because it joins them."""

from __future__ import annotations

from router.core.settings import Settings
from router.quoting.wiring import Wired
from router.shipping.ordering import PointLookup
from router.shipping.shipper import TRACK, Shipper
from router.tracking.poller import Poller
from router.tracking.tracker import Tracker
from router.webhooks.outbox import DELIVER
from router.webhooks.sender import Sender


def shipper_for(
    wired: Wired,
    settings: Settings,
    points: PointLookup,
    *,
    sender: Sender | None = None,
    tracker: Tracker | None = None,
) -> Shipper:
    """The Shipper over what `open_engine` opened, built the one way the API and the CLI both use,
    with the jobs it runs besides its own: the shops' webhooks and the carriers' tracking polls.

    `points` is read when a booking is made, so a caller whose points are (re)loaded later can
    hand a lookup that reads them then. `sender` and `tracker`: the app's own, which its
    endpoints share; made here over the same records otherwise. Polls are paced in the store."""
    sender = sender if sender is not None else Sender(wired.records, wired.http)
    tracker = tracker if tracker is not None else Tracker(wired.records, wired.record)
    poller = Poller(tracker, wired.bookings, wired.store, every_s=settings.tracking_poll_s)
    return Shipper(
        wired.records,
        wired.book,
        wired.bookings,
        wired.partners,
        points,
        settle_s=settings.booking_wait_s,
        poll_s=settings.tracking_poll_s,
        jobs={DELIVER: sender.run, TRACK: poller.run},
    )
