#!/usr/bin/python3
"""The baseline of the drift benchmark: scipy.stats.ks_2samp on the arrays the C# benchmark wrote.

Usage: /usr/bin/python3 ks_scipy.py <dir with reference.f64 and current.f64> <features> <runs>
Prints the p-values' checksum and, last, "scipy ks_2samp median <ms> ms".
"""
import sys
import time

import numpy as np
from scipy import stats

folder, features, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
reference = np.fromfile(f"{folder}/reference.f64", dtype=np.float64).reshape(features, -1)
current = np.fromfile(f"{folder}/current.f64", dtype=np.float64).reshape(features, -1)


def check():
    start = time.perf_counter()
    pvalues = [stats.ks_2samp(reference[f], current[f]).pvalue for f in range(features)]
    return (time.perf_counter() - start) * 1000, pvalues


check()
times = []
for _ in range(runs):
    elapsed, pvalues = check()
    times.append(elapsed)
times.sort()
print(f"scipy p-values: {['%.3g' % p for p in pvalues]}")
print(f"scipy ks_2samp median {times[len(times) // 2]:.1f} ms")
