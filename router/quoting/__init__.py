"""Asking every carrier at once and turning the answers into one quote.

`engine` fans a request out (timeouts, breakers, last good answers), `selection` picks the
recommended offer, `book` keeps quotes for their price guarantee and answers repeats from cache,
`places` resolves city names and postal codes, `stats` counts how each carrier answers.
"""
