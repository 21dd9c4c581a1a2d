"""Asking every carrier at once and turning the answers into one quote.

`wiring` is the one place the engine is built (carriers, breakers, store, last good answers,
track record, quote book), for the app and every CLI command alike. `engine` fans a request out
(timeouts, breakers, last good answers), `breaker` keeps a failing remote carrier from being
asked, `selection` picks the recommended offer, `book` keeps quotes for their price guarantee
and answers repeats from cache, `places` resolves city names, postal codes and coordinates,
`stats` counts how each carrier answers.
"""
