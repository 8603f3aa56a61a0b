"""Benchmarks: `python -m bench [--quick]` (`make bench`, `QUICK=1` for a short run). Never run by pytest."""
