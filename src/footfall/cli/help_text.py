"""Help that reads as written prose at any terminal width.

Docstrings are wrapped at the source's line length; Typer's rich help keeps those line
breaks, so at another width a sentence breaks in the middle ("... into⏎ another
database"). `as_prose` turns every command's help into paragraphs of single lines before
Typer renders them, so the terminal alone decides where lines break. Blank lines still
separate paragraphs, and a line starting a list item ("- ", "* ") still starts a line.
Text laid out on purpose is kept as it is: from click's no-rewrap marker `\b` to the end
of its paragraph (the endpoint table of `footfall api`).
"""

from __future__ import annotations

import inspect

import typer

__all__ = ["as_prose", "prose"]

_ITEM_STARTS = ("- ", "* ", "• ")


def prose(text: str) -> str:
    """`text` with the line breaks inside each paragraph (but before list items) joined."""
    paragraphs = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        lines: list[str] = []
        laid_out = False  # after a `\b`: the author's line breaks stay
        for line in paragraph.splitlines():
            stripped = line.strip()
            laid_out = laid_out or line.startswith("\b")
            kept = laid_out or stripped.startswith(_ITEM_STARTS)
            if lines and not kept:
                lines[-1] = f"{lines[-1]} {stripped}"
            else:
                lines.append(line if laid_out else stripped)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def as_prose(app: typer.Typer) -> typer.Typer:
    """Every command's and group's help in `app`, recursively, as prose (see `prose`)."""
    for command in app.registered_commands:
        text = command.help or inspect.getdoc(command.callback)
        if isinstance(text, str):
            command.help = prose(text)
    for group in app.registered_groups:
        if isinstance(group.help, str):
            group.help = prose(group.help)
        if group.typer_instance is not None:
            info = group.typer_instance.info
            if isinstance(info.help, str):
                info.help = prose(info.help)
            as_prose(group.typer_instance)
    return app
