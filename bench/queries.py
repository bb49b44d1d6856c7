"""Run the read-API latency benchmark: `python bench/queries.py [--quick]`."""

from __future__ import annotations

import sys

from footfall.benchmarks import queries
from footfall.benchmarks.report import render

if __name__ == "__main__":
    print(render(queries.run(quick="--quick" in sys.argv)))
