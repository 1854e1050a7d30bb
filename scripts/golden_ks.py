#!/usr/bin/python3
"""Write testdata/golden/ks_2samp.json: scipy.stats.ks_2samp (defaults:
two-sided, method='auto') on small samples (exact path) and large ones
(max size > 10000: asymptotic path), plus scipy.stats.kstwo.sf and
scipy.special.kolmogorov at points covering every branch.  Run on purpose
only: /usr/bin/python3 scripts/golden_ks.py (Debian's python3-scipy).

Large samples are not stored: each is described by a generator that C
reproduces bit for bit:
  state <- state * 6364136223846793005 + 1442695040888963407 (mod 2^64)
  draw  = (state >> 33) % 1000
  value = (sum of 4 draws) * scale + shift      (state starts at seed)
"""
import csv, json, math, os, sys
import numpy as np
import scipy
from scipy import stats, special

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MASK = (1 << 64) - 1


def gen(seed, n, scale, shift):
    s = seed & MASK
    out = []
    for _ in range(n):
        tot = 0
        for _ in range(4):
            s = (s * 6364136223846793005 + 1442695040888963407) & MASK
            tot += (s >> 33) % 1000
        out.append(float(tot) * scale + shift)
    return out


rng = np.random.default_rng(20261123)


def r(x, nd=6):
    return [round(float(v), nd) for v in x]


def usdclp_windows(as_of, base=90, recent=30):
    with open(os.path.join(ROOT, "testdata", "usdclp_daily.csv")) as f:
        rows = list(csv.DictReader(f))
    ds = [row["ds"] for row in rows]
    y = np.array([float(row["y"]) for row in rows])
    lr = np.diff(np.log(y))
    i = max(k for k in range(len(ds) - 1) if ds[k + 1] <= as_of)
    rec = lr[i - recent + 1:i + 1]
    bas = lr[i - recent - base + 1:i - recent + 1]
    return list(map(float, bas)), list(map(float, rec))


cases = []


def add(name, a, b):
    res = stats.ks_2samp(a, b)
    cases.append({"name": name, "a": a, "b": b,
                  "statistic": float(res.statistic), "pvalue": float(res.pvalue)})


def add_gen(name, ga, gb):
    a = gen(*ga)
    b = gen(*gb)
    res = stats.ks_2samp(a, b)
    keys = ("seed", "n", "scale", "shift")
    cases.append({"name": name, "gen_a": dict(zip(keys, ga)), "gen_b": dict(zip(keys, gb)),
                  "statistic": float(res.statistic), "pvalue": float(res.pvalue)})


add("equal sizes 10, normal", r(rng.normal(size=10)), r(rng.normal(size=10)))
add("8 vs 12, shifted", r(rng.normal(size=8)), r(rng.normal(0.8, 1, size=12)))
add("ties: integers 15 vs 20", [float(v) for v in rng.integers(0, 5, 15)],
    [float(v) for v in rng.integers(1, 6, 20)])
same = r(rng.normal(size=12))
add("identical samples", same, list(same))
add("separated 5 vs 5", [1.0, 2.0, 3.0, 4.0, 5.0], [6.0, 7.0, 8.0, 9.0, 10.0])
add("1 vs 1", [0.5], [0.25])
add("1 vs 10", [3.0], r(rng.normal(size=10)))
add("3 vs 7", r(rng.normal(size=3)), r(rng.normal(1, 1, size=7)))
add("separated 7 vs 13", r(rng.normal(0, 1, 7) - 10), r(rng.normal(0, 1, 13) + 10))
add("30 vs 90, shifted", r(rng.normal(0.4, 1, 30)), r(rng.normal(0, 1, 90)))
add("90 vs 30, student t", r(rng.standard_t(3, 90)), r(rng.standard_t(3, 30)))
add("ties: 100 vs 100 in halves", [round(v * 2) / 2 for v in rng.normal(size=100)],
    [round(v * 2) / 2 for v in rng.normal(0.2, 1, 100)])
add("50 vs 75, scale", r(rng.normal(0, 1, 50)), r(rng.normal(0, 2.5, 75)))
add("200 vs 130", r(rng.normal(0, 1, 200)), r(rng.normal(0.15, 1, 130)))
add("500 vs 600", r(rng.normal(0, 1, 500)), r(rng.normal(0.1, 1.1, 600)))
add("1000 vs 999", r(rng.normal(0, 1, 1000)), r(rng.normal(0.05, 1, 999)))
add("2000 vs 2000", r(rng.normal(0, 1, 2000)), r(rng.normal(0.07, 1, 2000)))
add("ties: 40 vs 60 two values", [float(v) for v in rng.integers(0, 2, 40)],
    [float(v) for v in rng.integers(0, 2, 60)])
b, rc = usdclp_windows("2019-11-29")
add("USDCLP log-returns 90 vs 30 to 2019-11-29", b, rc)
b, rc = usdclp_windows("2022-07-22")
add("USDCLP log-returns 90 vs 30 to 2022-07-22", b, rc)
b, rc = usdclp_windows("2017-06-30")
add("USDCLP log-returns 90 vs 30 to 2017-06-30", b, rc)
add_gen("asymptotic 12000 vs 40", (1, 12000, 0.001, 0.0), (2, 40, 0.001, 0.15))
add_gen("asymptotic 10001 vs 10", (3, 10001, 1.0, 0.0), (4, 10, 1.0, 300.0))
add_gen("asymptotic 12000 vs 300", (5, 12000, 0.01, 0.0), (6, 300, 0.01, 0.4))
add_gen("asymptotic 11000 vs 11000", (7, 11000, 0.5, 0.0), (8, 11000, 0.5, 6.0))
add_gen("asymptotic 15000 vs 5000 scale", (9, 15000, 1.0, 0.0), (10, 5000, 1.03, -60.0))
add_gen("asymptotic 20000 vs 12000 equal", (11, 20000, 1.0, 0.0), (12, 12000, 1.0, 0.0))

kstwo = []
for n, x in [(5, 0.15), (5, 0.9), (10, 0.6), (20, 0.1), (20, 0.3), (20, 0.48),
             (100, 0.05), (100, 0.12), (140, 0.2), (500, 0.019), (500, 0.05),
             (500, 0.08), (5000, 0.01), (5000, 0.03), (200, 0.004), (1000, 0.9),
             (50, 0.7), (3000, 0.002), (60000, 0.004), (200000, 0.002), (5, 0.05)]:
    kstwo.append({"n": n, "x": x, "sf": float(stats.kstwo.sf(x, n))})
kolm = [{"x": x, "sf": float(special.kolmogorov(x))} for x in (0.3, 0.5, 0.8, 1.0, 1.2, 2.0)]
smir = [{"n": n, "x": x, "sf": float(special.smirnov(n, x))}
        for n, x in [(5, 0.3), (30, 0.2), (1000, 0.05), (2000, 0.03)]]

out = {"generator": "scripts/golden_ks.py", "scipy": scipy.__version__,
       "ks_2samp": cases, "kstwo_sf": kstwo, "kolmogorov_sf": kolm, "smirnov": smir}
path = os.path.join(ROOT, "testdata", "golden", "ks_2samp.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(f"{path}: {len(cases)} ks_2samp cases, {len(kstwo)} kstwo, {len(kolm)} kolmogorov, "
      f"{len(smir)} smirnov", file=sys.stderr)
