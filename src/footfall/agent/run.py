"""Run the agent: one thread per channel turns frames into spooled events, one sender
delivers the spool. Files are processed once (unless looped) and the agent exits when
every event is acknowledged; streams run until SIGTERM or Ctrl-C, then the spool drains.

Each channel also spools a heartbeat (docs/agent.md, Heartbeats) at its first frame and then every
`HEARTBEAT_MS` of frame time: `ok`, or `sabotage` while its scene rule says the view is
covered or moved; a stream that stops delivering frames gets a `no_signal` one. Frame
time, not the wall clock, so a file's coverage is the span its frames show."""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType

import cv2

from footfall.agent.config import AgentConfig
from footfall.agent.pipeline import ChannelPipeline
from footfall.agent.rules import SceneRule
from footfall.agent.source import VideoSource
from footfall.uplink.sender import Sender
from footfall.uplink.spool import Spool

__all__ = ["HEARTBEAT_MS", "run_agent", "server_config"]

log = logging.getLogger("footfall.agent")
HEARTBEAT_MS = 30_000
RATE_LOG_FRAMES = 3000  # about two minutes of 25 fps video


def server_config(config: AgentConfig) -> dict[str, object]:
    from footfall import __version__

    return {
        "version": f"footfall-agent {__version__}",
        "channels": [
            {
                "id": c.id,
                "name": c.name,
                "paid": 1,
                "triggers": [{"id": t.id, "name": t.name, "type": t.type} for t in c.triggers],
            }
            for c in config.channels
        ],
    }


def _channel_worker(
    pipeline: ChannelPipeline,
    source: VideoSource,
    spool: Spool,
    stop: threading.Event,
    errors: list[BaseException],
) -> None:
    channel = pipeline.channel.id
    next_beat: int | None = None
    rate = Rate(channel, pipeline.cadence.fps)
    try:
        for frame, t_ms in source.frames():
            if stop.is_set():
                return
            spool.add(pipeline.process(frame, t_ms))
            if next_beat is None or t_ms >= next_beat:
                spool.add_heartbeat(channel, t_ms, _status(pipeline))
                next_beat = t_ms + HEARTBEAT_MS
            rate.frame(pipeline.cadence.every)
        rate.report(pipeline.cadence.every)
        if not source.is_file:  # a stream that ends has lost its signal
            spool.add_heartbeat(channel, int(time.time() * 1000), "no_signal")
    except BaseException as exc:  # reported by the main thread
        errors.append(exc)


class Rate:
    """Logs how many frames of video a channel handles per CPU second of its thread (the
    one core it has), beside the video's own rate, every `RATE_LOG_FRAMES` frames."""

    def __init__(self, channel: str, fps: float) -> None:
        self.channel, self.fps = channel, fps
        self.started = time.thread_time()
        self.frames = 0

    def frame(self, every: int) -> None:
        self.frames += 1
        if self.frames % RATE_LOG_FRAMES == 0:
            self.report(every)

    def report(self, every: int) -> None:
        cpu = time.thread_time() - self.started
        if self.frames and cpu > 0:
            log.info(
                "channel %s: %.1f frames of video per CPU second (the video: %.1f fps), "
                "detecting on every %d. frame",
                self.channel,
                self.frames / cpu,
                self.fps,
                every,
            )


def _status(pipeline: ChannelPipeline) -> str:
    sabotaged = any(isinstance(r, SceneRule) and r.sabotaged for r in pipeline.rules)
    return "sabotage" if sabotaged else "ok"


def run_agent(config: AgentConfig, *, one_thread_per_core: bool = True) -> int:
    """Process every channel; returns how many events the server acknowledged."""
    if one_thread_per_core:
        cv2.setNumThreads(1)  # one core per channel, not a pool fighting over them
    spool = Spool(config.spool)
    sender = Sender(config.server, config.token, spool, server_config(config))
    stop = threading.Event()
    errors: list[BaseException] = []

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    workers = []
    for index, channel in enumerate(config.channels):
        source = VideoSource(channel)
        fps, shape = source.probe()
        pipeline = ChannelPipeline(channel, index, fps, shape)
        workers.append(
            threading.Thread(
                target=_channel_worker,
                args=(pipeline, source, spool, stop, errors),
                name=f"agent-{channel.id}",
                daemon=True,
            )
        )

    def send() -> None:
        try:
            sender.run()
        except BaseException as exc:  # a refusal no retry can fix: stop everything
            errors.append(exc)
            stop.set()

    sending = threading.Thread(target=send, name="agent-sender", daemon=True)
    sending.start()
    for worker in workers:
        worker.start()
    for worker in workers:
        while worker.is_alive():
            worker.join(0.2)
    sender.stop.set()  # files done (or stopped): drain what is spooled, then finish
    while sending.is_alive():
        sending.join(0.2)
    sender.close()
    spool.close()
    if errors:
        raise errors[0]
    return sender.sent
