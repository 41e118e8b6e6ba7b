"""A NAB (Numenta Anomaly Benchmark v1.1) scorer, written from the published rules.

Why our own: the benchmark needs a scorer that runs without NAB's code base, and a
scorer is only trustworthy once it reproduces the stored official results
(``results/numenta`` and ``results/random``); ``python bench/nab_scorer.py`` prints that check.

Rules (see ALGORITHMS.md §1.1):

- probation: the first ``min(floor(0.15 n), 750)`` rows of a file are not scored, and a window
  lying wholly inside it is not counted;
- a row inside a window earns ``A_TP * sig(-(right - i + 1) / width) / sig(-1)``; only the
  best (earliest) detection of each window counts, a missed window costs ``-A_FN``;
- a detection outside windows costs ``A_FP * sig(d / (w_prev - 1))`` (``d`` rows past the
  previous window's right edge) or ``-A_FP`` if no window precedes it;
- ONE threshold per profile for the whole corpus, chosen by sweeping every distinct score;
- normalised score ``100 (S - S_null) / (S_perfect - S_null)``.

Example
-------
>>> import numpy as np
>>> ts = np.arange(100).astype("datetime64[m]")
>>> corpus = {"a.csv": (ts, np.r_[np.zeros(45), 1.0, np.zeros(54)], [(ts[45], ts[55])])}
>>> round(score_prepared(corpus, "standard")["score"], 3)
100.0
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

PROFILES = {
    "standard": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11},
    "reward_low_FP_rate": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.22},
    "reward_low_FN_rate": {"tpWeight": 1.0, "fnWeight": 2.0, "fpWeight": 0.11},
}
PROBATION_PERCENT = 0.15

#: file -> (timestamps datetime64[n], scores float64[n], windows [(start, end) datetime64])
Window = tuple[np.datetime64, np.datetime64]
Prepared = Mapping[str, tuple[np.ndarray, np.ndarray, Sequence[Window]]]


def scaled_sigmoid(x: np.ndarray) -> np.ndarray:
    """NAB's scaled sigmoid: 2/(1+e^{5x}) - 1, and -1 from x >= 3 on."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):
        out = 2.0 / (1.0 + np.exp(5.0 * x)) - 1.0
    return np.where(x >= 3.0, -1.0, out)


def probation_length(n: int) -> int:
    """Rows at the start of a file that are never scored."""
    return int(min(math.floor(PROBATION_PERCENT * n), PROBATION_PERCENT * 5000))


def row_weights(
    n: int, windows_idx: Sequence[tuple[int, int]], profile: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row sweep weight and window id (-1 outside windows, -2 in probation).

    ``windows_idx`` holds inclusive (left, right) row indices, sorted.
    """
    weight = np.empty(n, dtype=np.float64)
    win = np.full(n, -1, dtype=np.int64)
    max_tp = float(scaled_sigmoid(np.array(-1.0)))
    i = np.arange(n, dtype=np.float64)
    # outside windows, before any window: position 3 -> -1
    prev_right = -1
    prev_width = 0.0
    cursor = 0
    for k, (left, right) in enumerate(windows_idx):
        seg = slice(cursor, left)
        if prev_right < 0:
            weight[seg] = -1.0 * profile["fpWeight"]
        else:
            pos = np.abs(prev_right - i[seg]) / (prev_width - 1.0)
            weight[seg] = scaled_sigmoid(pos) * profile["fpWeight"]
        width = float(right - left + 1)
        pos = -(right - i[left : right + 1] + 1.0) / width
        weight[left : right + 1] = scaled_sigmoid(pos) * profile["tpWeight"] / max_tp
        win[left : right + 1] = k
        prev_right, prev_width, cursor = right, width, right + 1
    seg = slice(cursor, n)
    if prev_right < 0:
        weight[seg] = -1.0 * profile["fpWeight"]
    else:
        pos = np.abs(prev_right - i[seg]) / (prev_width - 1.0)
        weight[seg] = scaled_sigmoid(pos) * profile["fpWeight"]
    win[: probation_length(n)] = -2
    return weight, win


def _window_indices(
    ts: np.ndarray, windows: Sequence[tuple[np.datetime64, np.datetime64]]
) -> list[tuple[int, int]]:
    out = []
    for start, end in windows:
        left = int(np.searchsorted(ts, start, side="left"))
        right = int(np.searchsorted(ts, end, side="right")) - 1
        out.append((left, right))
    return out


def sweep(prepared: Prepared, profile: Mapping[str, float]) -> tuple[float, float]:
    """Return (best raw score, threshold) over all distinct thresholds, corpus-wide."""
    scores_l, weights_l, gwin_l = [], [], []
    n_windows = 0
    for _name, (ts, scores, windows) in prepared.items():
        widx = _window_indices(ts, windows)
        weight, win = row_weights(len(ts), widx, profile)
        keep = win != -2
        gw = np.where(win >= 0, win + n_windows, -1)
        n_windows += len(widx)
        scores_l.append(np.asarray(scores, dtype=np.float64)[keep])
        weights_l.append(weight[keep])
        gwin_l.append(gw[keep])
    s = np.concatenate(scores_l)
    w = np.concatenate(weights_l)
    g = np.concatenate(gwin_l)
    counted = np.unique(g[g >= 0])
    base = -profile["fnWeight"] * len(counted)
    order = np.argsort(-s, kind="stable")
    s, w, g = s[order], w[order], g[order]
    inc = np.where(g < 0, w, 0.0)
    # inside windows: gain = rise of the running max of the window's weights
    in_win = np.flatnonzero(g >= 0)
    gw_sorted = g[in_win]
    by_win = np.argsort(gw_sorted, kind="stable")
    pos = in_win[by_win]
    wins = gw_sorted[by_win]
    vals = w[pos]
    bounds = np.flatnonzero(np.diff(wins)) + 1
    for chunk_pos, chunk_vals in zip(np.split(pos, bounds), np.split(vals, bounds), strict=True):
        run = np.maximum.accumulate(np.maximum(chunk_vals, -profile["fnWeight"]))
        prev = np.r_[-profile["fnWeight"], run[:-1]]
        inc[chunk_pos] = run - prev
    curve = base + np.cumsum(inc)
    # a threshold t detects all rows with score >= t: evaluate at the last row of each value
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    cand = curve[last]
    best = int(np.argmax(cand))
    # compare with detecting nothing
    if base >= cand[best]:
        return float(base), float(s[0]) + 1e-9
    return float(cand[best]), float(s[last[best]])


def score_prepared(prepared: Prepared, profile_name: str) -> dict[str, float]:
    """Normalised score of one profile, plus the raw score and threshold."""
    profile = PROFILES[profile_name]
    raw, thr = sweep(prepared, profile)
    n_windows = 0
    for ts, _scores, windows in prepared.values():
        p = probation_length(len(ts))
        n_windows += sum(1 for (_a, b) in _window_indices(ts, windows) if b >= p)
    null = -profile["fnWeight"] * n_windows
    perfect = profile["tpWeight"] * n_windows
    norm = 100.0 * (raw - null) / (perfect - null) if perfect > null else 0.0
    return {"score": norm, "raw": raw, "threshold": thr}


def load_windows(data_dir: Path) -> dict[str, list[tuple[np.datetime64, np.datetime64]]]:
    """Label windows keyed by ``category/file.csv``."""
    raw = json.loads((data_dir / "labels" / "combined_windows.json").read_text())
    return {
        k: [(np.datetime64(a.replace(" ", "T")), np.datetime64(b.replace(" ", "T"))) for a, b in v]
        for k, v in raw.items()
    }


def read_timestamps(path: Path) -> np.ndarray:
    """The ``timestamp`` column of a NAB CSV as datetime64[s]."""
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return np.array([r["timestamp"].replace(" ", "T") for r in rows], dtype="datetime64[s]")


def score_corpus(
    scores_by_file: Mapping[str, np.ndarray], data_dir: Path | str
) -> dict[str, float]:
    """Normalised NAB score per profile for a whole corpus of per-row scores.

    ``scores_by_file`` maps ``category/file.csv`` (keys of ``combined_windows.json``) to the
    per-row anomaly scores, in file order; ``data_dir`` is NAB's root (with data/ and labels/).
    """
    data_dir = Path(data_dir)
    windows = load_windows(data_dir)
    prepared = {}
    for name, scores in scores_by_file.items():
        ts = read_timestamps(data_dir / "data" / name)
        if len(ts) != len(scores):
            raise ValueError(f"{name}: {len(scores)} scores for {len(ts)} rows")
        prepared[name] = (ts, np.asarray(scores, dtype=np.float64), windows[name])
    return {p: score_prepared(prepared, p)["score"] for p in PROFILES}


def load_stored_results(data_dir: Path, detector: str) -> dict[str, np.ndarray]:
    """Per-file anomaly_score columns of NAB's stored results for ``detector``."""
    out = {}
    root = data_dir / "results" / detector
    for name in load_windows(data_dir):
        cat, fname = name.split("/")
        path = root / cat / f"{detector}_{fname}"
        with path.open(newline="") as fh:
            out[name] = np.array([float(r["anomaly_score"]) for r in csv.DictReader(fh)])
    return out


#: NAB's published scoreboard (README) for the stored per-file outputs; final_results.json's
#: "random" row comes from another random run, so it is not the reference for these files.
PUBLISHED = {
    "numenta": {"standard": 70.1, "reward_low_FP_rate": 63.2, "reward_low_FN_rate": 74.3},
    "random": {"standard": 17.7, "reward_low_FP_rate": 7.5, "reward_low_FN_rate": 27.6},
    "null": {"standard": 0.0, "reward_low_FP_rate": 0.0, "reward_low_FN_rate": 0.0},
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Reproduce NAB's published scores.")
    default = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "nab"
    parser.add_argument("--data", type=Path, default=default)
    args = parser.parse_args(argv)
    print(f"{'detector':10s} {'profile':20s} {'ours':>8s} {'published':>9s} {'diff':>6s}")
    ok = True
    for det, ref in PUBLISHED.items():
        ours = score_corpus(load_stored_results(args.data, det), args.data)
        for prof, val in ours.items():
            diff = val - ref[prof]
            ok &= abs(diff) <= 0.2
            print(f"{det:10s} {prof:20s} {val:8.2f} {ref[prof]:9.2f} {diff:6.2f}")
    print("reproduced within 0.2" if ok else "NOT reproduced")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
