"""The edge's one back-off (the sender's retries and the broker session's reconnects)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from footfall.uplink.backoff import Backoff


@given(
    first=st.floats(min_value=0.01, max_value=5),
    factor=st.floats(min_value=1, max_value=100),
    failures=st.integers(min_value=1, max_value=40),
)
def test_doubles_up_to_the_cap_and_starts_again_after_a_success(
    first: float, factor: float, failures: int
) -> None:
    cap = first * factor
    backoff = Backoff(first, cap)
    waits = [backoff.failed() for _ in range(failures)]
    assert waits[0] == first
    for before, after in itertools.pairwise(waits):
        assert after == min(before * 2, cap)
    assert max(waits) <= cap
    backoff.succeeded()
    assert backoff.failed() == first


@pytest.mark.parametrize(("first", "cap"), [(0, 1), (-1, 1), (2, 1)])
def test_refuses_a_schedule_that_cannot_be(first: float, cap: float) -> None:
    with pytest.raises(ValueError, match="back-off"):
        Backoff(first, cap)
