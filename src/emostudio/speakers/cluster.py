"""How many speakers, and which embedding is whose.

Spectral clustering of the cosine affinities (3D-Speaker's, as senko runs it: each row keeps its closest share
of affinities, unnormalised Laplacian, the largest eigengap picks the count between 1 and `max_speakers`, k-means
on the first eigenvectors), the share auto-tuned per recording by NME-SC (see `_spectral`; a fixed share
miscounted split voices at 5 dB SNR or merged four speakers into two, benchmarks/RESULTS.md). Written out here so
that senko's clustering module, which imports UMAP, HDBSCAN and numba, is not loaded. Then: clusters whose
centroids are closer than `merge_cos` merge, clusters with under `min_speaker_s` of speech are given to the nearest
speaker, and every embedding is reassigned to its nearest centroid (twice). At most `max_cluster_embeddings`
embeddings are clustered (an even stride); the others join their nearest centroid, so the affinity matrix stays bounded.
"""

from __future__ import annotations

import numpy as np

from emostudio.settings import SpeakerSettings

_MIN_TO_CLUSTER = 8  # fewer embeddings than this are one speaker


_MIN_KEPT = 6  # every row keeps at least this many affinities


def _laplacian(affinity: np.ndarray, pval: float) -> tuple[np.ndarray, int]:
    """(unnormalised Laplacian, affinities kept per row) when each row keeps its closest `pval` share."""
    a = affinity.copy()
    n = len(a)
    dropped = max(0, min(int((1 - pval) * n), n - _MIN_KEPT))
    if dropped > 0:
        lowest = np.argsort(a, axis=1)[:, :dropped]
        np.put_along_axis(a, lowest, 0.0, axis=1)
    a = 0.5 * (a + a.T)
    np.fill_diagonal(a, 0.0)
    return np.diag(np.abs(a).sum(axis=1)) - a, n - dropped


def _spectral(x: np.ndarray, max_speakers: int, pvals: tuple[float, ...]) -> np.ndarray:
    """(n,) labels of L2-normalised `x` (n, d).

    Each pruning share in `pvals` is tried and the one with the smallest ratio of affinities kept per row to the
    normalised maximum eigengap (largest gap among the first max_speakers+1 eigenvalues over the largest
    eigenvalue) is used: NME-SC, Park et al. 2020, "Auto-tuning spectral clustering for speaker diarization using
    normalized maximum eigengap". Its largest eigengap is the count; k-means on that many eigenvectors."""
    from sklearn.cluster import KMeans

    affinity = x.astype(np.float64) @ x.T.astype(np.float64)
    best: tuple[float, int, np.ndarray] | None = None
    for pval in pvals:
        laplacian, kept = _laplacian(affinity, pval)
        eigenvalues, eigenvectors = np.linalg.eigh(laplacian)
        gaps = np.diff(eigenvalues[: max_speakers + 1])
        ratio = kept / max(float(gaps.max()) / max(float(eigenvalues[-1]), 1e-12), 1e-12)
        if best is None or ratio < best[0]:
            k = int(np.argmax(gaps)) + 1
            best = (ratio, k, eigenvectors[:, :k])
    assert best is not None
    _, k, vectors = best
    return np.asarray(KMeans(n_clusters=k, random_state=0).fit_predict(vectors), int)


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


def assign(
    x: np.ndarray,
    seconds: np.ndarray,
    max_speakers: int,
    cfg: SpeakerSettings,
    full: np.ndarray | None = None,
):
    """(labels (n,) int from 0, centroids (k, d)) of L2-normalised embeddings `x`; `seconds`: each one's new
    speech (for the minimum speaker time).

    `full`: (n,) bool, the embeddings of whole-length windows. When at least 8 are and some are not, the speakers
    are found from those alone and every embedding then joins its nearest speaker: a shorter window (a whole short
    utterance) reads apart from the same voice's longer ones (a solo voice's 1.2-2.5 s utterances formed a second
    speaker, centroid cosine 0.889). A voice heard only in short utterances then joins the nearest speaker."""
    if full is not None and _MIN_TO_CLUSTER <= int(full.sum()) < len(x):
        _, centroids = _fit(x[full], seconds[full], max_speakers, cfg)
        return np.argmax(x @ centroids.T, axis=1), centroids
    return _fit(x, seconds, max_speakers, cfg)


def _fit(x: np.ndarray, seconds: np.ndarray, max_speakers: int, cfg: SpeakerSettings):
    n = len(x)
    if n < _MIN_TO_CLUSTER or max_speakers == 1:
        return np.zeros(n, int), _centroids(x, np.zeros(n, int))
    stride = max(1, int(np.ceil(n / cfg.max_cluster_embeddings)))
    sub = x[::stride]
    labels = _merge_close(sub, _relabel(_spectral(sub, max_speakers, cfg.spectral_pvals)), cfg.merge_cos)
    c = _centroids(sub, labels)
    labels = np.argmax(x @ c.T, axis=1)
    for _ in range(2):
        labels = _drop_small(x, _relabel(labels), seconds, cfg.min_speaker_s)
        labels = _merge_close(x, labels, cfg.merge_cos)
        c = _centroids(x, labels)
        labels = np.argmax(x @ c.T, axis=1)
    labels = _relabel(labels)
    return labels, _centroids(x, labels)
