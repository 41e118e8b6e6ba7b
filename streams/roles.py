"""The processes ``run.py`` starts: embedded (all roles in one process) or one role each.

Each role builds its parts from the frozen settings through factories, runs until the
stop event is set (Ctrl-C / SIGTERM), then closes what it opened.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from config.settings import Settings
from streams.clock import Clock, ScaledClock, SystemClock
from streams.runtime import EngineStage, SourceLoop, build_bus, build_state, run_in_thread
from streams.topics import ALERTS, AVL, CAP_IN, DEAD_LETTER, READINGS_TOPICS, SCORES

log = logging.getLogger(__name__)

ALL_TOPICS = (*READINGS_TOPICS, SCORES, DEAD_LETTER, AVL, ALERTS, CAP_IN)


def _city(settings: Settings) -> Any:
    from config.city import load_city

    t0 = time.perf_counter()
    city = load_city(settings.city, scale=settings.scale, seed=settings.seed,
                     road_network=settings.road_network)
    log.info("city %s: %d sensors in %.1fs", settings.city, len(city.registry),
             time.perf_counter() - t0)
    return city


def _start_ms() -> int:
    return SystemClock().now_ms()


def _simulator_loop(settings: Settings, city: Any, bus: Any, state: Any,
                    stop: threading.Event, clock: Clock) -> SourceLoop:
    from streams.publisher import Publisher
    from streams.sources.simulator import Simulator

    sim = Simulator.from_settings(city, settings, start_ms=clock.now_ms())
    publisher = Publisher(bus, city.registry, settings.partitions)
    return SourceLoop(sim, publisher, clock, settings.tick_s, settings.speed, state, stop)


def _engine_stage(settings: Settings, city: Any, bus: Any, state: Any,
                  clock: Clock) -> EngineStage:
    """Decode → validate → state → anomaly kernels → alert rules → forecasts → asset detectors.

    The forecasting step hands its early warnings straight to the alert engine's
    ``forecast_warnings`` in the same batch; it comes after the alert engine in
    ``after_scoring`` because ``_cap_ingest`` takes ``after_scoring[0]`` as the alert engine.
    The per-asset multivariate detectors raise their ``asset_anomaly`` alerts through the
    alert engine's own service (one store, published like the others).
    """
    from alerts.factory import build_alert_engine
    from models.anomaly.live_assets import LiveAssetDetectors
    from models.engine import Engine
    from models.forecast.live import LiveForecasts
    from streams.validation import Validator

    registry = city.registry
    engine = Engine(registry)
    t0 = time.perf_counter()
    engine.warm()
    log.info("engine kernels warm in %.1fs", time.perf_counter() - t0)
    validator = Validator(registry, int(settings.max_future_s * 1000), clock.now_ms)
    producer = bus.producer()
    alerts = build_alert_engine(settings, city, state, producer, clock)
    forecasts = LiveForecasts.for_city(city, state, sink=alerts.forecast_warnings)
    t0 = time.perf_counter()
    forecasts.warm()
    log.info("forecast kernels warm in %.1fs", time.perf_counter() - t0)
    assets = LiveAssetDetectors(city, state, alerts=alerts.service)
    t0 = time.perf_counter()
    assets.warm()
    log.info("asset detectors: %d assets, kernels warm in %.1fs", len(assets.assets),
             time.perf_counter() - t0)
    return EngineStage(registry, state, producer, engine, validator,
                       after_scoring=[alerts, forecasts, assets])


def _cap_ingest(bus: Any, stage: EngineStage, state: Any, stop: threading.Event
                ) -> threading.Thread:
    """CAP 1.2 messages from the CAP_IN topic become alerts (bad ones are dead-lettered)."""
    from alerts.cap_ingest import CapIngest, consume

    alerts = stage.after_scoring[0]
    ingest = CapIngest(alerts.service)  # type: ignore[attr-defined]
    return run_in_thread(lambda: consume(bus, ingest, stop, state=state), "cap-ingest")


def _consumer_loop(bus: Any, group: str, stage: EngineStage) -> Any:
    from streams.consumer import ConsumerLoop

    consumer = bus.consumer(group, list(READINGS_TOPICS))
    return ConsumerLoop(consumer, stage.process, stage.flush, clock=SystemClock().now_ms)


def _wait(stop: threading.Event, *threads: threading.Thread) -> None:
    while not stop.is_set():
        stop.wait(0.5)
        for th in threads:
            if not th.is_alive():
                log.error("thread %s ended; stopping", th.name)
                stop.set()


def run_embedded(settings: Settings, stop: threading.Event) -> None:
    """Everything in one process: simulator → bus → engine → state → web."""
    from dashboard.app import Server, create_app
    from dashboard.pages.wall import push_loop

    city = _city(settings)
    bus = build_bus(settings)
    state = build_state(settings)
    bus.create_topics(ALL_TOPICS, settings.partitions)
    clock = ScaledClock(_start_ms(), settings.speed)
    stage = _engine_stage(settings, city, bus, state, clock)
    loop = _consumer_loop(bus, "citycc-engine", stage)
    source = _simulator_loop(settings, city, bus, state, stop, clock)
    web = create_app(settings, state, city, clock, bus=bus)
    wall = push_loop(web)
    if wall is not None:  # the wall pushes as soon as a batch is written, no polling
        stage.on_written = wall.notify
    server = Server(web, settings.host, settings.port)
    threads = [run_in_thread(loop.run, "engine"), run_in_thread(source.run, "simulator"),
               _cap_ingest(bus, stage, state, stop)]
    server.start()
    log.info("serving on http://%s:%d", settings.host, server.port)
    try:
        _wait(stop, *threads)
    finally:
        loop.stop()
        server.shutdown()
        for th in threads:
            th.join(timeout=5)
        bus.close()


def run_simulator(settings: Settings, stop: threading.Event) -> None:
    city = _city(settings)
    bus = build_bus(settings)
    state = build_state(settings)
    bus.create_topics(ALL_TOPICS, settings.partitions)
    clock = ScaledClock(_start_ms(), settings.speed)
    source = _simulator_loop(settings, city, bus, state, stop, clock)
    try:
        source.run()
    finally:
        bus.close()


def run_replay(settings: Settings, stop: threading.Event, datasets: Sequence[str],
               data: Path | None) -> None:
    """Replay recorded data onto the city's sensors (same city settings as the engine)."""
    from streams.publisher import Publisher
    from streams.sources.replay import ReplaySource

    city = _city(settings)
    bus = build_bus(settings)
    state = build_state(settings)
    bus.create_topics(ALL_TOPICS, settings.partitions)
    clock = ScaledClock(_start_ms(), 1.0)
    source = ReplaySource(city.registry, datasets=datasets, speed=settings.speed,
                          start_ms=clock.now_ms(), data_dir=data)
    log.info("replay: %d series mapped onto city sensors, %d without a matching sensor",
             len(source.mapping), len(source.unmapped))
    loop = SourceLoop(source, Publisher(bus, city.registry, settings.partitions), clock,
                      settings.tick_s, 1.0, state, stop)
    try:
        loop.run()
    finally:
        bus.close()


def run_ingest(settings: Settings, stop: threading.Event, mqtt: str, topic: str) -> None:
    from streams.sources.mqtt import MqttBridge

    bus = build_bus(settings)
    bus.create_topics(ALL_TOPICS, settings.partitions)
    host, _, port = mqtt.rpartition(":")
    bridge = MqttBridge(host or "127.0.0.1", int(port), topics=(topic,), producer=bus.producer())
    bridge.start()
    try:
        stop.wait()
    finally:
        bridge.stop()
        bus.close()


def run_engine(settings: Settings, stop: threading.Event, group: str) -> None:
    city = _city(settings)
    bus = build_bus(settings)
    state = build_state(settings)
    bus.create_topics(ALL_TOPICS, settings.partitions)
    stage = _engine_stage(settings, city, bus, state, SystemClock())
    loop = _consumer_loop(bus, group, stage)
    th = run_in_thread(loop.run, "engine")
    cap = _cap_ingest(bus, stage, state, stop)
    try:
        _wait(stop, th, cap)
    finally:
        loop.stop()
        th.join(timeout=10)
        cap.join(timeout=5)
        bus.close()


def run_web(settings: Settings, stop: threading.Event) -> None:
    from dashboard.app import Server, create_app

    city = _city(settings)
    state = build_state(settings)
    web = create_app(settings, state, city, SystemClock())
    server = Server(web, settings.host, settings.port)
    server.start()
    log.info("serving on http://%s:%d", settings.host, server.port)
    try:
        stop.wait()
    finally:
        server.shutdown()
