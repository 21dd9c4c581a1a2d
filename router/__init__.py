"""carrier-router: quote every carrier at once, pick the best, keep the quoted price.

Rooms, and the one direction their imports go (a room imports only rooms above it here):

    core/          domain types, errors, settings, working days, money as JSON, distances
    store/         the key-value store with expiry: memory, or Redis shared by every worker
    records/       what must outlive a process, in SQL: keys, accounts, shipments, jobs
    printing/      labels and manifests as PDF and CSV
    quoting/       the engine that asks every carrier, the quote book, selection, breakers,
                   last good answers, places; `wiring.open_engine` builds it all
    history/       delivery outcomes, what each carrier really does, suspensions
    allocation/    a day's orders routed across warehouses and carriers (OR-Tools)
    rerating/      shipment history priced again under any tariffs; invoice audit
    syncing/       pickup-point networks kept in step with a carrier's API
    webhooks/      the shop told of its shipments: an outbox, signed deliveries in order
    shipping/      held quotes booked with carriers exactly once; labels, manifests, pick-ups
    tracking/      where each parcel is: carriers' events kept once, polls, the buyer's page
    integrations/  the service as other systems' delivery modules (RetailCRM)
    http/          the JSON API: app, routes, middlewares, handlers, wire schemas, serving
    cli/           the `carrier-router` command

`carriers/` and `pickup_points/` sit beside this package and import nothing from it but `core`.
"""
