"""Helpers shared by the test suite (tests/) and the benchmarks (bench/): a throwaway PostgreSQL cluster, a real
gunicorn, HTTP logins and WebSocket clients. Nothing here imports tests/ or bench/."""
