"""Coverage: the seconds a channel was watched, from its heartbeats.

A *mark* is what the server learns about a channel at one epoch second: `ok` (an `ok`
heartbeat, or an events batch carrying the channel, at its latest event of each
quarter-hour) or not ok (a `no_signal` or `sabotage` heartbeat). Two marks on the same
second combine to not ok.

The rule, *the latest mark wins*: second x is covered iff the latest mark in
(x - 90 s, x] is ok. Equivalently each ok mark m covers [m, min(m + 90 s, next mark)):
an ok heartbeat covers the 90 s after it, a later `ok` extends that, and a `no_signal`
or `sabotage` ends it at once. Coverage is a function of the *set* of marks, so the order
heartbeats arrive in, repeats, and events interleaved with heartbeats never change it.

Storage is per channel and UTC quarter-hour: the marks falling in the quarter (text,
`encode_marks`) and the seconds of the quarter covered. A quarter's covered seconds
depend only on its own marks and those of the last 90 s of the quarter before it (a mark
in the next quarter can only cut coverage from that quarter's start on), so adding a mark
at second s changes the quarter holding s and, when s is in its last 90 s, the next one
(`fold`). A quarter's figure counts every second its marks cover, including seconds not
yet passed (an `ok` just now covers the next 90 s); reports up to now use
`covered_seconds` on the marks instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

__all__ = [
    "COVER_S",
    "QUARTER_S",
    "STATUSES",
    "Marks",
    "MarksError",
    "add_mark",
    "appended",
    "covered_seconds",
    "covered_spans",
    "decode_marks",
    "encode_marks",
    "fold",
    "quarter_of",
    "quarters_to_load",
    "state_of",
]

COVER_S: Final = 90  # a channel is covered for 90 s after an ok mark
QUARTER_S: Final = 900
STATUSES: Final = ("ok", "no_signal", "sabotage")

Marks = dict[int, bool]  # epoch second -> ok


class MarksError(ValueError):
    """Stored marks that are not of the form `encode_marks` writes."""


def quarter_of(second: int) -> int:
    return second - second % QUARTER_S


def add_mark(marks: Marks, second: int, ok: bool) -> bool:
    """Add one mark; True when it changed anything (not ok wins on the same second)."""
    before = marks.get(second)
    after = ok if before is None else before and ok
    if before == after:
        return False
    marks[second] = after
    return True


def covered_spans(marks: Mapping[int, bool]) -> list[tuple[int, int]]:
    """The covered seconds as sorted, disjoint [start, end) spans."""
    seconds = sorted(marks)
    spans: list[tuple[int, int]] = []
    for i, second in enumerate(seconds):
        if not marks[second]:
            continue
        end = second + COVER_S
        if i + 1 < len(seconds):
            end = min(end, seconds[i + 1])
        if spans and spans[-1][1] == second:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((second, end))
    return spans


def covered_seconds(marks: Mapping[int, bool], start_s: int, end_s: int) -> int:
    """Seconds of [start_s, end_s) covered, given every mark in [start_s - 89, end_s)
    (earlier marks cannot reach it; later ones cannot cut into it)."""
    relevant = {s: ok for s, ok in marks.items() if start_s - COVER_S < s < end_s}
    return sum(max(0, min(b, end_s) - max(a, start_s)) for a, b in covered_spans(relevant))


def state_of(covered_s: int, length_s: int) -> str:
    """`complete`, `partial` or `none` for a span of `length_s` seconds."""
    if covered_s <= 0:
        return "none"
    return "complete" if covered_s >= length_s else "partial"


def encode_marks(marks: Mapping[int, bool], quarter_s: int) -> str:
    """A quarter's marks as text: offsets in seconds from its start, ascending, comma
    separated, a not-ok mark suffixed with `x` (e.g. `0,30,45x,60`)."""
    return ",".join(
        f"{second - quarter_s}{'' if marks[second] else 'x'}" for second in sorted(marks)
    )


def decode_marks(text: str, quarter_s: int) -> Marks:
    """The marks `encode_marks` wrote for the quarter starting at `quarter_s`."""
    marks: Marks = {}
    if not text:
        return marks
    for token in text.split(","):
        ok = not token.endswith("x")
        digits = token if ok else token[:-1]
        if not digits.isascii() or not digits.isdigit() or int(digits) >= QUARTER_S:
            raise MarksError(f"stored coverage marks {text[:40]!r}: bad mark {token!r}")
        add_mark(marks, quarter_s + int(digits), ok)
    return marks


def appended(text: str, quarter_s: int, covered_s: int, second: int) -> tuple[str, int] | None:
    """A quarter's marks text and covered seconds after one more ok mark at `second`, when
    that mark is later than every mark of the quarter and not in its last 90 s (an events
    batch of the latest second, the usual case); None otherwise (then `fold`).

    Such a mark changes nothing before the quarter's last mark L, reaches no other quarter,
    and within the quarter covers 90 s of its own: it adds 90 s when L is not ok, and the
    seconds from L's 90 s to its own when L is ok. So the text is appended to and the figure
    moved, without reading the quarter's other marks (a quarter may hold 900)."""
    if not text or not 0 <= covered_s <= QUARTER_S:
        return None
    if not quarter_s <= second < quarter_s + QUARTER_S - COVER_S:
        return None
    token = text[text.rfind(",") + 1 :]
    ok = not token.endswith("x")
    digits = token if ok else token[:-1]
    if not digits.isascii() or not digits.isdigit() or int(digits) >= QUARTER_S:
        return None
    last = quarter_s + int(digits)
    if second <= last:
        return None
    gained = min(last + COVER_S, second) - last if ok else COVER_S
    return f"{text},{second - quarter_s}", covered_s + gained


def quarters_to_load(seconds: Iterable[int]) -> set[int]:
    """The quarters `fold` needs for marks at these seconds: each one's quarter, the one
    before (its last 90 s reach in) and the one after (which the mark may reach)."""
    out: set[int] = set()
    for second in seconds:
        quarter = quarter_of(second)
        out.update((quarter - QUARTER_S, quarter, quarter + QUARTER_S))
    return out


def fold(
    stored: Mapping[int, Mapping[int, bool]], new: Mapping[int, bool]
) -> dict[int, tuple[Marks, int]]:
    """Add `new` marks to the stored ones (quarter start -> its marks, for at least
    `quarters_to_load(new)`); returns every quarter whose row changes, with its marks
    and covered seconds."""
    merged: dict[int, Marks] = {q: dict(m) for q, m in stored.items()}
    affected: set[int] = set()
    for second, ok in new.items():
        quarter = quarter_of(second)
        if add_mark(merged.setdefault(quarter, {}), second, ok):
            affected.add(quarter)
            if second - quarter >= QUARTER_S - COVER_S:
                affected.add(quarter + QUARTER_S)
    out: dict[int, tuple[Marks, int]] = {}
    for quarter in sorted(affected):
        window = {**merged.get(quarter - QUARTER_S, {}), **merged.get(quarter, {})}
        out[quarter] = (
            merged.get(quarter, {}),
            covered_seconds(window, quarter, quarter + QUARTER_S),
        )
    return out
