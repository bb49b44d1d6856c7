"""Benchmarks: each measures a figure beside a baseline taken in the same run.

The machines are noisy, so every claim is a ratio to something measured seconds apart on
the same machine, never an absolute time alone. `bench/*.py` and `footfall bench` run them.
"""
