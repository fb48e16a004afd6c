"""Temperature scaling (Guo et al., 2017) of the model's class logits: p = softmax(z / T), one T for all classes.

The model's log-probabilities are its logits up to a per-file constant, which softmax ignores, so `logits(probs)`
= log p serves. T > 1 softens an over-confident model, T < 1 sharpens an under-confident one; the arg-max class
never changes, so accuracy stays the same and only the confidence (ECE, NLL, the bands) moves.
T is fitted by minimising the mean negative log-likelihood of the reference classes; NLL is convex in 1/T, so a
bounded 1-D search (scipy's `minimize_scalar`, method="bounded") finds the global minimum.
"""

from __future__ import annotations

import numpy as np

MIN_TEMPERATURE = 0.05
MAX_TEMPERATURE = 20.0
LOG_FLOOR = 1e-30  # probabilities below this count as this (a masked class: log 0 = -inf)


def logits(probs: np.ndarray) -> np.ndarray:
    """Log-probabilities (…, k) as logits; probabilities of 0 become log(1e-30)."""
    return np.log(np.clip(np.asarray(probs, dtype=np.float64), LOG_FLOOR, 1.0))


def scale(z: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(z / T) over the last axis: (…, k) logits → (…, k) probabilities."""
    s = np.asarray(z, dtype=np.float64) / temperature
    s = s - s.max(axis=-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)


def nll(z: np.ndarray, truth: np.ndarray, temperature: float) -> float:
    """Mean −log softmax(z / T)[truth] over the rows. z: (n, k) logits; truth: (n,) column indices."""
    s = np.asarray(z, dtype=np.float64) / temperature
    m = s.max(axis=1, keepdims=True)
    log_norm = (m + np.log(np.exp(s - m).sum(axis=1, keepdims=True)))[:, 0]
    return float(np.mean(log_norm - s[np.arange(len(s)), truth]))


def fit_temperature(z: np.ndarray, truth: np.ndarray) -> float:
    """The T in [0.05, 20] that minimises the NLL of `truth` under softmax(z / T). z: (n, k); truth: (n,)."""
    from scipy.optimize import minimize_scalar

    z = np.asarray(z, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.int64)
    if len(z) == 0:
        raise ValueError("no rows to fit a temperature on")
    res = minimize_scalar(
        lambda beta: nll(z, truth, 1.0 / beta),
        bounds=(1.0 / MAX_TEMPERATURE, 1.0 / MIN_TEMPERATURE),
        method="bounded",
        options={"xatol": 1e-6},
    )
    return float(1.0 / res.x)
