"""Benchmarks run by hand (``python -m benchmarks.<name>``); never part of the test suite."""
