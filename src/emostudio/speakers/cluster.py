"""How many speakers, and which embedding is whose.

Spectral clustering of the cosine affinities (3D-Speaker's, via senko: p-pruned affinity, unnormalised Laplacian,
the eigengap picks the count between 1 and `max_speakers`), then: clusters whose centroids are closer than
`merge_cos` merge, clusters with under `min_speaker_s` of speech are given to the nearest speaker, and every
embedding is reassigned to its nearest centroid (twice). At most `max_cluster_embeddings` embeddings are
clustered (an even stride); the others join their nearest centroid, so the affinity matrix stays bounded.
"""

from __future__ import annotations

import numpy as np

from emostudio.settings import SpeakerSettings

_MIN_TO_CLUSTER = 8  # fewer embeddings than this are one speaker


def _spectral(x: np.ndarray, max_speakers: int, pval: float) -> np.ndarray:
    from senko.cluster.cluster_cpu import SpectralCluster

    spectral = SpectralCluster(min_num_spks=1, max_num_spks=max_speakers, pval=pval, min_pnum=6)
    return np.asarray(spectral(x.astype(np.float64)), int)


def _centroids(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    c = np.stack([x[labels == k].mean(0) for k in np.unique(labels)])
    return c / (np.linalg.norm(c, axis=1, keepdims=True) + 1e-9)


def _relabel(labels: np.ndarray) -> np.ndarray:
    _, inv = np.unique(labels, return_inverse=True)
    return inv.astype(int)


def _merge_close(x: np.ndarray, labels: np.ndarray, merge_cos: float) -> np.ndarray:
    while len(np.unique(labels)) > 1:
        c = _centroids(x, labels)
        sim = np.triu(c @ c.T, 1)
        i, j = np.unravel_index(int(np.argmax(sim)), sim.shape)
        if sim[i, j] < merge_cos:
            break
        labels = _relabel(np.where(labels == j, i, labels))
    return labels


def _drop_small(x: np.ndarray, labels: np.ndarray, seconds: np.ndarray, min_s: float) -> np.ndarray:
    while len(np.unique(labels)) > 1:
        talk = np.bincount(labels, weights=seconds)
        small = int(np.argmin(talk))
        if talk[small] >= min_s:
            break
        keep = [k for k in range(len(talk)) if k != small]
        c = _centroids(x, labels)[keep]
        labels = np.where(labels == small, np.array(keep)[np.argmax(x @ c.T, axis=1)], labels)
        labels = _relabel(labels)
    return labels


def assign(x: np.ndarray, seconds: np.ndarray, max_speakers: int, cfg: SpeakerSettings):
    """(labels (n,) int from 0, centroids (k, d)) of L2-normalised embeddings `x`; `seconds`: each one's new
    speech (for the minimum speaker time)."""
    n = len(x)
    if n < _MIN_TO_CLUSTER or max_speakers == 1:
        return np.zeros(n, int), _centroids(x, np.zeros(n, int))
    stride = max(1, int(np.ceil(n / cfg.max_cluster_embeddings)))
    sub = x[::stride]
    labels = _merge_close(sub, _relabel(_spectral(sub, max_speakers, cfg.spectral_pval)), cfg.merge_cos)
    c = _centroids(sub, labels)
    labels = np.argmax(x @ c.T, axis=1)
    for _ in range(2):
        labels = _drop_small(x, _relabel(labels), seconds, cfg.min_speaker_s)
        labels = _merge_close(x, labels, cfg.merge_cos)
        c = _centroids(x, labels)
        labels = np.argmax(x @ c.T, axis=1)
    labels = _relabel(labels)
    return labels, _centroids(x, labels)
