"""Shipment history priced again: what each shipment cost, could have cost, and was billed.

`shipments` streams the history file, `run` re-rates it row by row (`pool` on every core) into
`results`, `prices` works tariff prices out once per lane and weight band (`fares`: one card's),
`summary` and `report` total and show a run, `demo_data` writes demo orders and shipments over
the demo network.
"""
