"""Covered seconds per quarter from heartbeats against a brute-force reference.

The reference reads the rule literally, second by second: x is covered iff the latest
mark in (x - 90, x] is ok (two marks on one second: not ok). The properties draw marks
around the places where the rule has edges (quarter boundaries, 90 s apart, equal
seconds, not-ok marks inside a covered stretch), deliver them in random batches and
orders through `fold` as ingest does, and compare every quarter's stored figure, and any
span's `covered_seconds`, with the reference.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from footfall.domain.coverage import (
    COVER_S,
    QUARTER_S,
    MarksError,
    add_mark,
    appended,
    covered_seconds,
    covered_spans,
    decode_marks,
    encode_marks,
    fold,
    quarter_of,
    quarters_to_load,
    state_of,
)

BASE = 1_764_000_000  # a quarter-hour boundary (epoch seconds)
assert BASE % QUARTER_S == 0


def reference_covered(marks: Mapping[int, bool], second: int) -> bool:
    window = [m for m in marks if second - COVER_S < m <= second]
    return bool(window) and marks[max(window)]


def reference_seconds(marks: Mapping[int, bool], start: int, end: int) -> int:
    return sum(reference_covered(marks, x) for x in range(start, end))


def combined(batches: list[list[tuple[int, bool]]]) -> dict[int, bool]:
    out: dict[int, bool] = {}
    for batch in batches:
        for second, ok in batch:
            add_mark(out, second, ok)
    return out


# Seconds near the edges: quarter boundaries and the 90 s before and after them.
edge_seconds = st.one_of(
    st.integers(BASE - 200, BASE + 3 * QUARTER_S + 200),
    st.sampled_from(
        [BASE + q * QUARTER_S + d for q in range(4) for d in (-COVER_S, -1, 0, 1, COVER_S - 1)]
    ),
)
marks_strategy = st.lists(
    st.tuples(edge_seconds, st.sampled_from([True, True, True, False])),  # mostly ok
    max_size=40,
)
batches_strategy = st.lists(marks_strategy, min_size=1, max_size=6)


def store_by_folding(
    batches: list[list[tuple[int, bool]]],
) -> dict[int, tuple[dict[int, bool], int]]:
    """What the database holds after ingest folded each batch in turn."""
    rows: dict[int, tuple[dict[int, bool], int]] = {}
    for batch in batches:
        new: dict[int, bool] = {}
        for second, ok in batch:
            add_mark(new, second, ok)
        loaded = {q: rows[q][0] for q in quarters_to_load(new) if q in rows}
        for quarter, (marks, covered) in fold(loaded, new).items():
            rows[quarter] = (dict(marks), covered)
    return rows


@settings(max_examples=300, deadline=None)
@given(batches_strategy)
def test_every_stored_quarter_equals_the_reference(batches: list[list[tuple[int, bool]]]) -> None:
    rows = store_by_folding(batches)
    everything = combined(batches)
    assert {s for q in rows for s in rows[q][0]} == set(everything)
    for quarter, (marks, covered) in rows.items():
        assert all(quarter_of(s) == quarter for s in marks)
        assert covered == reference_seconds(everything, quarter, quarter + QUARTER_S)
    # A quarter without a row is one no mark reaches.
    for quarter in range(BASE - QUARTER_S, BASE + 5 * QUARTER_S, QUARTER_S):
        if quarter not in rows:
            assert reference_seconds(everything, quarter, quarter + QUARTER_S) == 0


@settings(max_examples=200, deadline=None)
@given(batches_strategy, st.randoms(use_true_random=False))
def test_arrival_order_and_repeats_change_nothing(
    batches: list[list[tuple[int, bool]]], rng: object
) -> None:
    import random

    assert isinstance(rng, random.Random)
    flat = [m for batch in batches for m in batch]
    shuffled = flat + rng.sample(flat, k=len(flat) // 2)  # repeats too
    rng.shuffle(shuffled)
    regrouped = [shuffled[i : i + 3] for i in range(0, len(shuffled), 3)] or [[]]
    first = {q: c for q, (_, c) in store_by_folding(batches).items() if c}
    second = {q: c for q, (_, c) in store_by_folding(regrouped).items() if c}
    assert first == second


@settings(max_examples=300, deadline=None)
@given(marks_strategy, edge_seconds, st.integers(0, 2 * QUARTER_S))
def test_covered_seconds_of_any_span_equals_the_reference(
    marks: list[tuple[int, bool]], start: int, length: int
) -> None:
    everything = combined([marks])
    assert covered_seconds(everything, start, start + length) == reference_seconds(
        everything, start, start + length
    )


@given(marks_strategy)
def test_spans_are_sorted_and_disjoint(marks: list[tuple[int, bool]]) -> None:
    spans = covered_spans(combined([marks]))
    for (a, b), (c, _d) in itertools.pairwise(spans):
        assert a < b < c  # touching spans are merged


@given(marks_strategy)
def test_marks_round_trip_through_their_text(marks: list[tuple[int, bool]]) -> None:
    everything = combined([marks])
    for quarter in {quarter_of(s) for s in everything}:
        mine = {s: ok for s, ok in everything.items() if quarter_of(s) == quarter}
        assert decode_marks(encode_marks(mine, quarter), quarter) == mine


def test_the_rule_by_example() -> None:
    ok_then_silent = {BASE: True}
    assert covered_seconds(ok_then_silent, BASE, BASE + QUARTER_S) == 90
    every_30_s = {BASE + k * 30: True for k in range(30)}  # a whole quarter of heartbeats
    assert covered_seconds(every_30_s, BASE, BASE + QUARTER_S) == QUARTER_S
    # no_signal at +45 s ends the coverage at once; the next ok at +60 s resumes it.
    cut = {BASE: True, BASE + 30: True, BASE + 45: False, BASE + 60: True}
    assert covered_seconds(cut, BASE, BASE + 200) == 45 + 90
    # The same second ok and sabotaged: not ok.
    both = {BASE: True}
    add_mark(both, BASE, False)
    assert covered_seconds(both, BASE, BASE + 100) == 0
    # An ok in the last 30 s of a quarter reaches 60 s into the next one.
    late = {BASE + QUARTER_S - 30: True}
    folded = fold({}, late)
    assert {q: c for q, (_, c) in folded.items()} == {BASE: 30, BASE + QUARTER_S: 60}
    assert state_of(0, 3600) == "none"
    assert state_of(1, 3600) == "partial"
    assert state_of(3600, 3600) == "complete"


def test_stored_marks_that_are_not_marks_are_refused() -> None:
    for text in ("1,,2", "900", "-5", "12y", "٣"):
        with pytest.raises(MarksError):
            decode_marks(text, BASE)
    assert decode_marks("", BASE) == {}
    assert decode_marks("0,899x", BASE) == {BASE: True, BASE + 899: False}


@settings(max_examples=300, deadline=None)
@given(batches_strategy, st.integers(BASE - 200, BASE + 3 * QUARTER_S + 200), st.integers(1, 200))
def test_a_latest_ok_mark_appended_gives_what_folding_gives(
    batches: list[list[tuple[int, bool]]], second: int, after: int
) -> None:
    """`appended` (ingest's shortcut for a batch's latest second) either declines or
    writes exactly the row `fold` writes, and then `fold` changes no other quarter. The
    mark is anywhere, or `after` seconds past the last mark of a quarter (the usual)."""
    rows = store_by_folding(batches)
    with_marks = sorted(q for q, (marks, _) in rows.items() if marks)
    if with_marks and after % 2:
        second = max(rows[with_marks[after % len(with_marks)]][0]) + after
    quarter = quarter_of(second)
    if quarter not in rows:
        return
    marks, covered = rows[quarter]
    shortcut = appended(encode_marks(marks, quarter), quarter, covered, second)
    if shortcut is None:
        return
    loaded = {q: rows[q][0] for q in quarters_to_load({second: True}) if q in rows}
    folded = fold(loaded, {second: True})
    assert set(folded) == {quarter}
    assert shortcut == (encode_marks(folded[quarter][0], quarter), folded[quarter][1])
