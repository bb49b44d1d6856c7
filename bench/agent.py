"""Run the agent benchmark: `python bench/agent.py [--quick]`."""

from __future__ import annotations

import sys

from footfall.benchmarks import agent
from footfall.benchmarks.report import render

if __name__ == "__main__":
    print(render(agent.run(quick="--quick" in sys.argv)))
