"""What wraps every request: request ids and logs, CORS and API keys, errors as problem+json."""
