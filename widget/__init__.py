"""The embeddable widget, installed as the package `router.widget` (see router/core/bundled.py).

Only the demo page and the built script (dist/, from `scripts/build-widget`) are shipped.
"""
