"""Benchmarks: `python -m bench [stem ...]` runs bench/<stem>.py's main(); each prints ratios against a
reference measured in the same run (never timed assertions in tests)."""
