"""NAB benchmark of the univariate detector, with river's HalfSpaceTrees as the baseline.

Prints the three normalised NAB scores (our scorer, see ``bench/nab_scorer.py``), the kernel's
throughput on the corpus and on a synthetic live-engine batch (many sensors interleaved), and
river's HalfSpaceTrees scored the same way with its own throughput.

Run: ``python bench/nab.py [--data ../shared/data/nab] [--no-river]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from nab_scorer import PROFILES, load_windows, score_prepared  # noqa: E402

from models.anomaly.config import DetectorConfig  # noqa: E402
from models.anomaly.univariate import UnivariateDetector  # noqa: E402
from models.anomaly.univariate_kernel import score_kernel  # noqa: E402
from models.series_csv import read_series  # noqa: E402


def load_corpus(data: Path) -> dict[str, tuple[np.ndarray, np.ndarray, list]]:
    """``name -> (timestamps datetime64[ms], values, windows)`` for the 58 files."""
    windows = load_windows(data)
    corpus = {}
    for name in sorted(windows):
        _tt, _vt, ts, val = read_series(data / "data" / name)
        corpus[name] = (ts.astype("datetime64[ms]"), val, windows[name])
    return corpus


def timed_kernel(det: UnivariateDetector, idx: np.ndarray, val: np.ndarray, ts: np.ndarray
                 ) -> tuple[np.ndarray, float]:
    """Run the kernel once on ``det``'s state; return scores and pure kernel seconds."""
    det.grow(int(idx.max()) + 1)
    score = np.zeros(idx.shape[0])
    fault = np.zeros(idx.shape[0], dtype=np.int8)
    t0 = time.perf_counter()
    score_kernel(idx, val, ts, det._params, det.fs, det.ring, det.counts, score, fault)
    return score, time.perf_counter() - t0


def ours(corpus: dict, config: DetectorConfig) -> tuple[dict, float, int]:
    names = list(corpus)
    idx = np.concatenate([np.full(len(corpus[n][1]), k, np.int64) for k, n in enumerate(names)])
    val = np.concatenate([corpus[n][1] for n in names])
    ts = np.concatenate([corpus[n][0].astype(np.int64) for n in names])
    UnivariateDetector(1, config).warm()
    score, secs = timed_kernel(UnivariateDetector(len(names), config), idx, val, ts)
    for _ in range(2):  # best of three: other processes only ever slow a run down
        again, secs2 = timed_kernel(UnivariateDetector(len(names), config), idx, val, ts)
        if not np.array_equal(again, score):
            raise AssertionError("repeat run differs")
        secs = min(secs, secs2)
    out, start = {}, 0
    for n in names:
        end = start + len(corpus[n][1])
        out[n] = score[start:end]
        start = end
    return out, secs, len(val)


def river_hst(corpus: dict) -> tuple[dict, float, int]:
    from river import anomaly, compose, preprocessing

    out, secs, rows = {}, 0.0, 0
    for name, (_ts, val, _w) in corpus.items():
        model = compose.Pipeline(preprocessing.MinMaxScaler(), anomaly.HalfSpaceTrees(seed=42))
        s = np.zeros(len(val))
        t0 = time.perf_counter()
        for k, v in enumerate(val.tolist()):
            x = {"value": v}
            s[k] = model.score_one(x)
            model.learn_one(x)
        secs += time.perf_counter() - t0
        rows += len(val)
        out[name] = s
    return out, secs, rows


def synthetic_live(config: DetectorConfig, n_sensors: int, steps: int, seed: int = 7
                   ) -> tuple[float, float, int]:
    """Seconds for ``n_sensors`` x ``steps`` readings interleaved time-major (5-minute cadence).

    Returns (pure kernel seconds in arrival order, ``score_batch`` seconds including its
    group-by-sensor pass, rows). Both give identical scores.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(steps) * 300_000
    base = rng.uniform(10, 100, n_sensors)[:, None]
    phase = rng.uniform(0, 2 * np.pi, n_sensors)[:, None]
    val = base * (1 + 0.3 * np.sin(2 * np.pi * t[None, :] / 86_400_000 + phase))
    val += rng.normal(0, 1, val.shape) * 0.05 * base
    idx = np.broadcast_to(np.arange(n_sensors)[:, None], val.shape)
    ts = np.broadcast_to(t[None, :], val.shape)
    # interleave: time-major order, every sensor at each step
    idx_f = np.ascontiguousarray(idx.T).ravel().astype(np.int64)
    val_f = np.ascontiguousarray(val.T).ravel()
    ts_f = np.ascontiguousarray(ts.T).ravel().astype(np.int64)
    # steady state, as in the live engine: the first 10 % of steps fill the state untimed
    cut = (steps // 10) * n_sensors
    ref_det = UnivariateDetector(n_sensors, config)
    ref_det.group_min = 1 << 62  # arrival order
    ref_det.score_batch(idx_f[:cut], val_f[:cut], ts_f[:cut])
    ref, kernel_secs = timed_kernel(ref_det, idx_f[cut:], val_f[cut:], ts_f[cut:])
    det = UnivariateDetector(n_sensors, config)
    det.score_batch(idx_f[:cut], val_f[:cut], ts_f[:cut])
    t0 = time.perf_counter()
    score, _fault = det.score_batch(idx_f[cut:], val_f[cut:], ts_f[cut:])
    batch_secs = time.perf_counter() - t0
    if not np.array_equal(score, ref):
        raise AssertionError("grouped batch differs from arrival-order kernel")
    return kernel_secs, batch_secs, len(val_f) - cut


def nab_table(scores: dict, corpus: dict) -> dict[str, float]:
    prepared = {n: (corpus[n][0], scores[n], corpus[n][2]) for n in corpus}
    return {p: score_prepared(prepared, p)["score"] for p in PROFILES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="NAB benchmark of the univariate detector")
    default = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "nab"
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--no-river", action="store_true", help="skip river HalfSpaceTrees")
    parser.add_argument("--sensors", type=int, default=5000)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args(argv)
    config = DetectorConfig()
    corpus = load_corpus(args.data)
    scores, secs, rows = ours(corpus, config)
    table = nab_table(scores, corpus)
    print(f"corpus: {len(corpus)} files, {rows} rows")
    print(f"{'detector':22s} {'standard':>9s} {'low_FP':>8s} {'low_FN':>8s} {'points/s':>12s}")
    ours_pps = rows / secs
    print(f"{'citycc univariate':22s} {table['standard']:9.2f} "
          f"{table['reward_low_FP_rate']:8.2f} {table['reward_low_FN_rate']:8.2f} "
          f"{ours_pps:12,.0f}")
    print(f"{'(NAB) Numenta HTM':22s} {70.1:9.2f} {63.2:8.2f} {74.3:8.2f}")
    if not args.no_river:
        rs, rsecs, rrows = river_hst(corpus)
        rt = nab_table(rs, corpus)
        river_pps = rrows / rsecs
        print(f"{'river HalfSpaceTrees':22s} {rt['standard']:9.2f} "
              f"{rt['reward_low_FP_rate']:8.2f} {rt['reward_low_FN_rate']:8.2f} {river_pps:12,.0f}")
        print(f"speed ratio (ours / river): {ours_pps / river_pps:,.0f}x")
    ksecs, bsecs, lrows = synthetic_live(config, args.sensors, args.steps)
    print(f"live-engine batch, {args.sensors} sensors x {args.steps} steps interleaved:")
    print(f"  kernel in arrival order        {lrows / ksecs:12,.0f} sensor-points/s")
    print(f"  score_batch (grouped by sensor) {lrows / bsecs:11,.0f} sensor-points/s "
          "(same scores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
