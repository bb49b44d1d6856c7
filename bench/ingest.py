"""Run the ingest benchmark: `python bench/ingest.py [--quick]`."""

from __future__ import annotations

import sys

from footfall.benchmarks import ingest
from footfall.benchmarks.report import render

if __name__ == "__main__":
    print(render(ingest.run(quick="--quick" in sys.argv)))
