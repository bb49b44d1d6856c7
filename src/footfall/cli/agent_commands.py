"""`footfall agent` (the edge agent) and `footfall agent-eval` (the agent measured on real
footage against its ground truth). Both need the `agent` extra; without it they say how
to install it instead of failing on an import."""

from __future__ import annotations

import json
import logging
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from footfall.cli.common import JsonOption
from footfall.cli.output import emit_table, fail
from footfall.domain.times import format_local

if TYPE_CHECKING:  # the agent's extra may be missing: imported where it is used
    from footfall.agent.evaluation.data import Sequence as Footage

__all__ = ["add_agent_commands"]

EXTRA = "pip install ./shims/opencv-python 'footfall[agent]'"


def add_agent_commands(app: typer.Typer) -> None:
    app.command()(agent)
    app.command("agent-eval")(agent_eval)


def agent(
    config: Annotated[Path, typer.Option("--config", help="The agent's YAML configuration.")],
    preview: Annotated[
        Path | None,
        typer.Option(
            help="Draw the lines and zones on a frame of each source into this PNG, then exit."
        ),
    ] = None,
    dead_letters: Annotated[
        bool,
        typer.Option(
            "--dead-letters",
            help="List the events the server refused (kept in the spool), then exit.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The edge agent: video files, RTSP streams or cameras in, Footfall events out.

    Events the server refuses (422: e.g. a camera clock that reset to 1970) are moved to
    the spool's dead letters and the rest keep flowing; `--dead-letters` lists them."""
    try:
        from footfall.agent.config import ConfigError, load_config
        from footfall.agent.preview import write_preview
        from footfall.agent.run import run_agent
        from footfall.agent.source import SourceError
    except ImportError as exc:
        fail(f"the agent needs its extra: {EXTRA} ({exc.name} is missing)")
    try:
        loaded = load_config(config)
        if dead_letters:
            _print_dead_letters(loaded.spool, as_json=as_json)
            return
        if preview is not None:
            write_preview(loaded, preview)
            print(f"wrote {preview}")
            return
        # The channels log their processing rate (frames of video per CPU second).
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
        sent = run_agent(loaded)
    except (ConfigError, SourceError, OSError) as exc:
        fail(str(exc))
    except RuntimeError as exc:
        fail(str(exc))
    print(f"done: {sent} events acknowledged by {loaded.server}")


def _print_dead_letters(spool_path: Path, *, as_json: bool) -> None:
    from footfall.uplink.spool import Spool

    if not spool_path.exists():
        fail(f"no spool at {spool_path}: the agent has not run with this configuration yet")
    spool = Spool(spool_path)
    try:
        letters = spool.dead_letters()
    finally:
        spool.close()
    rows = [
        {
            "record_id": letter.record_id,
            "refused_at": format_local(letter.refused_at, UTC),
            "event_time": str(letter.event.get("event_time", "")),
            "trigger_id": str(letter.event.get("trigger_id", "")),
            "reason": letter.reason,
        }
        for letter in letters
    ]
    emit_table("dead_letters", rows, as_json=as_json, empty="no dead letters: every event sent")


def agent_eval(
    sequence: Annotated[
        list[str] | None,
        typer.Option(
            "--sequence",
            "-s",
            help="PETS09-S2L1, TUD-Stadtmitte, TUD-Campus, or a folder in MOTChallenge "
            "layout (seqinfo.ini, gt/gt.txt, a video or img1/).",
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(help="The footage directory (default: $FOOTFALL_REAL_DATA)."),
    ] = None,
    frames: Annotated[int | None, typer.Option(help="Only the first N frames.", min=1)] = None,
    line: Annotated[
        list[str] | None, typer.Option(help="NAME=ax,ay,bx,by instead of the documented lines.")
    ] = None,
    zone: Annotated[
        list[str] | None, typer.Option(help="NAME=x1,y1,x2,y2,x3,y3,... instead of the zones.")
    ] = None,
    detector: Annotated[
        str, typer.Option(help="auto (the agent's default), yolo, people (HOG) or motion.")
    ] = "auto",
    as_json: JsonOption = False,
) -> None:
    """The agent on real footage: each line direction and zone beside the ground truth,
    the detector's recall and precision (IoU >= 0.5), and frames handled per CPU second."""
    try:
        from footfall.agent import evaluation as ev
        from footfall.agent.config import ConfigError, DetectorConfig
    except ImportError as exc:
        fail(f"the agent needs its extra: {EXTRA} ({exc.name} is missing)")
    if detector not in ("auto", "yolo", "people", "motion"):
        fail(f"--detector: expected auto, yolo, people or motion, got {detector!r}")
    where = ev.data_dir(data)
    if data is not None and where is None:
        fail(f"--data: {data} is not a directory")
    chosen = _chosen(sequence or list(ev.SEQUENCES), where, line or [], zone or [])
    try:
        results = [
            ev.evaluate(s, where or Path("."), frames=frames, detector=DetectorConfig(detector))
            for s in chosen
        ]
    except (FileNotFoundError, ConfigError) as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps({"results": [r.as_json() for r in results]}))
    else:
        print(ev.render(results))


def _chosen(
    names: list[str], where: Path | None, lines: list[str], zones: list[str]
) -> list[Footage]:
    """The sequences to evaluate, with the lines and zones given on the command line."""
    from footfall.agent import evaluation as ev

    try:
        chosen = [ev.find_sequence(s, where) for s in names]
    except FileNotFoundError as exc:
        fail(f"--sequence {exc}")
    if lines or zones:
        if len(chosen) != 1:
            fail("--line and --zone need exactly one --sequence")
        try:
            chosen = [ev.with_geometry(chosen[0], lines, zones)]
        except ValueError as exc:
            fail(str(exc))
    if not all(s.lines or s.zones for s in chosen):
        fail("--line or --zone: a sequence folder has no documented lines or zones")
    return chosen
