"""Run the agent's accuracy benchmark on real footage: `python bench/agent_accuracy.py
[--quick]` (needs $FOOTFALL_REAL_DATA or ../shared/data/real)."""

from __future__ import annotations

import sys

from footfall.benchmarks import agent_accuracy
from footfall.benchmarks.report import render

if __name__ == "__main__":
    rows = agent_accuracy.run(quick="--quick" in sys.argv)
    if not rows:
        sys.exit("no real footage: set FOOTFALL_REAL_DATA or put it in ../shared/data/real")
    print(render(rows))
