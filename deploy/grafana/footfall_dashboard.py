"""The Footfall Grafana dashboard, built with grafana-foundation-sdk (types for Grafana 10.1).

`PANELS` is the single list of what the dashboard shows: each panel's title, PromQL and
unit. `python deploy/grafana/footfall_dashboard.py` writes `dashboards/footfall.json`
beside this file, which `compose.yaml` provisions into Grafana; the test suite checks that
the committed JSON is what this script writes, and runs every panel's query against a
real Prometheus scraping a live Footfall server.

Queries use `$__rate_interval` (Grafana picks a window of at least four scrape intervals)
and the provisioned data source `prometheus`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import prometheus, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import LegendDisplayMode, LegendPlacement
from grafana_foundation_sdk.models.dashboard import DataSourceRef

__all__ = ["OUTPUT", "PANELS", "Panel", "build", "render"]

OUTPUT = Path(__file__).resolve().parent / "dashboards" / "footfall.json"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")


@dataclass(frozen=True)
class Panel:
    title: str
    description: str
    expr: str
    legend: str
    unit: str


PANELS: tuple[Panel, ...] = (
    Panel(
        "Ingest rate",
        "Events received per second by POST /ingest/v1/events, by outcome.",
        "sum by (outcome) (rate(footfall_ingest_events_total[$__rate_interval]))",
        "{{outcome}}",
        "ops",
    ),
    Panel(
        "Events stored per location",
        "Events newly stored per second, by location and event type.",
        "sum by (location_id, event_type) (rate(footfall_events_stored_total[$__rate_interval]))",
        "location {{location_id}} {{event_type}}",
        "ops",
    ),
    Panel(
        "Request latency (p95)",
        "95th percentile of the time to answer, by route.",
        "histogram_quantile(0.95, sum by (le, route) "
        "(rate(footfall_http_request_duration_seconds_bucket[$__rate_interval])))",
        "{{route}}",
        "s",
    ),
    Panel(
        "Webhook backlog",
        "Webhook deliveries waiting for a first or further attempt.",
        "footfall_webhook_deliveries_pending",
        "pending",
        "short",
    ),
    Panel(
        "Analytics job lag",
        "How long ago the oldest completed hour not yet in the histograms ended.",
        "footfall_analytics_lag_seconds",
        "lag",
        "s",
    ),
    Panel(
        "Occupancy",
        "Each occupancy counter's value now.",
        "footfall_occupancy",
        "{{name}} (location {{location_id}})",
        "short",
    ),
    Panel(
        "Queue length",
        "Objects in each queue's zone now.",
        "footfall_queue_length",
        "{{name}} (location {{location_id}})",
        "short",
    ),
    Panel(
        "Queue wait",
        "Mean stay of the objects that left each queue in the last 15 minutes.",
        "footfall_queue_wait_seconds",
        "{{name}} (location {{location_id}})",
        "s",
    ),
)


def _panel(number: int, panel: Panel) -> timeseries.Panel:
    query = prometheus.Dataquery().ref_id("A").expr(panel.expr).legend_format(panel.legend).range()
    legend = (
        common_builders.VizLegendOptions()
        .show_legend(True)
        .display_mode(LegendDisplayMode.LIST)
        .placement(LegendPlacement.BOTTOM)
    )
    return (
        timeseries.Panel()
        .id(number)
        .title(panel.title)
        .description(panel.description)
        .datasource(DATASOURCE)
        .with_target(query)
        .unit(panel.unit)
        .legend(legend)
        .span(12)
        .height(8)
    )


def build() -> dash.Dashboard:
    board = (
        dash.Dashboard("Footfall")
        .uid("footfall")
        .tags(["footfall"])
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("browser")
    )
    for number, panel in enumerate(PANELS, start=1):
        board = board.with_panel(_panel(number, panel))
    return board


def render() -> str:
    """The dashboard as Grafana's JSON model, stable across runs (sorted keys)."""
    model = json.loads(json.dumps(build().build(), cls=JSONEncoder))
    return json.dumps(model, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT}", file=sys.stderr)
