"""Run the webhook benchmark: `python bench/webhooks.py [--quick]`."""

from __future__ import annotations

import sys

from footfall.benchmarks import webhooks
from footfall.benchmarks.report import render

if __name__ == "__main__":
    print(render(webhooks.run(quick="--quick" in sys.argv)))
