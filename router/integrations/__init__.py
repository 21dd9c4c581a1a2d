"""The service as other systems' delivery modules: each speaks that system's own callbacks."""
