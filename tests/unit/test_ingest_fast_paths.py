"""The ingest hot path's shortcuts give exactly what the plain rules give (hypothesis).

Each shortcut (checking a clean batch in a few C passes, parsing many instants at once,
counting a batch that lies in one bucket, or from the check's summary, the coverage marks
of a batch in one quarter) is compared with the straightforward code it replaces, on
batches that mix valid and invalid events, one bucket and several.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from footfall.domain.ingest import MS_PER_DAY, EventIn, EventRow, check_batch, check_events
from footfall.domain.ingest.check import check_each
from footfall.domain.times import InstantError, format_local, parse_instant, parse_instants
from footfall.services.coverage import event_marks
from footfall.services.revisions import late_event_marks
from footfall.store.events import MS_PER_QUARTER, rollup_counts


@dataclass(frozen=True)
class Trigger:
    channel_id: str
    type: str


TRIGGERS = {
    "t-in": Trigger("cam", "Line"),
    "t-out": Trigger("cam", "Line"),
    "t-zone": Trigger("floor", "Zone"),
}
NOW = 1_800_000_000_000
INT64 = 2**63

_texts = st.one_of(
    # the agents' shape, near now (inside and outside the accepted window)
    st.integers(-100 * MS_PER_DAY, 20 * 60_000).map(lambda offset: format_local(NOW + offset, UTC)),
    st.sampled_from(
        [
            "2027-01-15T08:00:00Z",
            "2027-01-15T08:00:00.5+05:30",
            "2027-01-15T08:00",  # no offset
            "2027-01-15T08:00:61.000Z",
            "2027-01-15T08:00:0x.000Z",
            "2027-02-30T08:00:00.000Z",
            "not a time",
        ]
    ),
)
_events = st.builds(
    EventIn,
    record_id=st.one_of(st.integers(0, 10**6), st.sampled_from([INT64 - 1, INT64, -INT64 - 1])),
    event_type=st.sampled_from(["TripwireCrossed", "RegionJoin", "RegionLeave", "Sneeze"]),
    trigger_id=st.sampled_from(["t-in", "t-out", "t-zone", "t-gone"]),
    channel_id=st.sampled_from(["cam", "floor"]),
    event_time=_texts,
    object_id=st.integers(-1, 10**6),
    origin=st.sampled_from(["Pedestrian", "Vehicle", "Unknown", "Martian"]),
    suborigin=st.sampled_from(["", "Unknown", "Car"]),
    age_range=st.sampled_from(["", "26 - 35", "x" * 40]),
    gender=st.sampled_from(["", "Male", "Robot"]),
    snapshot_id=st.integers(0, 10**6),
)


_valid_events = st.builds(
    lambda kind, origin, number, offset: EventIn(
        record_id=number,
        event_type=kind[2],
        trigger_id=kind[0],
        channel_id=kind[1],
        event_time=format_local(NOW - offset, UTC),
        object_id=number // 2,
        origin=origin[0],
        suborigin=origin[1],
    ),
    st.sampled_from(
        [("t-in", "cam", "TripwireCrossed"), ("t-out", "cam", "TripwireCrossed"),
         ("t-zone", "floor", "RegionJoin"), ("t-zone", "floor", "RegionLeave")]
    ),
    st.sampled_from([("Pedestrian", ""), ("Pedestrian", "Unknown"), ("Vehicle", "Car")]),
    st.integers(0, 10**6),
    st.integers(0, 60_000),
)  # fmt: skip


@given(
    st.lists(_valid_events, max_size=40),
    st.lists(st.tuples(st.integers(0, 40), _events), max_size=2),
    st.sampled_from([None, 2.0, 90.0]),
)
def test_a_batch_is_checked_as_the_event_by_event_rules_check_it(
    valid: list[EventIn], odd: list[tuple[int, EventIn]], retention_days: float | None
) -> None:
    """Clean batches (the fast path's), and batches with one or two events of any kind."""
    batch: list[EventIn | None] = list(valid)
    for where, event in odd:
        batch.insert(where, event)
    assert check_events(9, batch, TRIGGERS, NOW, retention_days=retention_days) == check_each(
        9, batch, TRIGGERS, NOW, None, retention_days
    )


# Runs of one minute and offset, as a batch holds them, broken by any other text.
_run_texts = st.builds(
    lambda ms, zone: format_local(NOW + ms, zone),
    st.integers(0, 150_000),
    st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=3))]),
)


@given(st.lists(st.one_of(_texts, _run_texts, _run_texts.map(lambda t: t[:-1])), max_size=60))
def test_many_instants_parse_as_each_one_does(texts: list[str]) -> None:
    expected: list[int] | None = []
    for text in texts:
        try:
            expected.append(parse_instant(text))  # type: ignore[union-attr]
        except InstantError:
            expected = None
            break
    assert parse_instants(texts) == expected


@given(st.lists(_valid_events, max_size=40), st.sampled_from([None, 90.0]))
def test_a_clean_batch_is_summed_up_as_its_rows_are(
    valid: list[EventIn], retention_days: float | None
) -> None:
    """The summary the writer's rollups come from (docs/api.md, Events: every stored event
    counted once) says exactly what the rows say."""
    rows, problems, summary = check_batch(
        9, list(valid), TRIGGERS, NOW, retention_days=retention_days
    )
    assert not problems
    assert (summary is None) == (not rows)
    if summary is None:
        return
    times = [r[11] for r in rows]
    assert (summary.first_ms, summary.last_ms) == (min(times), max(times))
    assert summary.attributes == Counter((r[3], r[4], r[2], r[6], r[7], r[9], r[8]) for r in rows)
    for bucket in (MS_PER_QUARTER, 3_600_000):
        plain = Counter((r[11] - r[11] % bucket, r[4], r[3], r[2], r[6]) for r in rows)
        assert rollup_counts(rows, bucket, summary) == plain


@given(
    st.lists(_valid_events, min_size=1, max_size=40),
    st.integers(0, 3 * 3_600_000),
    st.sampled_from(["UTC", "Asia/Kathmandu", "+05:30", "America/St_Johns"]),
)
def test_a_late_batch_marks_the_hours_its_summary_says(
    valid: list[EventIn], late_by: int, timezone: str
) -> None:
    """docs/api.md, Revisions: the hours a late batch revises, from its summary as from
    its rows (zones whose offset is no whole hour included)."""
    rows, _, summary = check_batch(9, list(valid), TRIGGERS, NOW)
    now = NOW + late_by
    assert late_event_marks(9, timezone, rows, now, summary) == late_event_marks(
        9, timezone, rows, now
    )


def _rows(times: list[int], channels: list[str]) -> list[EventRow]:
    return [
        (1, i, "TripwireCrossed", f"t-{c}", c, -1, "Pedestrian", "", "", "", 0, t)
        for i, (t, c) in enumerate(zip(times, channels, strict=False))
    ]


_instants = st.integers(NOW - 3 * MS_PER_QUARTER, NOW + 3 * MS_PER_QUARTER)
_spans = st.one_of(  # one quarter-hour (the usual batch), or several
    st.lists(st.integers(0, 899_999).map(lambda ms: NOW - NOW % MS_PER_QUARTER + ms)),
    st.lists(_instants),
)


@given(_spans, st.lists(st.sampled_from(["a", "b", "c"]), min_size=50, max_size=50))
def test_rollups_count_each_event_once_in_its_bucket(times: list[int], channels: list[str]) -> None:
    rows = _rows(times, channels)
    for bucket in (MS_PER_QUARTER, 3_600_000):
        plain = Counter((r[11] - r[11] % bucket, r[4], r[3], r[2], r[6]) for r in rows)
        assert rollup_counts(rows, bucket) == plain


@given(_spans, st.lists(st.sampled_from(["a", "b", "c"]), min_size=50, max_size=50))
def test_a_batch_marks_each_channel_at_its_latest_event_of_each_quarter(
    times: list[int], channels: list[str]
) -> None:
    rows = _rows(times, channels)
    latest: dict[tuple[str, int], int] = {}
    for row in rows:
        key = (row[4], row[11] // MS_PER_QUARTER)
        latest[key] = max(latest.get(key, row[11]), row[11])
    expected: dict[str, dict[int, bool]] = {}
    for (channel, _quarter), when in latest.items():
        expected.setdefault(channel, {})[when // 1000] = True
    assert event_marks(rows) == expected


def test_the_fast_shape_is_what_agents_send() -> None:
    """The instants the fast paths are for: milliseconds and an offset, as agents send."""
    text = format_local(NOW, UTC)
    assert len(text) == 29
    assert text[19] == "."
    moment = datetime.fromtimestamp(NOW / 1000, UTC) + timedelta(milliseconds=1)
    assert parse_instants([text, moment.isoformat(timespec="milliseconds")]) == [NOW, NOW + 1]
