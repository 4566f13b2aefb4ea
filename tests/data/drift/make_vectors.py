#!/usr/bin/python3
"""Writes scipy-vectors.json: fixed samples and what scipy (and Evidently's numpy formulas) compute for them.

Run with Debian's python3-scipy (apt-get install -y python3-scipy; /usr/bin/python3 make_vectors.py). The project
itself does not run Python: DriftStatisticsTests reads the JSON and checks the C# statistics against these values.
"""
import json
import sys

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

rng = np.random.default_rng(20261126)


def rounded(a):
    # Six significant digits, so that the JSON text holds the exact doubles both sides compute with.
    return [float(f"{v:.6g}") for v in a]


def ks_case(name, a, b):
    a, b = rounded(a), rounded(b)
    r = stats.ks_2samp(a, b)
    exact = max(len(a), len(b)) <= 10000
    return {"name": name, "a": a, "b": b, "statistic": float(r.statistic), "pvalue": float(r.pvalue), "exact": exact}


ks = [
    ks_case("exact n1!=n2, shifted", rng.normal(0, 1, 50), rng.normal(0.5, 1, 60)),
    ks_case("exact n1==n2", rng.normal(0, 1, 100), rng.normal(0.2, 1, 100)),
    ks_case("exact with ties", np.round(rng.normal(0, 1, 200), 1), np.round(rng.normal(0.1, 1.2, 300), 1)),
    ks_case("exact tiny", rng.normal(0, 1, 10), rng.normal(1, 1, 7)),
    ks_case("exact same sample", rng.exponential(1, 400), rng.exponential(1, 700)),
    ks_case("exact 10000 x 900", rng.normal(0, 1, 10000), rng.normal(0.05, 1, 900)),
    ks_case("asymp, small second sample (n<=140)", rng.normal(0, 1, 12000), rng.normal(0.3, 1, 100)),
    ks_case("asymp, no drift", rng.normal(0, 1, 12000), rng.normal(0, 1, 2000)),
    ks_case("asymp, drift (Smirnov sum)", rng.normal(0, 1, 12000), rng.normal(0.2, 1, 3000)),
    ks_case("asymp, slight drift", rng.lognormal(0, 1, 11000), rng.lognormal(0.03, 1, 2500)),
    ks_case("asymp, equal sizes", rng.normal(0, 1, 10001), rng.normal(0.01, 1, 10001)),
]

# The one-sample Kolmogorov distribution in each of scipy's regions (Ruben-Gambino, Durbin matrix, Pomeranz,
# Smirnov's sum, Pelz-Good), at effective sizes a two-sample test reaches with large windows.
kstwo = []
for n, x in [(5, 0.15), (5, 0.3), (5, 0.9), (50, 0.1), (50, 0.2), (50, 0.35), (50, 0.6), (140, 0.05), (141, 0.05),
             (500, 0.02), (500, 0.05), (500, 0.1), (1000, 0.01), (1000, 0.03), (1000, 0.06), (2000, 0.0008),
             (20000, 0.005), (20000, 0.008), (20000, 0.012), (90909, 0.001), (90909, 0.003), (90909, 0.005),
             (90909, 0.0055), (150000, 0.001), (150000, 0.003), (150000, 0.004), (1000000, 0.0012)]:
    kstwo.append({"n": n, "x": x, "sf": float(stats.kstwo.sf(x, n))})

wasserstein = []
for name, a, b in [
    ("normal shift", rng.normal(0, 1, 300), rng.normal(0.4, 1.3, 250)),
    ("ties", np.round(rng.normal(0, 1, 200), 1), np.round(rng.normal(0, 1, 150), 1)),
    ("exponential", rng.exponential(2, 1000), rng.exponential(2.5, 800)),
]:
    a, b = rounded(a), rounded(b)
    wasserstein.append({"name": name, "a": a, "b": b, "distance": float(stats.wasserstein_distance(a, b)),
                        "normalized": float(stats.wasserstein_distance(a, b) / max(np.std(a), 0.001))})

chi2 = []
for name, table in [
    ("2x2 (Yates)", [[120, 80], [90, 110]]),
    ("2x2 small", [[12, 5], [3, 9]]),
    ("2x4", [[300, 200, 150, 350], [80, 60, 20, 40]]),
    ("2x6 no drift", [[500, 400, 300, 200, 100, 50], [49, 41, 29, 21, 11, 4]]),
]:
    stat, p, dof, _ = stats.chi2_contingency(np.array(table))
    chi2.append({"name": name, "reference": table[0], "current": table[1], "statistic": float(stat), "pvalue": float(p), "dof": int(dof)})

js = []
for name, p, q in [
    ("shares", [0.5, 0.3, 0.2], [0.4, 0.4, 0.2]),
    ("counts, unnormalized", [10, 20, 30, 40], [40, 30, 20, 10]),
    ("floored zeros", [0.0001, 0.6, 0.3999], [0.3, 0.3, 0.4]),
]:
    js.append({"name": name, "p": p, "q": q, "distance": float(distance.jensenshannon(p, q))})

ztest = []
for name, rf, rt, cf, ct in [("balanced", 480, 1000, 430, 900), ("shifted", 300, 1000, 450, 1000), ("small", 9, 20, 3, 15)]:
    p1, p2 = rf / rt, cf / ct
    pooled = (p1 * rt + p2 * ct) / (rt + ct)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / rt + 1 / ct))
    ztest.append({"name": name, "referenceFirst": rf, "referenceTotal": rt, "currentFirst": cf, "currentTotal": ct,
                  "z": float(z), "pvalue": float(2 * stats.norm.sf(abs(z)))})


def evidently_binned(reference, current, n_bins=30):
    # Evidently's get_binned_data(feel_zeroes=True), for numeric columns.
    reference, current = np.asarray(reference), np.asarray(current)
    if len(np.unique(reference)) > 20:
        bins = np.histogram_bin_edges(np.concatenate([reference, current]), bins=n_bins)
        r = np.histogram(reference, bins)[0] / len(reference)
        c = np.histogram(current, bins)[0] / len(current)
    else:
        keys = sorted(set(reference) | set(current))
        r = np.array([np.sum(reference == k) for k in keys]) / len(reference)
        c = np.array([np.sum(current == k) for k in keys]) / len(current)
    for s in (r, c):
        smallest = min(s[s != 0])
        np.place(s, s == 0, smallest / 10**6 if smallest <= 0.0001 else 0.0001)
    return r, c


psi = []
for name, a, b in [
    ("numeric, 30 bins", rng.normal(0, 1, 2000), rng.normal(0.3, 1, 1500)),
    ("numeric, empty bins", rng.normal(0, 1, 500), rng.normal(3, 0.5, 400)),
    ("few values", rng.integers(1, 6, 800).astype(float), rng.integers(1, 7, 600).astype(float)),
]:
    a, b = rounded(a), rounded(b)
    r, c = evidently_binned(a, b)
    psi.append({"name": name, "a": a, "b": b, "psi": float(np.sum((r - c) * np.log(r / c))),
                "jensenshannon": float(distance.jensenshannon(r, c))})

out = {
    "generator": "tests/data/drift/make_vectors.py",
    "scipy": scipy.__version__,
    "numpy": np.__version__,
    "python": sys.version.split()[0],
    "ks_2samp": ks,
    "kstwo_sf": kstwo,
    "wasserstein_distance": wasserstein,
    "chi2_contingency": chi2,
    "jensenshannon": js,
    "ztest": ztest,
    "psi": psi,
}
with open(__file__.replace("make_vectors.py", "scipy-vectors.json"), "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(f"scipy {scipy.__version__}: {len(ks)} ks_2samp, {len(kstwo)} kstwo.sf, {len(wasserstein)} wasserstein, "
      f"{len(chi2)} chi2_contingency, {len(js)} jensenshannon, {len(ztest)} z-tests, {len(psi)} psi")
for c in ks:
    print(c["name"], len(c["a"]), len(c["b"]), c["statistic"], c["pvalue"])
