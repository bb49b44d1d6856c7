"""The CSV guard (docs/feeds: text a spreadsheet would run as a formula is prefixed with
`'`): it looks through leading blanks, line breaks and control characters, and reads the
full-width and small forms of = + - @ as the signs they are. Pure rules, checked with
Hypothesis."""

from __future__ import annotations

import csv
import io
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from footfall.domain.feeds import csv_document

SIGNS = "=+-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b\u2212"
# What may come before the sign: spaces of every kind, line breaks, control characters.
LEADING = st.text(
    st.sampled_from(" \t\r\n\x0b\x0c\x00\x1b\u00a0\u2007\u202f\u3000\u2028\u2029\u200b\ufeff"),
    max_size=6,
)


def header_cell(name: str) -> str:
    rows = list(csv.reader(io.StringIO(csv_document(["t"], [(name, [1])]), newline="")))
    return rows[0][1]


@given(LEADING, st.sampled_from(SIGNS), st.text(max_size=20))
def test_a_formula_behind_blanks_or_in_full_width_is_prefixed(
    leading: str, sign: str, rest: str
) -> None:
    name = leading + sign + rest
    assert header_cell(name) == "'" + name


@given(st.text(max_size=30))
def test_text_is_prefixed_only_when_a_spreadsheet_could_read_a_formula(name: str) -> None:
    significant = name.lstrip(
        "".join(
            c
            for c in set(name)
            if c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Zs", "Zl", "Zp")
        )
    )
    risky = name.startswith(("\t", "\r")) or (
        significant != "" and unicodedata.normalize("NFKC", significant[0]) in "=+-@\u2212"
    )
    assert header_cell(name) == ("'" + name if risky else name)


def test_the_reported_cases_are_prefixed() -> None:
    for name in (" =1+1", "\n=1+1", "\u00a0=1+1", "\uff1d1+1", "\x00=cmd", " \t@SUM(A1)"):
        assert header_cell(name).startswith("'"), name
    assert header_cell("Entrance A") == "Entrance A"
