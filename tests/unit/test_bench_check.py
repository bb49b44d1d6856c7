"""`footfall bench --check`: a ratio target missed twice fails, naming the row; a miss
that a second run meets does not; rows without a target are reported, never enforced.
(The benchmarks are stand-ins here: what is tested is the rule, not a machine's speed.)"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from footfall.benchmarks import suite
from footfall.benchmarks.report import Ratio, Row, render


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
