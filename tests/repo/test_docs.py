"""The documentation links only to files inside the repository or to public URLs: every
relative link of README.md and docs/*.md resolves to a file of the repository (and an
anchor to a heading of it), and no link leaves the checkout (`../shared/...`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_PUBLIC = re.compile(r"^(https?://[^/\s]+\.[^/\s]+|mailto:)")


def links(document: Path) -> list[str]:
    text = _CODE.sub("", _FENCE.sub("", document.read_text()))
    return _LINK.findall(text) + _AUTOLINK.findall(text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(document: Path) -> set[str]:
    text = _FENCE.sub("", document.read_text())
    return {slug(m) for m in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", text, re.MULTILINE)}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves_inside_the_repository_or_is_public(document: Path) -> None:
    found = links(document)
    assert found or document.name != "README.md"
    problems = []
    for target in found:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            if not _PUBLIC.match(target) or re.match(r"https?://(127\.|localhost)", target):
                problems.append(f"{target}: not a public URL")
            continue
        path_part, _, anchor = target.partition("#")
        path_part = path_part.split("?", 1)[0]
        resolved = (document.parent / path_part).resolve() if path_part else document
        try:
            relative = resolved.relative_to(ROOT)
        except ValueError:
            problems.append(f"{target}: leaves the repository")
            continue
        if not resolved.exists():
            problems.append(f"{target}: no such file in the repository")
            continue
        if anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            problems.append(f"{target}: no heading #{anchor} in {relative}")
    assert not problems, f"{document.relative_to(ROOT)}: " + "; ".join(problems)


def test_the_readme_links_the_documentation() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in ("architecture", "api", "agent", "operations", "integrations"):
        assert f"(docs/{name}.md)" in readme
    assert "../shared" not in readme


def test_the_link_checker_catches_what_it_should(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "[a](../shared/DESIGN.md) [b](missing.md) ![c](https://example.com/x.png)\n"
        "```\n[not a link](nowhere.md)\n```\n`[code](nowhere.md)` <https://example.org>\n"
        "## Some Heading: here\n"
    )
    assert links(page) == [
        "../shared/DESIGN.md",
        "missing.md",
        "https://example.com/x.png",
        "https://example.org",
    ]
    assert anchors(page) == {"some-heading-here"}
