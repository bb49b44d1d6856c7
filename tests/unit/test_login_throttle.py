"""The sign-in back-off rule with a fake clock."""

from __future__ import annotations

from footfall.web.throttle import Budget, LoginThrottle, address_key


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


def test_no_number_of_failures_elsewhere_holds_back_an_address() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    for n in range(20_000):
        throttle.failed(f"10.0.{n // 256}.{n % 256}")
    for _ in range(10_000):
        throttle.failed("flood")
    assert throttle.retry_after("192.0.2.1") is None
    assert throttle.retry_after("flood") == 900


def test_an_ipv6_client_counts_by_its_slash_64() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock, per_address=Budget(free=2, max_wait=10))
    for n in range(3):
        throttle.failed(f"2001:db8:aa:bb::{n + 1}")
    assert throttle.retry_after("2001:db8:aa:bb:ffff::1") == 1
    assert throttle.retry_after("2001:db8:aa:bc::1") is None
    throttle.failed("::ffff:192.0.2.7")  # an IPv4-mapped address is its IPv4 address
    assert address_key("::ffff:192.0.2.7") == address_key("192.0.2.7") == "192.0.2.7"


def test_memory_stays_bounded() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock, max_tracked=100)
    for n in range(10_000):
        throttle.failed(f"addr-{n}")
    assert len(throttle._records) <= 101
