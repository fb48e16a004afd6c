"""The speaker count and assignment (emostudio.speakers.cluster): its spectral clustering labels embeddings as
3D-Speaker's (senko's SpectralCluster) does, without loading senko's clustering module (UMAP, HDBSCAN, numba)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from emostudio.settings import SpeakerSettings
from emostudio.speakers import cluster

pytestmark = pytest.mark.unit


def voices(counts: tuple[int, ...], spread: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """L2-normalised 192-d embeddings around one random direction per speaker, and who each one is."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(counts), 192))
    who = np.repeat(np.arange(len(counts)), counts)
    x = centres[who] + spread * rng.normal(size=(len(who), 192))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), who


@pytest.mark.parametrize(("counts", "spread"), [((30, 20), 0.8), ((25, 15, 12), 1.0), ((12, 30, 9, 20), 0.9)])
def test_spectral_labels_equal_senkos_spectral_cluster(counts, spread):
    from senko.cluster.cluster_cpu import SpectralCluster

    x, who = voices(counts, spread, seed=len(counts))
    ours = cluster._spectral(x, 8, (0.2,))
    theirs = SpectralCluster(min_num_spks=1, max_num_spks=8, pval=0.2, min_pnum=6)(x.astype(np.float64))
    assert np.array_equal(ours, theirs)
    assert len(np.unique(ours)) == len(counts)
    # each found speaker is one true speaker
    assert all(len(np.unique(who[ours == k])) == 1 for k in np.unique(ours))


def test_the_pruning_share_with_the_clearest_eigengap_is_used():
    """Tried alone, each share gives senko's labels at that share; tried together, the one with the smallest
    kept-affinities / normalised-eigengap ratio (NME-SC) decides."""
    from senko.cluster.cluster_cpu import SpectralCluster

    x, _ = voices((25, 15, 12), 1.2, seed=7)
    affinity = x.astype(np.float64) @ x.T.astype(np.float64)
    ratios = {}
    for pval in (0.1, 0.2, 0.35):
        laplacian, kept = cluster._laplacian(affinity, pval)
        lam = np.linalg.eigvalsh(laplacian)
        ratios[pval] = kept / (np.diff(lam[:9]).max() / lam[-1])
    best = min(ratios, key=ratios.get)
    want = SpectralCluster(min_num_spks=1, max_num_spks=8, pval=best, min_pnum=6)(x.astype(np.float64))
    assert np.array_equal(cluster._spectral(x, 8, (0.1, 0.2, 0.35)), want)


def test_assign_counts_the_speakers_and_never_more_than_asked():
    x, who = voices((25, 15, 12), 1.0, seed=3)
    seconds = np.full(len(x), 1.5)
    labels, centroids = cluster.assign(x, seconds, 8, SpeakerSettings())
    assert len(centroids) == 3 and len(np.unique(labels)) == 3
    labels, centroids = cluster.assign(x, seconds, 2, SpeakerSettings())
    assert len(centroids) <= 2


def test_clustering_does_not_load_umap_or_numba():
    code = (
        "import sys, numpy as np\n"
        "from emostudio.settings import SpeakerSettings\n"
        "from emostudio.speakers import cluster\n"
        "x = np.random.default_rng(0).normal(size=(40, 192)).astype(np.float32)\n"
        "x /= np.linalg.norm(x, axis=1, keepdims=True)\n"
        "cluster.assign(x, np.ones(40), 8, SpeakerSettings())\n"
        "print(sorted(m for m in ('umap', 'hdbscan', 'numba', 'senko.cluster') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"


def test_speakers_are_found_from_whole_windows_and_short_ones_join_the_nearest():
    """Short windows that read apart from their voice's whole ones (a shifted copy of speaker 0) do not become a
    speaker of their own when `full` marks the whole windows; without it they do."""
    x, who = voices((30, 25), 0.6, seed=5)
    rng = np.random.default_rng(9)
    shifted = x[:12] + 0.9 * rng.normal(size=(1, 192))  # the same voice, moved one way: short utterances
    shifted /= np.linalg.norm(shifted, axis=1, keepdims=True)
    allx = np.concatenate([x, shifted.astype(np.float32)])
    seconds = np.full(len(allx), 1.5)
    full = np.arange(len(allx)) < len(x)
    cfg = SpeakerSettings()
    labels, centroids = cluster.assign(allx, seconds, 8, cfg, full)
    assert len(centroids) == 2 and len(labels) == len(allx)
    assert np.array_equal(labels[: len(x)][who == 0], np.full((who == 0).sum(), labels[0]))
    _, without = cluster.assign(allx, seconds, 8, cfg)
    assert len(without) == 3
