"""Benchmarks: timings reported as ratios to a baseline measured in the same run (results in docs/benchmarks.md)."""
