"""`footfall --help` and every command's help read as written prose at 80 columns: no line
is broken where the docstring happened to be wrapped in the source, only where the next
word does not fit (a greedy wrap), and each paragraph of the help is there."""

from __future__ import annotations

import itertools
import re

import pytest
import typer
from typer.testing import CliRunner

from footfall.cli.help_text import prose
from footfall.cli.main import app

WIDTH = 80
runner = CliRunner()


def _command_paths() -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = [()]
    root = typer.main.get_command(app)

    def walk(command: object, path: tuple[str, ...]) -> None:
        # Typer's groups (whichever click they are built on) list their `commands`.
        for name, sub in getattr(command, "commands", {}).items():
            paths.append((*path, name))
            walk(sub, (*path, name))

    walk(root, ())
    return paths


PATHS = _command_paths()


def _render(path: tuple[str, ...]) -> list[str]:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": str(WIDTH)}, color=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= WIDTH, result.output
    return lines


def _cells(lines: list[str]) -> list[tuple[int, list[str]]]:
    """The runs of text that wrap as one paragraph, with the width they wrap at: the
    description above the panels (the page less a margin each side), and in each panel
    every row's last column, a command's or option's help (the box's inside less the
    columns to its left)."""
    blocks: list[tuple[int, list[str]]] = []
    description: list[str] = []
    in_panel = False
    column = 0
    for line in lines:
        if line.startswith("╭"):
            in_panel, column = True, 0
            continue
        if line.startswith("╰"):
            in_panel = False
            continue
        if not in_panel:
            if line.strip() and not line.lstrip().startswith("Usage:"):
                description.append(line.strip())
            elif description:
                blocks.append((WIDTH - 2, description))
                description = []
            continue
        inner = line[2:-2]
        if not column:  # the help column starts after the name (and type) columns
            found = re.search(r"<[^>]*>\s+" if "<" in inner else r"^\S+\s{2,}", inner)
            column = found.end() if found else 0
        if inner[:column].strip():  # a new row: a new cell
            blocks.append((len(inner) - column, [inner[column:].rstrip()]))
        elif blocks:
            blocks[-1][1].append(inner[column:].rstrip())
    if description:
        blocks.append((WIDTH - 2, description))
    return blocks


def _broken_mid_sentence(width: int, block: list[str]) -> list[str]:
    """Lines that end although the next word would have fit on them."""
    broken = []
    for line, following in itertools.pairwise(block):
        # Typer's own "[required]" and "[default: ...]" go on a line of their own.
        if not following.strip() or following.lstrip().startswith(("-", "*", "•", "[")):
            continue
        if len(line) + 1 + len(following.split()[0]) <= width:
            broken.append(f"{line!r} | {following!r}")
    return broken


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(("footfall", *p)))
def test_help_is_prose_at_80_columns(path: tuple[str, ...]) -> None:
    lines = _render(path)
    problems = [p for width, block in _cells(lines) for p in _broken_mid_sentence(width, block)]
    assert not problems, "\n".join(["", *lines, "broken mid-sentence:", *problems])


def test_prose_joins_wrapped_lines_and_keeps_paragraphs_and_items() -> None:
    text = """First sentence wrapped
    here.

    Second paragraph:
    - one item
      that wraps
    - another"""
    assert prose(text) == (
        "First sentence wrapped here.\n\nSecond paragraph:\n- one item that wraps\n- another"
    )


def test_prose_keeps_what_is_laid_out_after_clicks_no_rewrap_marker() -> None:
    text = "Intro that\nwraps.\n\nEndpoints:\n\b\nevents: Events\n  --limit At most\n  --since From"
    assert prose(text) == (
        "Intro that wraps.\n\nEndpoints:\n\b\nevents: Events\n  --limit At most\n  --since From"
    )
