"""A head for the user's labels: standardised utterance embeddings → multinomial logistic regression.

The regularisation strength C is chosen from `C_GRID` by an inner cross-validation (3 folds, or fewer when the
groups do not allow them) on the training part only (grouped like the outer one), minimising the mean log-loss of the held-out files; ties go to the smaller C
(the stronger regularisation). The standardiser is fitted inside each training part too, so nothing about a
test file reaches its own prediction. Plain arrays are kept (weights, bias, mean, scale), never a pickled model.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from emostudio.adapt.calibration import scale as softmax_t
from emostudio.adapt.folds import cv_folds

C_GRID: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)
DEFAULT_C = 1.0
INNER_FOLDS = 3  # nested CV: C is chosen inside each outer training part by this many folds
MAX_ITER = 3000


@dataclass
class Head:
    """p(class | embedding) = softmax(W · (x − mean) / scale + b) over `labels`.

    weights: (k, dim); bias: (k,); mean, scale: (dim,). C: the regularisation chosen; converged: whether the
    solver met its tolerance within MAX_ITER iterations.
    """

    weights: np.ndarray
    bias: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    C: float
    converged: bool = True

    def proba(self, embeddings: np.ndarray) -> np.ndarray:
        """(n, dim) embeddings → (n, k) probabilities."""
        x = (np.asarray(embeddings, dtype=np.float64) - self.mean) / self.scale
        return softmax_t(x @ self.weights.T + self.bias, 1.0)


def _estimator(C: float):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=MAX_ITER, warm_start=True)


def _fit(X: np.ndarray, y: np.ndarray, k: int, C: float, est=None) -> tuple[Head, object]:
    """Standardise and fit on (X, y); classes absent from y get weight 0 and bias −inf (probability 0)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X)
    if (
        len(np.unique(y)) < 2
    ):  # a training part with one class (grouped folds can do that): it is all it knows
        weights, bias = np.zeros((k, X.shape[1])), np.full(k, -np.inf)
        bias[int(y[0])] = 0.0
        return Head(weights, bias, scaler.mean_.copy(), scaler.scale_.copy(), float(C)), est
    est = est if est is not None else _estimator(C)
    est.C = C
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # recorded as Head.converged instead
        est.fit(scaler.transform(X), y)
    present = est.classes_.astype(int)
    coef, intercept = est.coef_, est.intercept_
    if len(present) == 2:  # scikit-learn's binary form: p(second) = sigmoid(w·x + b) = softmax([0, w·x + b])
        coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
        intercept = np.array([0.0, intercept[0]])
    weights = np.zeros((k, X.shape[1]))
    bias = np.full(k, -np.inf)
    weights[present], bias[present] = coef, intercept
    converged = bool(np.all(np.asarray(est.n_iter_) < MAX_ITER))
    return Head(weights, bias, scaler.mean_.copy(), scaler.scale_.copy(), float(C), converged), est


def _log_loss(probs: np.ndarray, truth: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(truth)), truth], 1e-15, 1.0))))


def choose_c(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    k: int,
    folds: int,
    seed: int,
    grid: Sequence[float] = C_GRID,
) -> tuple[float, dict]:
    """The C of `grid` with the lowest cross-validated log-loss on (X, y), and how it was chosen."""
    n_groups = len(set(groups.tolist()))
    inner = min(INNER_FOLDS, folds, n_groups)
    if inner < 2:
        return DEFAULT_C, {
            "C": DEFAULT_C,
            "chosen_by": "default (fewer than 2 groups: no inner cross-validation)",
            "inner_folds": 0,
        }
    splits = cv_folds(y, groups, inner, seed)
    losses = np.zeros((len(splits), len(grid)))
    for f, (tr, te) in enumerate(splits):
        est = None
        for j, C in enumerate(sorted(grid)):  # ascending C, warm-started from the previous solution
            head, est = _fit(X[tr], y[tr], k, C, est)
            losses[f, j] = _log_loss(head.proba(X[te]), y[te])
    mean = losses.mean(axis=0)
    best = int(np.argmin(mean))  # the first minimum: the smallest C among equals
    grid_sorted = sorted(grid)
    return float(grid_sorted[best]), {
        "C": float(grid_sorted[best]),
        "chosen_by": f"{inner}-fold inner cross-validation, mean log-loss",
        "inner_folds": inner,
        "grid": [float(c) for c in grid_sorted],
        "log_loss": [float(v) for v in mean],
    }


def fit_head(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    k: int,
    folds: int,
    seed: int,
    grid: Sequence[float] = C_GRID,
) -> tuple[Head, dict]:
    """Choose C by inner cross-validation on (X, y), then fit the head on all of it. y: (n,) indices < k."""
    from threadpoolctl import threadpool_limits

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    # one BLAS thread: at these sizes (≤ a few thousand × 1024) threads only contend; 7x faster on 2 busy cores
    with threadpool_limits(limits=1, user_api="blas"):
        C, how = choose_c(X, y, np.asarray(groups), k, folds, seed, grid)
        head, _ = _fit(X, y, k, C)
    return head, how
