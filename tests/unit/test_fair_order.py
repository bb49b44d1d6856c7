"""Round-robin across locations (domain.fair_order): what a tenant with a long backlog
may cost another is one item per round, never its whole backlog."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from footfall.domain.fair_order import interleave

queues_of = st.lists(st.lists(st.integers(), max_size=30), max_size=8)


@given(queues_of)
def test_every_item_comes_once_and_each_queue_keeps_its_order(queues: list[list[int]]) -> None:
    tagged = [[(q, n, item) for n, item in enumerate(queue)] for q, queue in enumerate(queues)]
    out = list(interleave(tagged))
    assert sorted(out) == sorted(x for queue in tagged for x in queue)
    for q, queue in enumerate(tagged):
        assert [x for x in out if x[0] == q] == queue


@given(queues_of)
def test_a_queue_waits_at_most_one_item_of_each_other_queue_per_round(
    queues: list[list[int]],
) -> None:
    tagged = [[(q, n) for n in range(len(queue))] for q, queue in enumerate(queues)]
    out = list(interleave(tagged))
    for position, (q, n) in enumerate(out):
        # Before a queue's n-th item: at most n + 1 items of any other queue (n for the
        # queues after it in the round order).
        before = out[:position]
        for other in range(len(tagged)):
            if other != q:
                assert sum(1 for x in before if x[0] == other) <= n + 1


def test_the_first_round_takes_one_of_each_in_the_order_given() -> None:
    crowded = [f"big-{k}" for k in range(20_000)]
    assert list(interleave([crowded, ["small"], []]))[:3] == ["big-0", "small", "big-1"]
