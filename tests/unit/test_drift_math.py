"""A line counter's timeline (calibrations and idle resets) against the rules
read literally, on random crossings (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from footfall.domain.occupancy import format_duration, line_timeline, parse_duration

MINUTE = 60_000
BEGIN = 1_764_000_000_000
IDLE = 30 * MINUTE

instants = st.integers(BEGIN - MINUTE, BEGIN + 6 * 60 * MINUTE).map(lambda t: t - t % MINUTE)
moves_strategy = st.dictionaries(instants, st.integers(-3, 3), max_size=30)
calibrations_strategy = st.lists(st.tuples(instants, st.integers(0, 20)), max_size=3).map(
    lambda items: sorted(dict(items).items())
)


def reference(
    moves: dict[int, int], calibrations: list[tuple[int, int]], max_idle: int | None, now: int
) -> tuple[int, list[int]]:
    """(final count, idle reset instants), by walking the minutes one at a time."""
    items = sorted(
        [(t, 0, d) for t, d in moves.items() if t > BEGIN]
        + [(t, 1, v) for t, v in calibrations if t > BEGIN]
    )
    balance, last, resets, position = 0, BEGIN, [], 0
    end = max([now] + [t for t, _, _ in items])
    for minute in range(BEGIN + MINUTE, end + MINUTE, MINUTE):
        # An idle reset is due at last + max_idle when nothing happened in (last, that].
        if max_idle is not None and balance != 0 and minute == last + max_idle:
            happening = position < len(items) and items[position][0] == minute
            if not happening and (minute <= now or position < len(items)):
                resets.append(minute)
                balance = 0
        while position < len(items) and items[position][0] == minute:
            _, kind, amount = items[position]
            balance = balance + amount if kind == 0 else amount
            last = minute
            position += 1
    return max(0, balance), resets


@settings(max_examples=400, deadline=None)
@given(moves_strategy, calibrations_strategy, st.booleans(), instants)
def test_the_timeline_follows_the_rules(
    moves: dict[int, int],
    calibrations: list[tuple[int, int]],
    idle: bool,
    now: int,
) -> None:
    end = max([now, *moves, BEGIN + MINUTE])
    calibrations = [(t, v) for t, v in calibrations if t <= now]  # as the service reads them
    replayed = line_timeline(
        moves,
        BEGIN,
        end,
        calibrations=calibrations,
        max_idle_ms=IDLE if idle else None,
        now=now,
    )
    value, resets = reference(moves, calibrations, IDLE if idle else None, now)
    assert replayed.value == value
    assert [r.at for r in replayed.idle_resets] == resets
    # The shown count changes only where it says, and ends where the value is.
    assert (replayed.changes[-1][1] if replayed.changes else 0) == replayed.value
    assert all(v >= 0 for _, v in replayed.changes)
    if not idle and not calibrations:
        assert replayed.value == max(0, sum(d for t, d in moves.items() if t > BEGIN))


@given(st.integers(1, 24 * 60))
def test_durations_round_trip(minutes: int) -> None:
    ms = minutes * MINUTE
    assert parse_duration(format_duration(ms)) == ms
