"""CDEK through its API v2.

codes    delivery modes, currencies, well-known tariffs, error codes
wire     the requests and answers as msgspec Structs: each field declared once
client   the only module that does HTTP with CDEK: the OAuth token, the calculator, points pages
carrier  `CdekCarrier`: the calculator request built from a shipment (a pure function, tested
         without a network), delivery points page by page
answer   the calculator's answer read into offers and rejections (pure, tested without a network)
"""
