"""Benchmarks (scripts, not tests): run each file with the project's Python."""
