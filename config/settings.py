"""One frozen settings object, loaded once in ``run.py`` and passed down.

Every field can be overridden from the environment with the ``CITYCC_`` prefix
(``CITYCC_PORT=9000``) or by ``run.py`` options; nothing else reads the environment.

>>> s = Settings.from_env({"CITYCC_PORT": "9001", "CITYCC_BUS": "kafka://127.0.0.1:9092"})
>>> s.port, s.bus
(9001, 'kafka://127.0.0.1:9092')
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, get_type_hints

ENV_PREFIX = "CITYCC_"
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8050
    #: ``memory://`` (in-process, default) or ``kafka://host:port[,host:port]``
    bus: str = "memory://"
    #: ``memory://`` (in-process, default) or ``redis://host:port/db``
    state: str = "memory://"
    city: str = "fuzhou"
    #: multiplies the default sensor count (about 5 000)
    scale: float = 1.0
    seed: int = 20261124
    #: simulated seconds per wall-clock second (1 = real time)
    speed: float = 1.0
    #: seconds between simulator ticks (stream time): short, so that a reading goes out soon
    #: after it is sampled (ticks with no sample due publish nothing)
    tick_s: float = 0.1
    #: directory for durable files (SQLite, checkpoints); created on demand
    data_dir: Path = REPO_ROOT / "var"
    #: optional user road network (GeoJSON LineStrings or GraphML) replacing the synthetic one
    road_network: str = ""
    #: scenario injections, ``name@minute`` comma-separated, e.g. ``pipe_burst@5,chemical_leak@10``
    scenarios: str = ""
    language: str = "zh-CN"
    demo_password: str = ""
    #: dispatch/alert store: "" = SQLite in data_dir, or postgresql://user@host/db for multi-node
    dispatch_db: str = ""
    #: signs session cookies; set the same value on every web process of a deployment
    secret_key: str = ""
    #: a panel with no update for this many seconds shows the stale banner
    stale_after_s: float = 10.0
    #: browser push rate per panel (Hz)
    push_hz: float = 2.0
    #: readings younger than this are kept in rolling windows for charts (seconds)
    window_s: int = 3600
    #: TTL of state keys in Redis (seconds)
    state_ttl_s: int = 6 * 3600
    #: readings stamped further than this into the future are dead-lettered (seconds)
    max_future_s: float = 300.0
    #: Kafka partitions per readings topic when topics are created
    partitions: int = 6
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``CITYCC_*`` variables, then explicit ``overrides`` (non-None)."""
        env = os.environ if env is None else env
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _parse(hints[f.name], raw, f.name)
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _parse(kind: Any, raw: str, name: str) -> Any:
    try:
        if kind is bool:
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is Path:
            return Path(raw)
        return raw
    except ValueError as e:
        var = f"{ENV_PREFIX}{name.upper()}"
        raise ValueError(f"{var}={raw!r} is not a valid {kind.__name__}") from e
