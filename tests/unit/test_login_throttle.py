"""The sign-in back-off rule with a fake clock."""

from __future__ import annotations

from footfall.web.throttle import Budget, LoginThrottle


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_back_off_doubles_up_to_the_cap_and_is_forgotten_after_quiet() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock, per_address=Budget(free=2, max_wait=10), forget_after=60)
    waits = []
    for _ in range(8):
        throttle.failed("a")
        waits.append(throttle.retry_after("a"))
    assert waits == [None, None, 1, 2, 4, 8, 10, 10]
    assert throttle.retry_after("b") is None
    clock.now += 10
    assert throttle.retry_after("a") is None
    throttle.failed("a")
    assert throttle.retry_after("a") == 10  # still counting
    clock.now += 71
    throttle.failed("a")
    assert throttle.retry_after("a") is None  # forgotten after 60 s without failures


def test_the_global_budget_holds_back_every_address() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock, everyone=Budget(free=3, max_wait=5))
    for n in range(4):
        throttle.failed(f"10.0.0.{n}")
    assert throttle.retry_after("192.0.2.1") == 1
    throttle.succeeded("10.0.0.3")  # a success clears its address only
    assert throttle.retry_after("192.0.2.1") == 1
    for _ in range(10_000):
        throttle.failed("flood")
    assert throttle.retry_after("192.0.2.1") == 5


def test_memory_stays_bounded() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock, max_tracked=100)
    for n in range(10_000):
        throttle.failed(f"addr-{n}")
    assert len(throttle._records) <= 101
