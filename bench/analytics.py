"""Run the histogram benchmark: `python bench/analytics.py [--quick]`."""

from __future__ import annotations

import sys

from footfall.benchmarks import analytics
from footfall.benchmarks.report import render

if __name__ == "__main__":
    print(render(analytics.run(quick="--quick" in sys.argv)))
