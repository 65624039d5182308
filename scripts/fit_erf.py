#!/usr/bin/env python3
"""Fits the rational erf(z) ≈ z · P(z²) / Q(z²), deg P = 6, deg Q = 4, Q(0) = 1, on [0, 4] for the cpu backend's
vector GELU (bertj.backend.cpu.VectorKernels.erf), and reports its error in float32 arithmetic.

Method: linearised least squares (minimise Σ w (z P − f Q)² / Q_prev², Sanathanan–Koerner) on 4000 Chebyshev
points, with Lawson-style reweighting towards equal ripple. Deterministic: running it again prints the same
coefficients. Needs numpy only.
"""
import math

import numpy as np

ZMAX = 4.0  # erf(4) = 1 − 1.5e-8: past it erf rounds to 1 in float
DP, DQ = 6, 4


def fit(n=4000, iterations=60):
    z = (1 - np.cos(np.linspace(0, np.pi, n))) / 2 * ZMAX
    f = np.array([math.erf(v) for v in z])
    t = z * z
    q = np.ones_like(z)
    w = np.ones_like(z)
    for _ in range(iterations):
        a = np.hstack([(z * t ** k)[:, None] for k in range(DP + 1)] + [(-f * t ** k)[:, None] for k in range(1, DQ + 1)])
        s = np.sqrt(w) / q
        c, *_ = np.linalg.lstsq(a * s[:, None], f * s, rcond=None)
        p, qc = c[:DP + 1], np.concatenate([[1.0], c[DP + 1:]])
        q = np.polyval(qc[::-1], t)
        err = z * np.polyval(p[::-1], t) / q - f
        w = w * (np.abs(err) / np.abs(err).max() + 1e-3)
        w /= w.mean()
    return p, qc, np.abs(err).max()


def float32_error(p, qc):
    """Max |erf| error of the Horner evaluation in float32 (as the Java code does, without FMA), on [0, 4.5]."""
    x = np.linspace(0, 4.5, 200001).astype(np.float32)
    z = np.minimum(x, np.float32(ZMAX))
    t = z * z
    pv = np.float32(p[-1])
    for k in range(DP - 1, -1, -1):
        pv = pv * t + np.float32(p[k])
    qv = np.float32(qc[-1])
    for k in range(DQ - 1, -1, -1):
        qv = qv * t + np.float32(qc[k])
    r = (z * pv / qv).astype(np.float32)
    ref = np.array([math.erf(float(v)) for v in x])
    return np.abs(r - ref).max()


def main():
    p, qc, e = fit()
    print(f"fit error (float64) {e:.2e}; evaluated in float32 {float32_error(p, qc):.2e}")
    for k, v in enumerate(p):
        print(f"P{k} = {v!r}")
    for k, v in enumerate(qc[1:], start=1):
        print(f"Q{k} = {v!r}")


if __name__ == "__main__":
    main()
