"""Benchmarks: `python -m bench` runs them all, `python -m bench calllist` one of them."""
