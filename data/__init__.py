"""The data shipped with the service, installed as the package `router.bundled` (see router/core/bundled.py).

Demo rate cards (carriers/), carrier configurations (config/), demo shop files (demo/), the quote
packing dictionaries (packing/), demo pickup points (pickup_points/) and postal prefixes (places/).
"""
