"""Short-lived shared state with expiry: quote cache and locks, limits, breakers, history.

Memory by default; Redis with REDIS_URL, so every worker shares it. `kv` is the one interface,
`packing` deflates quotes for keeping. Only this package speaks to Redis.
"""
