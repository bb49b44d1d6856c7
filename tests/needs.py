"""Skip locally, fail under CI: one rule for a test whose tool or input is missing.

`.ci/run` installs every tool the suite needs (Chromium, nginx, Mosquitto, Node.js,
promtool), provides every input (the real footage, the reference documents) and sets
CI=1. There a missing one means CI is broken, and a skip would hide it, so the test
fails. On a developer's machine the test is skipped with a reason saying how to get it.

Every test that passed a `require` check is named in a summary section at the end of the
run ("ran with what CI provides"), so a CI log shows that each of them ran rather than
only that nothing failed. Registered as a plugin by tests/conftest.py.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

__all__ = ["require"]

# What the running test required and found; read (and cleared) by the report hook below.
_found: list[str] = []
_PROPERTY = "needs.found"


def require(present: object, missing: str, *, found: str = "") -> None:
    """Go on if `present` is truthy; otherwise fail under CI=1, skip elsewhere.

    `missing` says what is absent and how to get it; `found` names what was used (a
    path, a version) for the summary line.
    """
    if present:
        _found.append(found or str(present))
        return
    if os.environ.get("CI"):  # .ci/run provides it: its absence is a failure there
        pytest.fail(f"{missing} (CI=1: a missing tool or input fails, it does not skip)")
    pytest.skip(missing)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    # Set-up (fixtures) and the test itself have run by the call phase's report.
    if report.when == "call" and _found:
        report.user_properties.append((_PROPERTY, "; ".join(dict.fromkeys(_found))))
    if report.when == "teardown":
        _found.clear()
    return report


_ran: list[tuple[str, str, str]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Runs where reports are gathered (the controller under xdist, which receives the
    # workers' user_properties with each report).
    for name, value in report.user_properties:
        if name == _PROPERTY and report.when == "call":
            _ran.append((report.nodeid, report.outcome, str(value)))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _ran:
        return
    terminalreporter.section("ran with what CI provides")
    for nodeid, outcome, value in sorted(_ran):
        terminalreporter.write_line(f"{outcome.upper()} {nodeid} (used {value})")
