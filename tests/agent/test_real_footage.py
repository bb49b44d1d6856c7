"""The agent on real footage, against its ground truth (docs/agent.md, Measured against
ground truth).

The footage is research data outside the repository: `$FOOTFALL_REAL_DATA`, else
`../shared/data/real` beside the checkout (for developers). Without it these tests skip,
except under CI (`CI` set), where missing footage is a failure: the counts are what the
agent is for. Every count is bounded from both sides (an agent that counts nothing
fails): each line direction within 10 % of the truth (2 when under 20), zone joins within
15 % (3 when under 20), on the documented lines and on others drawn across where people
walk. The detector must find at least 85 % of PETS 2009's people at 85 % precision.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from footfall.agent.evaluation import (
    SEQUENCES,
    Evaluation,
    data_dir,
    evaluate,
    render,
    with_geometry,
)

HERE = Path(__file__).resolve().parents[2]
DATA = data_dir() or data_dir(HERE / ".." / "shared" / "data" / "real")
if DATA is not None and not (DATA / "truth.py").is_file():
    DATA = None
if DATA is None and os.environ.get("CI"):
    pytest.fail("CI: no real footage ($FOOTFALL_REAL_DATA is unset or empty)", pytrace=False)
pytestmark = pytest.mark.skipif(
    DATA is None, reason="no real footage ($FOOTFALL_REAL_DATA or ../shared/data/real)"
)


def run(name: str, lines: list[str] | None = None, zones: list[str] | None = None) -> Evaluation:
    assert DATA is not None
    sequence = SEQUENCES[name]
    if lines or zones:
        sequence = with_geometry(sequence, lines or [], zones or [])
    result = evaluate(sequence, DATA)
    print("\n" + render([result]))
    return result


def test_pets09_counts_and_boxes_hold_against_the_truth() -> None:
    result = run("PETS09-S2L1")
    assert result.frames == 795
    assert [(c.trigger, c.kind) for c in result.counts] == [
        ("west", "forward"),
        ("west", "backward"),
        ("east", "forward"),
        ("east", "backward"),
        ("plaza", "joins"),
    ]
    assert sum(c.truth for c in result.counts) == 89  # 60 crossings, 29 joins
    assert result.ok, render([result])
    assert result.boxes.recall >= 0.85, render([result])
    assert result.boxes.precision >= 0.85, render([result])


def test_pets09_counts_on_lines_and_zones_drawn_elsewhere() -> None:
    # Across the walkway nearer the camera, and a zone on the plaza's far side.
    result = run(
        "PETS09-S2L1",
        lines=["near=420,300,420,520", "mid=200,250,700,250"],
        zones=["far=250,150,550,150,550,250,250,250"],
    )
    assert sum(c.truth for c in result.counts) >= 20
    assert result.ok, render([result])


@pytest.mark.parametrize("name", ["TUD-Stadtmitte", "TUD-Campus"])
def test_tud_clips_count_within_the_tolerances(name: str) -> None:
    result = run(name)
    assert result.frames == {"TUD-Stadtmitte": 179, "TUD-Campus": 71}[name]
    assert len(result.counts) == 3
    assert result.ok, render([result])


def test_tud_stadtmitte_counts_on_a_line_drawn_elsewhere() -> None:
    result = run("TUD-Stadtmitte", lines=["right=450,150,450,400"], zones=[])
    assert result.ok, render([result])
