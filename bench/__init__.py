"""Benchmarks: each prints the project's figure and, in the same run, its baseline."""
