"""What really happened to shipments, and what it teaches: transit times, failure rates, suspensions.

`outcomes` reads one delivery outcome, `outcome_files` whole files of them, `reliability` folds them into tallies,
`track_record` keeps those in the store for every worker (under the keys `layout` draws),
`suspension` decides when a carrier stops getting orders.
"""
