"""The edge agent on real footage (docs/agent.md): each line direction and zone count of the
agent beside the ground truth's (`truth.py` of the real-footage directory), and its frames
per second beside the sequence's true frame rate (real time on one core).

Runs when the footage is there (`$FOOTFALL_REAL_DATA`) and
measures nothing otherwise. `--quick` runs PETS 2009 only."""

from __future__ import annotations

from footfall.agent.evaluation import SEQUENCES, data_dir, evaluate, tolerance
from footfall.benchmarks.report import Row

__all__ = ["run"]


def run(quick: bool = False) -> list[Row]:
    data = data_dir()
    if data is None:
        return []
    rows: list[Row] = []
    names = ["PETS09-S2L1"] if quick else list(SEQUENCES)
    for name in names:
        sequence = SEQUENCES[name]
        result = evaluate(sequence, data)
        for count in result.counts:
            allowed = tolerance(count.kind, count.truth)
            rows.append(
                Row(
                    name=f"{name} {count.trigger} {count.kind}",
                    figure=count.agent,
                    unit="",
                    baseline_name="truth",
                    baseline=count.truth,
                    target=f"within {allowed:g}",
                    ok=count.ok,
                )
            )
        rows.append(
            Row(
                name=f"agent on {name}, one core (frames per CPU second)",
                figure=result.fps,
                unit="fps",
                baseline_name="true frame rate",
                baseline=sequence.fps,
                target=f">= {sequence.fps:g} fps",
                ok=result.fps >= sequence.fps,
            )
        )
        if name == "PETS09-S2L1":
            for what, value in (
                ("recall", result.boxes.recall),
                ("precision", result.boxes.precision),
            ):
                rows.append(
                    Row(
                        name=f"detector {what} on {name} boxes (IoU >= 0.5)",
                        figure=value,
                        unit="",
                        baseline_name="target",
                        baseline=0.85,
                        target=">= 0.85",
                        ok=value >= 0.85,
                    )
                )
    return rows
