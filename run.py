"""City Operations Command Center — command line.

``python run.py`` runs everything in one process on 127.0.0.1:8050 (in-process bus and
state, the demo city Fuzhou). Sub-commands run single roles for a scaled-out
deployment on Kafka and Redis, and the batch contracts benchmarks call.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer

REPO = Path(__file__).resolve().parent
os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO / ".numba_cache"))

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    help="City Operations Command Center (城市运行指挥中心). Without a sub-command: everything "
    "embedded on 127.0.0.1:8050.",
)
log = logging.getLogger("citycc")

Host = Annotated[str | None, typer.Option(help="Address to serve on.")]
Port = Annotated[int | None, typer.Option(help="Port to serve on.")]
Bus = Annotated[str | None, typer.Option(help="memory:// or kafka://host:port")]
StateUrl = Annotated[str | None, typer.Option("--state", help="memory:// or redis://host:port/db")]
Scale = Annotated[float | None, typer.Option(help="Multiply the default ~5 000 sensors.")]
Seed = Annotated[int | None, typer.Option(help="Seed of the city and the simulator.")]
Speed = Annotated[float | None, typer.Option(help="Stream seconds per wall-clock second.")]
Scenarios = Annotated[
    str | None, typer.Option(help="Scenario injections, e.g. 'pipe_burst@5,chemical_leak@10' "
                             "(minutes after start).")
]


def _settings(**overrides: Any) -> Any:
    from config.settings import Settings

    s = Settings.from_env(**overrides)
    logging.basicConfig(level=s.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return s


def _install_stop(stop: threading.Event) -> None:
    def handler(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping", signum)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context, host: Host = None, port: Port = None, scale: Scale = None,
    seed: Seed = None, speed: Speed = None, scenarios: Scenarios = None,
    bus: Bus = None, state: StateUrl = None,
) -> None:
    """Run everything embedded (default) when no sub-command is given."""
    if ctx.invoked_subcommand is not None:
        return
    from streams.roles import run_embedded

    settings = _settings(host=host, port=port, scale=scale, seed=seed, speed=speed,
                         scenarios=scenarios, bus=bus, state=state)
    stop = threading.Event()
    _install_stop(stop)
    run_embedded(settings, stop)


@app.command()
def simulate(bus: Bus = None, scale: Scale = None, seed: Seed = None, speed: Speed = None,
             scenarios: Scenarios = None, state: StateUrl = None) -> None:
    """Run the seeded city simulator and publish readings to the bus."""
    from streams.roles import run_simulator

    settings = _settings(bus=bus, scale=scale, seed=seed, speed=speed, scenarios=scenarios,
                         state=state)
    stop = threading.Event()
    _install_stop(stop)
    run_simulator(settings, stop)


@app.command()
def replay(
    bus: Bus = None, speed: Speed = None, state: StateUrl = None,
    datasets: Annotated[str, typer.Option(help="Comma-separated data sets.")] = (
        "nab_traffic,beijing_air,batadal,tep"),
    data: Annotated[Path | None, typer.Option(help="Full data sets folder (default: shipped "
                                              "extracts).")] = None,
) -> None:
    """Replay recorded real data sets onto city sensors at N× speed."""
    from streams.roles import run_replay

    settings = _settings(bus=bus, speed=speed, state=state)
    stop = threading.Event()
    _install_stop(stop)
    run_replay(settings, stop, tuple(d for d in datasets.split(",") if d), data)


@app.command()
def ingest(
    bus: Bus = None, state: StateUrl = None,
    mqtt: Annotated[str, typer.Option(help="MQTT broker host:port")] = "127.0.0.1:1883",
    topic: Annotated[str, typer.Option(help="MQTT topic filter")] = "citycc/#",
) -> None:
    """Bridge sensor messages from an MQTT broker onto the bus."""
    from streams.roles import run_ingest

    settings = _settings(bus=bus, state=state)
    stop = threading.Event()
    _install_stop(stop)
    run_ingest(settings, stop, mqtt, topic)


@app.command()
def engine(
    bus: Bus = None, state: StateUrl = None, scale: Scale = None, seed: Seed = None,
    group: Annotated[str, typer.Option(help="Kafka consumer group.")] = "citycc-engine",
) -> None:
    """Consume readings, score them, write state, scores and dead letters."""
    from streams.roles import run_engine

    settings = _settings(bus=bus, state=state, scale=scale, seed=seed)
    stop = threading.Event()
    _install_stop(stop)
    run_engine(settings, stop, group)


@app.command()
def web(host: Host = None, port: Port = None, state: StateUrl = None, scale: Scale = None,
        seed: Seed = None) -> None:
    """Serve the pages, /healthz and /metrics from the shared state."""
    from streams.roles import run_web

    settings = _settings(host=host, port=port, state=state, scale=scale, seed=seed)
    stop = threading.Event()
    _install_stop(stop)
    run_web(settings, stop)


@app.command()
def detect(
    input: Annotated[Path, typer.Argument(help="NAB-format CSV or a folder tree of them.")],
    output: Annotated[Path, typer.Argument(help="Output CSV or folder.")],
) -> None:
    """Score a CSV (timestamp,value) or a tree of them: adds anomaly_score in [0, 1]."""
    from models.anomaly.batch import detect_path

    t0 = time.perf_counter()
    try:
        n = detect_path(input, output)
    except (ValueError, FileNotFoundError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    typer.echo(f"scored {n} file(s) in {time.perf_counter() - t0:.1f}s -> {output}", err=True)


@app.command()
def forecast(
    input: Annotated[Path, typer.Argument(help="NAB-format CSV or a folder tree of them.")],
    output: Annotated[Path, typer.Argument(help="Output CSV or folder.")],
    horizon: Annotated[int, typer.Option(min=1, max=10_000, help="Steps ahead.")] = 12,
) -> None:
    """Forecast t+1..t+H after each row with 80 % intervals."""
    from models.forecast.batch import forecast_path

    try:
        n = forecast_path(input, output, horizon)
    except (ValueError, FileNotFoundError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    typer.echo(f"forecast {n} file(s) -> {output}", err=True)


if __name__ == "__main__":
    sys.exit(app())
