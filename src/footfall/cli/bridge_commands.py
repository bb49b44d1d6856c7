"""`footfall bridge ...`: other systems' events into Footfall (see `footfall.bridge`)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from footfall.cli.output import fail

if TYPE_CHECKING:
    from footfall.bridge.run import FrigateBridge

__all__ = ["bridge_app"]

bridge_app = typer.Typer(
    help="Bridges from other systems (Frigate) to the ingest API.", no_args_is_help=True
)


@bridge_app.command("frigate")
def frigate(
    mqtt: Annotated[
        str,
        typer.Option(
            "--mqtt", help="Frigate's MQTT broker: mqtt://[user:password@]host[:port] or mqtts://."
        ),
    ],
    token: Annotated[str, typer.Option(help="The ingest token of the bridge's location.")],
    server: Annotated[str, typer.Option(help="The Footfall server.")] = "http://127.0.0.1:8000",
    camera_map: Annotated[
        str | None,
        typer.Option(
            "--camera-map",
            help="Channel ids for Frigate cameras: front_door=cam-front,garage=cam-garage "
            "(default: the camera's name).",
        ),
    ] = None,
    topic_prefix: Annotated[
        str, typer.Option(help="Frigate's mqtt.topic_prefix: events come on PREFIX/events.")
    ] = "frigate",
    spool: Annotated[
        Path, typer.Option(help="Events wait here until the server acknowledges them.")
    ] = Path("frigate-bridge-spool.db"),
    client_id: Annotated[
        str,
        typer.Option(help="MQTT client id; the broker keeps this session's messages meanwhile."),
    ] = "footfall-frigate-bridge",
) -> None:
    """Frigate's zone entries and exits (frigate/events) as RegionJoin/RegionLeave events."""
    from footfall import logs
    from footfall.bridge.frigate import parse_camera_map
    from footfall.bridge.run import BridgeOptions, FrigateBridge
    from footfall.config import ConfigError, Settings
    from footfall.domain.broker_url import BrokerURLError, parse_broker_url, topic_prefix_problem

    try:
        logs.configure(Settings.from_env().log_format)
        options = BridgeOptions(
            mqtt=parse_broker_url(mqtt),
            token=token,
            server=server.rstrip("/"),
            spool=spool,
            cameras=parse_camera_map(camera_map),
            topic_prefix=topic_prefix,
            client_id=client_id,
        )
    except (BrokerURLError, ConfigError, ValueError) as exc:
        fail(f"--mqtt: {exc}" if isinstance(exc, BrokerURLError) else str(exc))
    if problem := topic_prefix_problem(topic_prefix):
        fail(f"--topic-prefix {topic_prefix!r}: {problem}")
    if not client_id.strip():
        fail("--client-id must not be empty")
    _run_until_stopped(FrigateBridge(options), options.server)


def _run_until_stopped(bridge: FrigateBridge, server: str) -> None:
    """Run the bridge until SIGTERM or Ctrl-C, then say how much the server took."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        sent = bridge.run(stop)
    except RuntimeError as exc:
        fail(str(exc))
    finally:
        bridge.close()
    print(f"done: {sent} events acknowledged by {server}")
