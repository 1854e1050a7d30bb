#!/usr/bin/python3
"""Golden data for lib/dmtest.c: Diebold-Mariano test with the
Harvey-Leybourne-Newbold correction, computed independently with numpy and
scipy. Writes testdata/golden/dm.json. Run on purpose only:

    /usr/bin/python3 scripts/golden_dm.py
    /usr/bin/python3 scripts/golden_dm.py --size   # the size table of opt-validate(1)

Definitions (same as dmtest.h): d = a - b; autocovariances divided by T;
lags L = min(steps - 1, T // 2) unless given (> 0); rectangular kernel when
L >= steps - 1, else (and when the rectangular variance is not positive)
Bartlett weights 1 - k/(L+1); HLN factor with h = L + 1; Student t with
T - 1 degrees of freedom.

--size: the share of one-sided 5 % rejections when the two forecasts are
equally accurate, by simulation, for this lag rule, the old one (steps - 1,
rectangular) and a fixed Newey-West bandwidth (floor(4 (T/100)^(2/9)), 3
at T = 30). Series: a Gaussian random walk; forecasts at origin t are
y_t +/- c_t k for step k, c_t an AR(1) with coefficient 0.95 and standard
deviation 0.3 (a persistent tilt, as a candidate that drifts against the
random walk), so both have the same expected loss and the loss differences
of overlapping windows are strongly autocorrelated.
"""
import json
import os
import sys

import numpy as np
from scipy import special, stats


def lag_rule(T, steps, lags):
    return lags if lags > 0 else min(steps - 1, T // 2)


def dm_core(d, steps, lags=0):
    T = d.size
    L = lag_rule(T, steps, lags)
    h = L + 1
    x = d - d.mean()
    gam = np.array([np.dot(x[k:], x[:T - k]) / T for k in range(L + 1)])
    kernel = "rectangular"
    v = gam[0] + 2.0 * gam[1:].sum()
    if L < steps - 1 or (not v > 0 and L > 0):
        w = 1.0 - np.arange(1, L + 1) / h
        v = gam[0] + 2.0 * (w * gam[1:]).sum()
        kernel = "bartlett"
    stat0 = d.mean() / np.sqrt(v / T)
    k = np.sqrt((T + 1 - 2 * h + h * (h - 1) / T) / T)
    return L, kernel, v, stat0, stat0 * k


def dm(a, b, steps, lags=0):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    d = a - b
    T = d.size
    L, kernel, v, stat0, stat = dm_core(d, steps, lags)
    df = T - 1
    return {
        "n": int(T), "steps": int(steps), "lags_in": int(lags), "lags": int(L),
        "mean_diff": float(d.mean()), "variance": float(v), "kernel": kernel,
        "dm": float(stat0), "stat": float(stat), "df": int(df),
        "p_value": float(2 * stats.t.sf(abs(stat), df)),
        "p_less": float(stats.t.cdf(stat, df)),
        "loss_a": [float(v_) for v_ in a], "loss_b": [float(v_) for v_ in b],
    }


def size_table(reps=2000):
    """Rejection rates at the one-sided 5 % level under equal accuracy."""
    rng = np.random.default_rng(20261204)

    def p_less(d, L, rectangular):
        T = d.size
        if L >= T - 1:
            return None
        x = d - d.mean()
        gam = np.array([np.dot(x[k:], x[:T - k]) / T for k in range(L + 1)])
        v = gam[0] + 2.0 * gam[1:].sum()
        if not rectangular or not v > 0:
            v = gam[0] + 2.0 * ((1.0 - np.arange(1, L + 1) / (L + 1)) * gam[1:]).sum()
        h = L + 1
        f = (T + 1 - 2 * h + h * (h - 1) / T) / T
        if not v > 0 or not f > 0:
            return None
        return stats.t.cdf(d.mean() / np.sqrt(v / T) * np.sqrt(f), T - 1)

    rules = [
        ("min(steps-1, T/2)", lambda T, s: (lag_rule(T, s, 0), lag_rule(T, s, 0) >= s - 1)),
        ("steps-1 (before)", lambda T, s: (s - 1, True)),
        ("Newey-West 4(T/100)^(2/9)", lambda T, s: (min(s - 1, int(4 * (T / 100) ** (2 / 9))), False)),
    ]
    print("T steps " + " | ".join(r[0] for r in rules))
    for T, steps in [(30, 7), (30, 15), (30, 30), (30, 90), (60, 90)]:
        rej = [0] * len(rules)
        ran = [0] * len(rules)
        for _ in range(reps):
            y = np.cumsum(rng.standard_normal(T + steps + 1))
            c = np.empty(T)
            c[0] = rng.standard_normal()
            for t in range(1, T):
                c[t] = 0.95 * c[t - 1] + np.sqrt(1 - 0.95 ** 2) * rng.standard_normal()
            c *= 0.3
            k = np.arange(1, steps + 1)
            d = np.array([((y[t + 1:t + steps + 1] - y[t] - c[t] * k) ** 2).sum() -
                          ((y[t + 1:t + steps + 1] - y[t] + c[t] * k) ** 2).sum() for t in range(T)])
            for i, (_, rule) in enumerate(rules):
                L, rect = rule(T, steps)
                p = p_less(d, L, rect)
                if p is not None:
                    ran[i] += 1
                    rej[i] += p < 0.05
        print(T, steps, " | ".join("%.3f" % (rej[i] / ran[i]) if ran[i] else "cannot run"
                                   for i in range(len(rules))))
        sys.stdout.flush()


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
        # the default 30 windows at 30 and 90 steps: half the windows,
        # Bartlett; a given bandwidth below steps - 1; few windows
        (30, 30, 0, -0.6), (30, 90, 0, 0.4), (30, 90, 0, -1.5), (31, 30, 0, 0.1),
        (59, 30, 0, -0.2), (30, 15, 8, -0.3), (5, 7, 0, 1.0), (3, 90, 0, -0.5),
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
    if sys.argv[1:] == ["--size"]:
        size_table()
    else:
        main()
