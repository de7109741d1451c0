"""The benchmark suite behind ``python -m bench``: timing, records, the benchmarks and the leaderboard."""
