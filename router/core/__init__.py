"""What every other room shares: domain types, errors, settings, working days, JSON, distances,
regions.

Imports nothing from the rest of the service, so carriers and pickup points can build on it.
"""
