#!/usr/bin/python3
"""Regenerate testdata/golden/rw7_250.json: the random walk's accuracy at 7
steps over the last 250 origins (stride 1) of testdata/usdclp_daily.csv,
computed independently with numpy.

The script runs build/bin/opt-backtest once with --samples to obtain the
sample paths (the only input that depends on the C PRNG), checks that the
dump is what the random walk must produce (origins, actuals, point = last
value, every step a bootstrapped past log-return of the context), then
computes every metric from the CSV and the paths with plain numpy formulas
(np.quantile; CRPS by the O(N^2) pair mean) and writes the golden file.
It also reports the largest relative difference from opt-backtest's own
numbers and fails above 1e-9.

Usage: /usr/bin/python3 scripts/golden_backtest.py [path/to/opt-backtest]
Run it on purpose only; the output is committed.
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERIES = "testdata/usdclp_daily.csv"
OUT = os.path.join(ROOT, "testdata/golden/rw7_250.json")
PARAMS = dict(model="random_walk", steps=7, origins=250, stride=1, holdout=0,
              context_length=512, num_samples=100, seed=20260923)
TOL = 1e-9


def load_series(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["unique_id", "ds", "y"], rows[0]
    dates = [r[1] for r in rows[1:]]
    y = np.array([float(r[2]) for r in rows[1:]])
    return dates, y


def run_tool(tool, dump):
    p = PARAMS
    cmd = [tool, "--series", SERIES, "--model", p["model"],
           "--steps", str(p["steps"]), "--origins", str(p["origins"]),
           "--stride", str(p["stride"]), "--holdout", str(p["holdout"]),
           "--context-length", str(p["context_length"]),
           "--num-samples", str(p["num_samples"]), "--seed", str(p["seed"]),
           "--samples", dump]
    out = subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.PIPE).stdout
    return json.loads(out)


def metrics(dates, y, dump):
    p = PARAMS
    n, H, L = len(y), p["steps"], p["context_length"]
    last = n - H - p["stride"] * p["holdout"]
    origins = [last - p["stride"] * k for k in range(p["origins"])][::-1]
    wins = dump["windows"]
    assert [w["origin"] for w in wins] == origins, "origins differ"
    assert dump["num_samples"] == p["num_samples"] and dump["steps"] == H

    qs = np.arange(1, 10) / 10.0
    E, APE, SAPE, MASE = [], [], [], []
    C80, W80, C95, W95, PIN, CRPS = [], [], [], [], [], []
    for w in wins:
        t = w["origin"]
        assert w["origin_date"] == dates[t - 1]
        act = y[t:t + H]
        assert np.array_equal(np.array(w["actual"]), act), "actuals differ at %d" % t
        point = np.full(H, y[t - 1])              # random walk: last value
        assert np.array_equal(np.array(w["point"]), point), "point differs at %d" % t
        paths = np.array(w["paths"], dtype=float)  # (num_samples, H)
        assert paths.shape == (p["num_samples"], H)
        # Every step must be exp(one past log-return of the context).
        ctx = y[t - L:t]
        r = np.sort(np.log(ctx[1:] / ctx[:-1]))
        prev = np.concatenate([np.full((paths.shape[0], 1), y[t - 1]), paths[:, :-1]], axis=1)
        step = np.log(paths / prev).ravel()
        j = np.clip(np.searchsorted(r, step), 1, len(r) - 1)
        near = np.minimum(np.abs(r[j] - step), np.abs(r[j - 1] - step))
        assert near.max() < 1e-9, "a path step is not a context log-return at %d" % t

        e = point - act
        E.append(e)
        APE.append(np.abs(e) / np.abs(act))
        SAPE.append(2 * np.abs(e) / (np.abs(point) + np.abs(act)))
        scale = np.mean(np.abs(np.diff(y[:t])))
        MASE.append(np.mean(np.abs(e)) / scale)
        lo80, hi80 = np.quantile(paths, 0.10, axis=0), np.quantile(paths, 0.90, axis=0)
        lo95, hi95 = np.quantile(paths, 0.025, axis=0), np.quantile(paths, 0.975, axis=0)
        C80.append((lo80 <= act) & (act <= hi80))
        C95.append((lo95 <= act) & (act <= hi95))
        W80.append(hi80 - lo80)
        W95.append(hi95 - lo95)
        qhat = np.quantile(paths, qs, axis=0)     # (9, H)
        d = act[None, :] - qhat
        PIN.append(np.mean(np.maximum(qs[:, None] * d, (qs[:, None] - 1) * d)))
        crps = [np.mean(np.abs(paths[:, h] - act[h]))
                - 0.5 * np.mean(np.abs(paths[:, h][:, None] - paths[:, h][None, :]))
                for h in range(H)]
        CRPS.append(np.mean(crps))
    E = np.array(E)
    return {
        "rmse": float(np.sqrt(np.mean(E ** 2))),
        "mae": float(np.mean(np.abs(E))),
        "mape": float(100 * np.mean(APE)),
        "smape": float(100 * np.mean(SAPE)),
        "mase": float(np.mean(MASE)),
        "bias": float(np.mean(E)),
        "err_std": float(np.std(E)),
        "cov80": float(np.mean(C80)),
        "width80": float(np.mean(W80)),
        "cov95": float(np.mean(C95)),
        "width95": float(np.mean(W95)),
        "pinball": float(np.mean(PIN)),
        "crps": float(np.mean(CRPS)),
        "sse": float(np.sum(E ** 2)),
    }, dates[origins[0] - 1], dates[origins[-1] - 1]


def main():
    tool = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/bin/opt-backtest")
    dates, y = load_series(os.path.join(ROOT, SERIES))
    with tempfile.TemporaryDirectory() as tmp:
        dump_path = os.path.join(tmp, "samples.json")
        tool_out = run_tool(tool, dump_path)
        with open(dump_path) as f:
            dump = json.load(f)
    m, first, last = metrics(dates, y, dump)
    worst, worst_key = 0.0, None
    for k, v in m.items():
        got = tool_out["metrics"][k]
        rel = abs(got - v) / max(abs(v), 1e-300)
        if rel > worst:
            worst, worst_key = rel, k
    print("max relative difference opt-backtest vs numpy: %.3g (%s)" % (worst, worst_key))
    if worst > TOL:
        sys.exit("golden_backtest: difference above %g" % TOL)
    golden = {
        "about": "random walk, 7 steps, last 250 origins (stride 1) of " + SERIES +
                 "; metrics computed by scripts/golden_backtest.py with numpy " +
                 np.__version__ + " from the CSV and opt-backtest's sample paths",
        "series": SERIES,
        "params": PARAMS,
        "first_origin_date": first,
        "last_origin_date": last,
        "tolerance": TOL,
        "metrics": m,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print("wrote", os.path.relpath(OUT, ROOT))


if __name__ == "__main__":
    main()
