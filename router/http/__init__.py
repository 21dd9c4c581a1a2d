"""The JSON API: the app factory, its routes, middlewares, handlers and wire schemas.

`app.create_app` builds the aiohttp application, `appkeys` declares everything it holds,
`routes` registers every handler, `middlewares/` wraps them (problems, access, observability),
`handlers/` are thin (parse, call the domain, render), `schemas/` the wire types and the OpenAPI
document, `serving` runs one process or several workers.
"""
