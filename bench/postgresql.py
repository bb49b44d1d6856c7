"""Run the PostgreSQL benchmarks: `python bench/postgresql.py URL [--quick]`, URL a server
on which the benchmark may create and drop databases (e.g.
postgresql://postgres@127.0.0.1:5432/postgres), or FOOTFALL_BENCH_POSTGRESQL_URL."""

from __future__ import annotations

import os
import sys

from footfall.benchmarks import postgresql
from footfall.benchmarks.report import render

if __name__ == "__main__":
    given = [a for a in sys.argv[1:] if not a.startswith("--")]
    url = given[0] if given else os.environ.get(postgresql.ENV, "")
    if not url:
        sys.exit("usage: python bench/postgresql.py postgresql://user@host:port/db [--quick]")
    print(render(postgresql.run(url, quick="--quick" in sys.argv)))
