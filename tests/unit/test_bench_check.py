"""`footfall bench --check`: a ratio target missed twice fails, naming the row; a miss
that a second run meets does not; rows without a target are reported, never enforced; a
row with a pace (the agent's frames per CPU second against the video's fps) is judged
against the pace, not its baseline (docs/benchmarks.md, What `--check` enforces).
(The benchmarks are stand-ins here: what is tested is the rule, not a machine's speed.)"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from footfall.benchmarks import suite
from footfall.benchmarks.agent import agent_row
from footfall.benchmarks.report import Pace, Ratio, Row, render


def row(name: str, figure: float, baseline: float, check: Ratio | None) -> Row:
    return Row(name, figure, "ms", "base", baseline, str(check), True, check=check)


def stand_ins(monkeypatch: pytest.MonkeyPatch, runs: dict[str, list[list[Row]]]) -> dict[str, int]:
    """Each benchmark answers its listed runs in turn; returns how often each ran."""
    calls = dict.fromkeys(runs, 0)

    def answer(name: str) -> Callable[[bool], list[Row]]:
        def run(quick: bool) -> list[Row]:
            assert quick  # --check runs the quick scale
            calls[name] += 1
            return runs[name][calls[name] - 1]

        return run

    monkeypatch.setattr(suite, "BENCHMARKS", {name: answer(name) for name in runs})
    return calls


def test_a_target_missed_twice_fails_naming_the_row(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    slow = [row("histograms", 9.0, 1.0, Ratio(most=3.0))]
    calls = stand_ins(monkeypatch, {"analytics": [slow, slow]})
    missed = suite.check_all()
    assert [r.name for r in missed] == ["histograms"]
    assert calls == {"analytics": 2}
    out = capsys.readouterr().out
    assert "MISSED: histograms: 9.00x base, target <= 3.00x" in out
    assert "0 of 1 ratio targets met" in out


def test_a_miss_met_on_the_second_run_passes_and_others_run_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = stand_ins(
        monkeypatch,
        {
            "ingest": [
                [row("ingest", 20.0, 100.0, Ratio(least=0.3))],
                [row("ingest", 35.0, 100.0, Ratio(least=0.3))],
            ],
            "queries": [[row("page", 2.0, 1.0, Ratio(most=3.0)), row("p95", 50, 1, None)]],
        },
    )
    assert suite.check_all() == []
    assert calls == {"ingest": 2, "queries": 1}
    out = capsys.readouterr().out
    assert "ingest missed (ingest 0.20); running it once more" in out
    assert "2 of 2 ratio targets met" in out


def test_an_agent_slower_than_its_video_fails_naming_the_pace(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # 24 frames per CPU second of a 30 fps video, twice: the stream is not kept up with,
    # however far the decoding baseline is from the figure.
    slow = [
        agent_row("PETS 768x576 (7 fps)", 10.0, 2000.0, 7.0, 1),
        agent_row("PETS at 1080p, 30 fps", 24.0, 300.0, 30.0, 5),
    ]
    calls = stand_ins(monkeypatch, {"agent": [slow, slow]})
    missed = suite.check_all()
    assert [r.name for r in missed] == [
        "agent on PETS at 1080p, 30 fps, one core (every 5. frame detected)"
    ]
    assert calls == {"agent": 2}
    out = capsys.readouterr().out
    assert (
        "agent missed (agent on PETS at 1080p, 30 fps, one core (every 5. frame detected) 0.80)"
        in out
    )
    assert (
        "MISSED: agent on PETS at 1080p, 30 fps, one core (every 5. frame detected): "
        "0.80x the video's 30 fps, target >= 1.00x (figure 24.0 fps)"
    ) in out
    assert "1 of 2 ratio targets met" in out
    # The table still shows decoding as the same run's baseline, and the ratio to it.
    [line] = [x for x in out.splitlines() if x.startswith("agent on PETS at 1080p")]
    assert re.split(r"\s{2,}", line.strip())[1:] == [
        "24.0 fps",
        "300.0 fps (decoding only)",
        "0.08",
        ">= 30 fps per CPU second (the video's rate)",
        "MISSED",
    ]


def test_an_agent_that_keeps_its_video_pace_passes_far_below_decoding(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fast = [agent_row("PETS at 1080p, 30 fps", 30.0, 900.0, 30.0, 6)]
    calls = stand_ins(monkeypatch, {"agent": [fast]})
    assert suite.check_all() == []
    assert calls == {"agent": 1}
    [row] = fast
    assert row.ok
    assert row.ratio < 0.1  # decoding is far faster: not what is judged
    assert row.checked_ratio == 1.0
    assert "1 of 1 ratio targets met" in capsys.readouterr().out


@given(st.floats(0.01, 1e4), st.floats(0.01, 1e4), st.floats(0.1, 240))
def test_a_paced_row_is_judged_by_figure_over_pace_alone(
    figure: float, baseline: float, rate: float
) -> None:
    r = Row("x", figure, "fps", "b", baseline, "", True, Ratio(least=1.0), Pace("p", rate))
    assert r.missed is (figure / rate < 1.0)
    assert r.ratio == figure / baseline  # the table's column: still the baseline's


def test_rows_made_without_a_target_are_reported_only() -> None:
    plain = Row("agent fps", 5.0, "fps", "decode", 500.0, ">= 25 fps", False)
    assert plain.check is None
    assert not plain.missed
    assert "MISSED" in render([plain])  # its own verdict is still shown


@given(
    st.floats(0.01, 1e6),
    st.floats(0.01, 1e6),
    st.one_of(st.none(), st.floats(0.01, 100)),
    st.one_of(st.none(), st.floats(0.01, 100)),
)
def test_a_ratio_is_met_exactly_within_its_bounds(
    figure: float, baseline: float, least: float | None, most: float | None
) -> None:
    r = Row("x", figure, "", "b", baseline, "", True, check=Ratio(least, most))
    inside = (least is None or figure / baseline >= least) and (
        most is None or figure / baseline <= most
    )
    assert r.missed is not inside
    assert ("MISSED" in render([r])) is not inside
