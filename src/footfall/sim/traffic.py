"""Traffic a store manager would recognise, generated deterministically per local day.

`day_events(day, zone, seed)` returns every event of that local day, sorted by time: the
same seed and day always give the same events (and the same record ids), so a resend or a
re-run never duplicates anything. The model:

- The shop opens 08:00-21:00 (Sundays 10:00-18:00) local time; nobody arrives at night.
  Arrivals follow a daily curve (a lunch and an evening peak) and a weekly one (Saturday
  busiest), as a Poisson process per hour.
- Each visitor crosses Enter, appears in the entrance scene (some as a Face with age range
  and gender), may visit the two shelf zones (log-normal dwell; Loitering past 5 minutes),
  may queue at the checkout (two tills at peak, one otherwise, so queues build at peak;
  CrowdOn/Off when five or more wait), crosses Served, and always leaves: Exit and
  ObjectDisappear. Two entries within a second raise Tailgating.
- Zones report MotionInRegionOn/Off when they go from empty to occupied and back.
- The car park (07:00-23:00) sees cars, trucks, motorcycles and bicycles crossing in and
  out and parking (a zone); once in a while a camera reports Sabotage.

Every RegionJoin has its RegionLeave by the same object, every stay is under 4 hours, and
everything that enters leaves.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Final

from footfall.domain.times import to_ms
from footfall.sim.layout import CHANNEL_OF, T

__all__ = ["SimEvent", "day_events"]

_WEEKDAY_FACTOR: Final = (0.8, 0.85, 0.9, 1.0, 1.15, 1.4, 0.7)  # Monday first
_VISITORS_PER_DAY: Final = 1200
_AGE_RANGES: Final = ("18 - 25", "26 - 35", "36 - 45", "46 - 55", "56 - 65", "65+")
_VEHICLES: Final = (("Car", 0.85), ("Truck", 0.05), ("Bicycle", 0.07), ("Motorcycle", 0.03))
_CROWD: Final = 5
_MAX_STAY_MS: Final = 3 * 3600 * 1000  # well under the 4-hour histogram cut-off


@dataclass(frozen=True, order=True)
class SimEvent:
    time_ms: int
    record_id: int
    event_type: str
    trigger_id: str
    object_id: int = -1
    origin: str = "Unknown"
    suborigin: str = ""
    age_range: str = ""
    gender: str = ""

    @property
    def channel_id(self) -> str:
        return CHANNEL_OF[self.trigger_id]


def _opening(day: date) -> tuple[int, int]:
    return (10, 18) if day.weekday() == 6 else (8, 21)


def _hour_weight(hour: float) -> float:
    return (
        0.35
        + math.exp(-(((hour - 12.5) / 1.3) ** 2))
        + 1.2 * math.exp(-(((hour - 17.5) / 1.5) ** 2))
    )


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method in slices keeps exp(-mean) representable for large means.
    count = 0
    while mean > 30:
        count += round(rng.gauss(30, math.sqrt(30)))
        mean -= 30
    limit, product = math.exp(-mean), rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return max(0, count)


def _lognormal_ms(rng: random.Random, median_s: float, sigma: float, cap_s: float) -> int:
    return int(min(cap_s, median_s * math.exp(rng.gauss(0, sigma))) * 1000)


class _Day:
    """Builds one day's events; record ids and object ids are numbered in creation order."""

    def __init__(self, day: date, zone: tzinfo, seed: int) -> None:
        self.day = day
        self.zone = zone
        self.rng = random.Random(f"footfall-sim:{seed}:{day.isoformat()}")
        self.events: list[SimEvent] = []
        self._record_base = (seed % 1000) * 10**12 + day.toordinal() * 10**6
        self._object_base = (day.toordinal() % 1000) * 100_000
        self._objects = 0

    def local_ms(self, hour: int, minute: int = 0) -> int:
        return to_ms(datetime.combine(self.day, time(hour, minute), tzinfo=self.zone))

    def new_object(self) -> int:
        self._objects += 1
        return self._object_base + self._objects

    def add(
        self,
        when: int,
        kind: str,
        trigger: str,
        obj: int = -1,
        origin: str = "Unknown",
        suborigin: str = "",
        age_range: str = "",
        gender: str = "",
    ) -> None:
        record_id = self._record_base + len(self.events)
        self.events.append(
            SimEvent(when, record_id, kind, trigger, obj, origin, suborigin, age_range, gender)
        )

    def arrivals(self, start_hour: int, end_hour: int, per_day: float) -> list[int]:
        """Arrival instants (ms) between the local hours, following the daily curve."""
        weights = [_hour_weight(h + 0.5) for h in range(start_hour, end_hour)]
        total = sum(weights)
        times: list[int] = []
        for hour, weight in zip(range(start_hour, end_hour), weights, strict=True):
            begin = self.local_ms(hour)
            span = self.local_ms(hour + 1) - begin  # opening hours end by 23:00
            for _ in range(_poisson(self.rng, per_day * weight / total)):
                times.append(begin + int(self.rng.random() * span))
        return sorted(times)


def _zone_signals(day: _Day, trigger: str, stays: list[tuple[int, int]]) -> None:
    """MotionInRegionOn/Off (and CrowdOn/Off for the queue) from the zone's stays."""
    changes = sorted([(join, 1) for join, _ in stays] + [(leave, -1) for _, leave in stays])
    inside = 0
    for when, step in changes:
        before, inside = inside, inside + step
        if before == 0 and inside == 1:
            day.add(when, "MotionInRegionOn", trigger)
        elif before == 1 and inside == 0:
            day.add(when, "MotionInRegionOff", trigger)
        if trigger == T.QUEUE:
            if before == _CROWD - 1 and inside == _CROWD:
                day.add(when, "CrowdOn", trigger)
            elif before == _CROWD and inside == _CROWD - 1:
                day.add(when, "CrowdOff", trigger)


def _stay(
    day: _Day,
    trigger: str,
    obj: int,
    join: int,
    leave: int,
    origin: str,
    suborigin: str,
    stays: list[tuple[int, int]],
) -> None:
    day.add(join, "RegionJoin", trigger, obj, origin, suborigin)
    day.add(leave, "RegionLeave", trigger, obj, origin, suborigin)
    if trigger != T.QUEUE and leave - join > 300_000:
        day.add(join + 300_000, "Loitering", trigger, obj, origin, suborigin)
    stays.append((join, leave))


def _shoppers(day: _Day) -> None:
    rng = day.rng
    opens, closes = _opening(day.day)
    per_day = _VISITORS_PER_DAY * _WEEKDAY_FACTOR[day.day.weekday()]
    entries = day.arrivals(opens, closes, per_day)
    shelf_stays: dict[str, list[tuple[int, int]]] = {T.SHELF_A: [], T.SHELF_B: []}
    queue_stays: list[tuple[int, int]] = []
    tills_free = [0, 0]
    buyers: list[tuple[int, int, int]] = []  # (queue arrival, object, planned exit)
    last_entry = -10_000
    for entered in entries:
        obj = day.new_object()
        visit = _lognormal_ms(rng, 18 * 60, 0.6, 2 * 3600)
        leaves_at = entered + max(visit, 60_000)
        day.add(entered, "TripwireCrossed", T.ENTER, obj, "Pedestrian", "Unknown")
        if entered - last_entry < 1000:
            day.add(entered, "Tailgating", T.ENTER, obj, "Pedestrian", "Unknown")
        last_entry = entered
        if rng.random() < 0.3:
            gender = rng.choice(("Male", "Female"))
            day.add(
                entered + 400,
                "ObjectAppear",
                T.ENTRANCE,
                obj,
                "Face",
                "",
                rng.choice(_AGE_RANGES),
                gender,
            )
        else:
            day.add(entered + 400, "ObjectAppear", T.ENTRANCE, obj, "Pedestrian", "Unknown")
        for shelf, chance in ((T.SHELF_A, 0.5), (T.SHELF_B, 0.35)):
            if rng.random() < chance:
                join = entered + 30_000 + int(rng.random() * visit * 0.5)
                leave = join + _lognormal_ms(rng, 90, 0.8, 30 * 60)
                leaves_at = max(leaves_at, leave + 30_000)
                _stay(day, shelf, obj, join, leave, "Pedestrian", "Unknown", shelf_stays[shelf])
        if rng.random() < 0.45:
            buyers.append((max(entered + 60_000, leaves_at - 120_000), obj, leaves_at))
        else:
            _leave(day, obj, leaves_at)
    for arrived, obj, planned_exit in sorted(buyers):
        local_hour = (arrived - day.local_ms(0)) / 3_600_000
        tills = 2 if 11.5 <= local_hour < 14 or 16.5 <= local_hour < 19.5 else 1
        till = min(range(tills), key=lambda i: tills_free[i])
        start = max(arrived, tills_free[till])
        done = start + int(rng.expovariate(1 / 45) * 1000) + 10_000
        tills_free[till] = done
        _stay(day, T.QUEUE, obj, arrived, done, "Pedestrian", "Unknown", queue_stays)
        day.add(done, "TripwireCrossed", T.SERVED, obj, "Pedestrian", "Unknown")
        _leave(day, obj, max(planned_exit, done + 20_000 + int(rng.random() * 100_000)))
    for shelf, stays in shelf_stays.items():
        _zone_signals(day, shelf, stays)
    _zone_signals(day, T.QUEUE, queue_stays)


def _leave(day: _Day, obj: int, when: int) -> None:
    day.add(when, "TripwireCrossed", T.EXIT, obj, "Pedestrian", "Unknown")
    day.add(when + 800, "ObjectDisappear", T.ENTRANCE, obj, "Pedestrian", "Unknown")


def _car_park(day: _Day) -> None:
    rng = day.rng
    per_day = 0.35 * _VISITORS_PER_DAY * _WEEKDAY_FACTOR[day.day.weekday()]
    stays: list[tuple[int, int]] = []
    for arrived in day.arrivals(7, 23, per_day):
        obj = day.new_object()
        kind = rng.choices([k for k, _ in _VEHICLES], [w for _, w in _VEHICLES])[0]
        stay = min(_lognormal_ms(rng, 35 * 60, 0.7, 3 * 3600), _MAX_STAY_MS)
        day.add(arrived, "TripwireCrossed", T.CAR_IN, obj, "Vehicle", kind)
        day.add(arrived + 2000, "ObjectAppear", T.CAR_PARK, obj, "Vehicle", kind)
        _stay(
            day, T.PARKING, obj, arrived + 20_000, arrived + 20_000 + stay, "Vehicle", kind, stays
        )
        departed = arrived + 40_000 + stay
        day.add(departed, "TripwireCrossed", T.CAR_OUT, obj, "Vehicle", kind)
        day.add(departed + 2000, "ObjectDisappear", T.CAR_PARK, obj, "Vehicle", kind)
    _zone_signals(day, T.PARKING, stays)


def _sabotage(day: _Day) -> None:
    if day.rng.random() < 0.15:
        opens, closes = _opening(day.day)
        when = day.local_ms(opens) + int(day.rng.random() * (closes - opens) * 3_600_000)
        day.add(when, "Sabotage", day.rng.choice((T.ENTRANCE, T.FLOOR, T.CAR_PARK)))


def day_events(day: date, zone: tzinfo, seed: int = 0) -> list[SimEvent]:
    """Every event of the local `day` at a store in `zone`, sorted by time."""
    built = _Day(day, zone, seed)
    _shoppers(built)
    _car_park(built)
    _sabotage(built)
    return sorted(built.events)
