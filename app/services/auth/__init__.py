"""Login, throttles and sessions."""
