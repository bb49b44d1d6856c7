"""`/metrics` as Prometheus' own tools read it: `promtool check metrics` finds nothing, no
`_created` series, every served route labelled by its template, and the business figures
(occupancy, queues, events stored) equal to what the API answers — on both engines."""

from __future__ import annotations

import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families

from footfall.services import occupancy
from footfall.store.db import Database
from tests.conftest import Site
from tests.helpers import Signer, event, ok, post_events, put_config
from tests.needs import require


def _promtool() -> str:
    found = shutil.which("promtool")
    require(found, "promtool is missing: apt-get install prometheus (Debian's package has it)")
    assert found is not None
    return found


def _traffic(http: httpx.Client, db: Database, site: Site) -> tuple[int, int]:
    """A counter at 1 (2 in, 1 out), a queue with one person waiting and one who left."""
    put_config(http, site.ingest_token)
    counter = occupancy.create_counter(
        db,
        location_id=site.location_id,
        name="Shop floor",
        enter=("t-enter",),
        exit_=("t-exit",),
        capacity=40,
    )
    queue = occupancy.create_queue(db, location_id=site.location_id, name="Tills", zone="t-shelf")
    now = datetime.now(UTC)

    def zone(record: int, kind: str, person: int, minutes_ago: float) -> dict[str, object]:
        moment = now - timedelta(minutes=minutes_ago)
        return event(record, trigger="t-shelf", event_type=kind, object_id=person, when=moment)

    batch = [
        event(1, when=now - timedelta(minutes=30)),
        event(2, when=now - timedelta(minutes=20)),
        event(3, trigger="t-exit", when=now - timedelta(minutes=10)),
        zone(4, "RegionJoin", 7, 9),
        zone(5, "RegionLeave", 7, 5),
        zone(6, "RegionJoin", 8, 2),
    ]
    ok(post_events(http, site.ingest_token, batch))
    return counter.id, queue.id


def test_promtool_finds_nothing_to_complain_about(
    http: httpx.Client, db: Database, site: Site
) -> None:
    promtool = _promtool()
    _traffic(http, db, site)
    http.get("/docs")
    http.get("/no/such/path")
    exposition = http.get("/metrics").text
    checked = subprocess.run(
        [promtool, "check", "metrics"],
        input=exposition,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == ""
    assert checked.stderr.strip() == ""
    assert "_created" not in exposition


def _routes(http: httpx.Client) -> set[str]:
    return {
        sample.labels["route"]
        for family in text_string_to_metric_families(http.get("/metrics").text)
        for sample in family.samples
        if "route" in sample.labels
    }


def test_every_served_route_is_labelled_by_its_template(http: httpx.Client) -> None:
    for path in ("/docs", "/openapi.json", "/assets/style.css", "/nope/1"):
        http.get(path)
    expected = {"/docs", "/openapi.json", "/assets/{path}", "unmatched"}
    # A file answer is observed when its last chunk has gone out, which can be just
    # after the client has it: scrape until every request is counted (or time is up).
    deadline = time.monotonic() + 10
    routes = _routes(http)
    while not expected <= routes and time.monotonic() < deadline:
        routes = _routes(http)
    assert expected <= routes
    assert not any(route.startswith("/nope") for route in routes)


def _samples(http: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(http.get("/metrics").text)
        for sample in family.samples
    }


def test_business_figures_equal_the_api(http: httpx.Client, db: Database, site: Site) -> None:
    # Counters live as long as the process: another test's location may have had this id.
    before = _samples(http)
    counter_id, queue_id = _traffic(http, db, site)
    signer = Signer(site.public_key, site.secret)
    where = f"location_id={site.location_id}"
    [counter] = ok(signer.get(http, "/occupancy", where))
    [queue] = ok(signer.get(http, "/queues", where))

    samples = _samples(http)
    location = str(site.location_id)
    of_counter = (
        ("counter_id", str(counter_id)),
        ("location_id", location),
        ("name", "Shop floor"),
    )
    of_queue = (("location_id", location), ("name", "Tills"), ("queue_id", str(queue_id)))
    assert samples[("footfall_occupancy", of_counter)] == counter["occupancy"] == 1
    assert samples[("footfall_occupancy_capacity", of_counter)] == 40
    assert samples[("footfall_queue_length", of_queue)] == queue["length"] == 1
    assert samples[("footfall_queue_wait_seconds", of_queue)] == queue["wait_time"] == 240.0
    stored = "footfall_events_stored_total"
    by_type = {
        labels: count - before.get((name, labels), 0)
        for (name, labels), count in samples.items()
        if name == stored and ("location_id", location) in labels
    }
    by_type = {labels: moved for labels, moved in by_type.items() if moved}
    assert by_type == {
        (("event_type", "TripwireCrossed"), ("location_id", location)): 3,
        (("event_type", "RegionJoin"), ("location_id", location)): 2,
        (("event_type", "RegionLeave"), ("location_id", location)): 1,
    }
