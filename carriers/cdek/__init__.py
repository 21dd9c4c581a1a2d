"""CDEK through its API v2: codes, wire requests and answers, the HTTP client, the carrier."""
