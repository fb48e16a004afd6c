"""Utterance embeddings: comparing clips by cosine similarity."""

from __future__ import annotations

import numpy as np


def utterance_vector(embedding: np.ndarray) -> np.ndarray:
    """(dim,) utterance embedding from a (dim,) one or (frames, dim) frame embeddings (mean over frames)."""
    x = np.asarray(embedding, dtype=np.float64)
    if x.ndim == 2:
        if x.shape[0] == 0:
            raise ValueError("frame embeddings have zero frames")
        x = x.mean(axis=0)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"embedding must be (dim,) or (frames, dim), got shape {np.shape(embedding)}")
    if not np.all(np.isfinite(x)):
        raise ValueError("embedding contains NaN or infinite values")
    return x


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity in [-1, 1] of two utterance embeddings ((dim,) or (frames, dim), mean-pooled)."""
    u, v = utterance_vector(a), utterance_vector(b)
    if u.shape != v.shape:
        raise ValueError(f"embeddings differ in size: {u.shape[0]} vs {v.shape[0]} (different models?)")
    nu, nv = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    if nu == 0.0 or nv == 0.0:
        raise ValueError("an embedding is all zeros; cosine similarity is undefined")
    return float(np.clip(np.dot(u, v) / (nu * nv), -1.0, 1.0))
