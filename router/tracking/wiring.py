"""The one way to build the Shipper with everything it runs: its own booking and label jobs, the
shops' webhooks its changes cause, the carriers' tracking polls and the CRMs' status pushes. The
app and every CLI command that books use it. It lives here, above shipping and webhooks, because
it joins them."""

from __future__ import annotations

from router.core.settings import Settings
from router.integrations.retailcrm.pushes import PUSH, Pusher, schedule_push
from router.quoting.wiring import Wired
from router.shipping.ordering import PointLookup
from router.shipping.shipper import TRACK, Shipper
from router.tracking.poller import Poller
from router.tracking.tracker import EventsHook, Tracker
from router.webhooks.outbox import DELIVER
from router.webhooks.sender import Sender

# What else new tracking events set going, in their transaction: the CRM's push.
EVENT_HOOKS: tuple[EventsHook, ...] = (schedule_push,)


def tracker_for(wired: Wired) -> Tracker:
    """The Tracker over what `open_engine` opened, with every events hook."""
    return Tracker(wired.records, wired.record, on_events=EVENT_HOOKS)


def shipper_for(
    wired: Wired,
    settings: Settings,
    points: PointLookup,
    *,
    sender: Sender | None = None,
    tracker: Tracker | None = None,
    labels_called_back: bool = False,
) -> Shipper:
    """The Shipper over what `open_engine` opened, built the one way the API and the CLI both use,
    with the jobs it runs besides its own: the shops' webhooks, the carriers' tracking polls and
    the statuses pushed to CRMs.

    `points` is read when a booking is made, so a caller whose points are (re)loaded later can
    hand a lookup that reads them then. `sender` and `tracker`: the app's own, which its
    endpoints share; made here over the same records otherwise. Polls are paced in the store, each
    carrier's to its `polls_per_minute`. `labels_called_back`: the caller has carriers call its
    inbound URL when a label is made, so the label job waits for the call rather than polling
    (`router.shipping.paperwork`)."""
    sender = sender if sender is not None else Sender(wired.records, wired.http)
    tracker = tracker if tracker is not None else tracker_for(wired)
    poller = Poller(
        tracker, wired.bookings, wired.store, every_s=settings.tracking_poll_s, per_minute=wired.polls_per_minute
    )
    return Shipper(
        wired.records,
        wired.book,
        wired.bookings,
        wired.partners,
        points,
        settle_s=settings.booking_wait_s,
        poll_s=settings.tracking_poll_s,
        jobs={DELIVER: sender.run, TRACK: poller.run, PUSH: Pusher(wired.records, wired.http).run},
        labels_called_back=labels_called_back,
    )
