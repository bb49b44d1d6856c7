"""The agent measured on real footage against its ground truth (`footfall agent-eval`):
finding the data (`data`), reading lines and zones (`parse`), running and counting
(`evaluate`, `boxes`, `result`) and printing (`render`)."""

from footfall.agent.evaluation.data import ENV, SEQUENCES, Sequence, data_dir, find_sequence
from footfall.agent.evaluation.evaluate import evaluate
from footfall.agent.evaluation.parse import parse_line, parse_zone, with_geometry
from footfall.agent.evaluation.render import render
from footfall.agent.evaluation.result import Count, Evaluation, tolerance

__all__ = [
    "ENV",
    "SEQUENCES",
    "Count",
    "Evaluation",
    "Sequence",
    "data_dir",
    "evaluate",
    "find_sequence",
    "parse_line",
    "parse_zone",
    "render",
    "tolerance",
    "with_geometry",
]
