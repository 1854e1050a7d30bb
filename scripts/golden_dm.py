#!/usr/bin/python3
"""Golden data for lib/dmtest.c: Diebold-Mariano test with the
Harvey-Leybourne-Newbold correction, computed independently with numpy and
scipy. Writes testdata/golden/dm.json. Run on purpose only:

    /usr/bin/python3 scripts/golden_dm.py

Definitions (same as dmtest.h): d = a - b; autocovariances divided by T;
rectangular kernel up to lags = max(lags, steps - 1), Bartlett weights
1 - k/(lags+1) when the rectangular variance is not positive; HLN factor
with h = lags + 1; Student t with T - 1 degrees of freedom.
"""
import json
import os

import numpy as np
from scipy import special, stats


def dm(a, b, steps, lags=0):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    d = a - b
    T = d.size
    L = max(lags, steps - 1)
    h = L + 1
    x = d - d.mean()
    gam = np.array([np.dot(x[k:], x[:T - k]) / T for k in range(L + 1)])
    v = gam[0] + 2.0 * gam[1:].sum()
    kernel = "rectangular"
    if not v > 0 and L > 0:
        w = 1.0 - np.arange(1, L + 1) / h
        v = gam[0] + 2.0 * (w * gam[1:]).sum()
        kernel = "bartlett"
    stat0 = d.mean() / np.sqrt(v / T)
    k = np.sqrt((T + 1 - 2 * h + h * (h - 1) / T) / T)
    stat = stat0 * k
    df = T - 1
    return {
        "n": int(T), "steps": int(steps), "lags_in": int(lags), "lags": int(L),
        "mean_diff": float(d.mean()), "variance": float(v), "kernel": kernel,
        "dm": float(stat0), "stat": float(stat), "df": int(df),
        "p_value": float(2 * stats.t.sf(abs(stat), df)),
        "p_less": float(stats.t.cdf(stat, df)),
        "loss_a": [float(v_) for v_ in a], "loss_b": [float(v_) for v_ in b],
    }


def ma_noise(rng, n, q, scale):
    """MA(q) noise, like the loss differences of overlapping windows."""
    e = rng.normal(0, scale, n + q)
    return np.array([e[t:t + q + 1].sum() for t in range(n)])


def main():
    rng = np.random.default_rng(20261123)
    cases = []
    for (n, steps, lags, shift) in [
        (30, 1, 0, 0.0), (30, 7, 0, -0.4), (30, 7, 0, 0.0), (30, 7, 10, 0.3),
        (30, 15, 0, -1.0), (40, 10, 0, 0.2), (60, 7, 0, -0.1), (100, 1, 0, 0.05),
        (100, 30, 0, -0.5), (200, 7, 3, 0.0), (12, 3, 0, -2.0), (25, 5, 0, 3.0),
        (30, 1, 4, -0.2), (50, 2, 0, 0.0), (8, 1, 0, -0.3),
    ]:
        base = rng.gamma(2.0, 1.0, n) * 10
        noise = ma_noise(rng, n, steps - 1, 1.0)
        a = base + noise + shift * 4
        b = base + rng.normal(0, 0.2, n)
        cases.append(dm(a, b, steps, lags))
    # cases where the rectangular variance is negative: strongly alternating
    found = 0
    seed = 0
    while found < 3:
        r2 = np.random.default_rng(seed)
        seed += 1
        n = 20 + 5 * found
        alt = np.array([(-1) ** t for t in range(n)], dtype=float)
        a = 5 + alt * 2 + r2.normal(0, 0.3, n) + 0.3
        b = np.full(n, 5.0) + r2.normal(0, 0.1, n)
        c = dm(a, b, 2, 0)
        if c["kernel"] == "bartlett" and c["variance"] > 0:
            cases.append(c)
            found += 1
    # huge statistic: tiny p-values must keep relative precision
    n = 30
    a = np.linspace(1, 2, n) + 0.01 * np.sin(np.arange(n))
    cases.append(dm(a, a + 0.5 + 0.01 * np.cos(np.arange(n) * 1.3), 1, 0))

    beta = []
    for a_ in (0.5, 1.0, 2.5, 7.0, 14.5, 49.5, 100.0):
        for b_ in (0.5, 1.0, 3.0, 20.0):
            for x in (1e-6, 0.01, 0.2, 0.5, 0.7, 0.95, 0.999999):
                beta.append({"a": a_, "b": b_, "x": x, "I": float(special.betainc(a_, b_, x))})
    tcdf = []
    for df in (1, 2, 5, 7, 29, 99, 1000):
        for t in (-40.0, -6.0, -2.045, -0.5, 0.0, 0.3, 1.7, 3.0, 12.0):
            tcdf.append({"t": t, "df": df, "cdf": float(stats.t.cdf(t, df))})

    out = {"generator": "scripts/golden_dm.py", "cases": cases, "betainc": beta, "t_cdf": tcdf}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "testdata", "golden", "dm.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
