"""Where evaluation footage is, and what a sequence is: video, ground truth, rate, and
the lines and zones to count on.

Footage is research data, never part of the package: it is found through `--data` or
`$FOOTFALL_REAL_DATA` only. A sequence is either one of the three documented ones
(docs/agent.md, looked up by name under that directory) or any folder in MOTChallenge
layout: `seqinfo.ini` (its `frameRate`), `gt/gt.txt`, and a video file in the folder or
the frames in `img1/` (named as `seqinfo.ini`'s `imDir` and `imExt` say).
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ENV", "SEQUENCES", "Line", "Polygon", "Sequence", "data_dir", "find_sequence"]

Line = tuple[int, int, int, int]
Polygon = tuple[tuple[int, int], ...]
ENV = "FOOTFALL_REAL_DATA"
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm")


@dataclass(frozen=True)
class Sequence:
    name: str
    video: str  # a file, or an image pattern such as img1/%06d.jpg (relative to `root`)
    gt: str
    fps: float  # the true rate (PETS 2009's file declares 10; it was recorded at 7)
    lines: dict[str, Line] = field(default_factory=dict)
    zones: dict[str, Polygon] = field(default_factory=dict)
    root: Path | None = None  # where `video` and `gt` are; None: the data directory


SEQUENCES: dict[str, Sequence] = {
    s.name: s
    for s in (
        Sequence(
            "PETS09-S2L1",
            "vtest.avi",
            "PETS09-S2L1/gt/gt.txt",
            7.0,
            # Two lines across the plaza's walkway, drawn downwards (forward = left to
            # right), either side of the lamp post, and the plaza's middle as a zone.
            lines={"west": (300, 180, 300, 400), "east": (560, 170, 560, 420)},
            zones={"plaza": ((360, 215), (560, 205), (600, 330), (380, 340))},
        ),
        Sequence(
            "TUD-Stadtmitte",
            "TUD-Stadtmitte/TUD-Stadtmitte.mp4",
            "TUD-Stadtmitte/gt/gt.txt",
            25.0,
            lines={"centre": (320, 180, 320, 360)},
            zones={"front": ((200, 230), (450, 230), (450, 330), (200, 330))},
        ),
        Sequence(
            "TUD-Campus",
            "TUD-Campus/TUD-Campus.mp4",
            "TUD-Campus/gt/gt.txt",
            25.0,
            lines={"centre": (320, 280, 320, 480)},
            zones={"front": ((250, 330), (450, 330), (450, 480), (250, 480))},
        ),
    )
}


def data_dir(explicit: Path | None = None) -> Path | None:
    """The footage directory: the argument, else $FOOTFALL_REAL_DATA; None when unset
    or not a directory."""
    if explicit is None and os.environ.get(ENV):
        explicit = Path(os.environ[ENV])
    return explicit.resolve() if explicit is not None and explicit.is_dir() else None


def find_sequence(spec: str, data: Path | None) -> Sequence:
    """A documented sequence by name (under `data`), or a MOTChallenge folder by path
    (absolute, or relative to `data` or the working directory)."""
    if spec in SEQUENCES:
        if data is None:
            raise FileNotFoundError(f"{spec}: set --data or ${ENV} to the footage directory")
        return SEQUENCES[spec]
    for folder in [Path(spec)] + ([data / spec] if data is not None else []):
        if (folder / "seqinfo.ini").is_file():
            return mot_folder(folder)
    raise FileNotFoundError(
        f"{spec}: neither one of {', '.join(SEQUENCES)} nor a folder with seqinfo.ini"
    )


def mot_folder(folder: Path) -> Sequence:
    """A sequence in MOTChallenge layout, with no lines or zones yet."""
    info = configparser.ConfigParser()
    info.read(folder / "seqinfo.ini")
    seq = info["Sequence"] if info.has_section("Sequence") else {}
    fps = float(seq.get("frameRate", "25"))
    if not (folder / "gt" / "gt.txt").is_file():
        raise FileNotFoundError(f"{folder}: no gt/gt.txt (the ground truth)")
    videos = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    if videos:
        video = videos[0].name
    else:
        frames = folder / seq.get("imDir", "img1")
        ext = seq.get("imExt", ".jpg")
        first = sorted(frames.glob(f"*{ext}"))[:1] if frames.is_dir() else []
        if not first:
            raise FileNotFoundError(f"{folder}: no video file and no frames in {frames.name}/")
        digits = len(first[0].stem)
        video = f"{frames.name}/%0{digits}d{ext}"
    name = seq.get("name", folder.name)
    return Sequence(name, video, "gt/gt.txt", fps, root=folder.resolve())
