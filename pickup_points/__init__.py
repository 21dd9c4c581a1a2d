"""Every pickup-point network: model, importers, merged sites, the spatial index, opening hours.

`search.PickupDirectory` is the one object the API holds. Imports nothing from the service but
`router.core`.
"""
