"""Utterance embeddings at work: similarity of two clips, ranking many against one, clustering.

Vectors are emotion2vec+ utterance embeddings, (dim,) floats; frame embeddings (frames, dim) are mean-pooled.
Score distributions are the model's 9 class probabilities in `emostudio.model.labels.KEYS` order.

- `similarity(u, v, p, q)`: cosine similarity of the embeddings, the Jensen–Shannon distance of the two score
  distributions, and a plain-language reading in zh and en.
- `rank(query, matrix, ...)`: the `top` nearest rows of a matrix by cosine.
- `cluster_vectors(X, k)`: k-means (scikit-learn) on unit-length rows, k chosen by silhouette for `"auto"`,
  plus a 2-D PCA map; `write_clusters` writes clusters.csv, cluster_summary.csv, clusters.json and a PNG map.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emostudio import atomic, csvsafe
from emostudio.messages import LANGS, t
from emostudio.model.labels import BY_KEY, COLOURS, KEYS, emotion_name
from emostudio.render.charts import chart, figure


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


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """(n, dim) float64 rows scaled to length 1; raises ValueError for a zero or non-finite row."""
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected an (n, dim) matrix, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("embeddings contain NaN or infinite values")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError(f"row {int(np.flatnonzero(norms[:, 0] == 0)[0])} is all zeros")
    return x / norms


def score_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon distance (base 2, in [0, 1]) of two 9-class score distributions; 0 = identical."""
    from scipy.spatial.distance import jensenshannon

    a, b = np.asarray(p, np.float64), np.asarray(q, np.float64)
    if a.shape != (len(KEYS),) or b.shape != (len(KEYS),):
        raise ValueError(f"score distributions must have {len(KEYS)} entries, got {a.shape} and {b.shape}")
    if np.any(a < 0) or np.any(b < 0) or a.sum() <= 0 or b.sum() <= 0:
        raise ValueError("score distributions must be non-negative and not all zero")
    return float(np.clip(jensenshannon(a, b, base=2.0), 0.0, 1.0))


# ---- plain-language reading ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SimilarityScale:
    """Rules of thumb for the reading: cosine at least `close[i]` is level i; JS distance at most `scores[i]`.

    Levels: 0 very close, 1 close, 2 somewhat alike, 3 different. Embedding cosines of one model sit in a narrow
    band (random-weight models put almost everything above 0.9), so the reading is a guide, not a test.
    """

    close: tuple[float, float, float] = (0.95, 0.85, 0.70)
    scores: tuple[float, float, float] = (0.10, 0.25, 0.50)


def _level_high(value: float, cuts: tuple[float, ...]) -> int:
    return next((i for i, c in enumerate(cuts) if value >= c), len(cuts))


def _level_low(value: float, cuts: tuple[float, ...]) -> int:
    return next((i for i, c in enumerate(cuts) if value <= c), len(cuts))


def read_similarity(
    cosine: float,
    distance: float | None,
    label_a: str | None = None,
    label_b: str | None = None,
    scale: SimilarityScale = SimilarityScale(),
    names: tuple[str, str] = ("A", "B"),
) -> dict[str, str]:
    """{"zh": ..., "en": ...}: one sentence on how alike two clips are, from cosine, JS distance and labels."""
    lc = _level_high(cosine, scale.close)
    lj = None if distance is None else _level_low(distance, scale.scores)
    overall = lc if lj is None else max(lc, lj)
    parts: dict[str, list[str]] = {lang: [t(f"sim_overall_{overall}", lang)] for lang in LANGS}
    for lang, out in parts.items():
        if label_a in BY_KEY and label_b in BY_KEY:
            a, b = emotion_name(label_a, lang), emotion_name(label_b, lang)
            if label_a == label_b:
                out.append(t("sim_both", lang, a=a))
            else:
                out.append(t("sim_each", lang, na=names[0], a=a, nb=names[1], b=b))
        if lj is not None:
            out.append(t("sim_scores", lang, level=t(f"sim_js_{lj}", lang), distance=distance))
        out.append(t("sim_embeddings", lang, level=t(f"sim_cos_{lc}", lang), cosine=cosine))
    return {"zh": "".join(parts["zh"]), "en": " ".join(parts["en"])}


@dataclass
class Similarity:
    """How alike two clips are. `score_distance` is None when a side has no scores (a bare .npy file)."""

    cosine: float
    score_distance: float | None
    reading: dict[str, str]  # {"zh", "en"}
    label_a: str | None = None
    label_b: str | None = None

    def to_dict(self) -> dict:
        return {
            "cosine": round(self.cosine, 6),
            "score_distance": None if self.score_distance is None else round(self.score_distance, 6),
            "reading": self.reading,
            "label_a": self.label_a,
            "label_b": self.label_b,
        }


def _label(p: np.ndarray | None) -> str | None:
    return None if p is None else KEYS[int(np.argmax(p))]


def similarity(
    u: np.ndarray,
    v: np.ndarray,
    p: np.ndarray | None = None,
    q: np.ndarray | None = None,
    scale: SimilarityScale = SimilarityScale(),
) -> Similarity:
    """Similarity of two clips: embeddings `u`, `v` ((dim,) or (frames, dim)); score distributions `p`, `q` (9,)."""
    cos = cosine_similarity(u, v)
    dist = score_distance(p, q) if p is not None and q is not None else None
    la, lb = _label(p), _label(q)
    return Similarity(cos, dist, read_similarity(cos, dist, la, lb, scale), la, lb)


def rank(query: np.ndarray, matrix: np.ndarray, top: int = 5) -> list[tuple[int, float]]:
    """The `top` rows of `matrix` (n, dim) nearest to `query` (dim,) by cosine: [(row, cosine)], best first."""
    q = utterance_vector(query)
    m = unit_rows(matrix)
    if m.shape[1] != q.shape[0]:
        raise ValueError(f"embeddings differ in size: query {q.shape[0]} vs {m.shape[1]} (different models?)")
    q = q / (np.linalg.norm(q) or 1.0)
    sims = m @ q
    order = np.argsort(-sims, kind="stable")[: max(0, top)]
    return [(int(i), float(np.clip(sims[i], -1, 1))) for i in order]


# ---- clustering ----------------------------------------------------------------------------------------------
@dataclass
class Clustering:
    """k-means on unit-length embeddings. `labels` (n,) cluster per row; `coords` (n, 2) PCA map of the rows."""

    labels: np.ndarray
    k: int
    centroids: np.ndarray  # (k, dim) in the unit-row space
    coords: np.ndarray  # (n, 2)
    explained_variance: tuple[float, float]  # share of variance on each map axis
    silhouette: float | None  # cosine silhouette of the chosen k (None when k = 1 or every row is a cluster)
    silhouettes: dict[int, float] = field(default_factory=dict)  # every k tried when k was "auto"
    distances: np.ndarray | None = None  # (n,) cosine distance of each row to its centroid


def _kmeans(x: np.ndarray, k: int, seed: int):
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit(x)


def cluster_vectors(matrix: np.ndarray, k: int | str = "auto", k_max: int = 10, seed: int = 0) -> Clustering:
    """Cluster (n, dim) embeddings with k-means on unit rows; `k="auto"` takes the k in 2..k_max with the best
    cosine silhouette. Deterministic for a given seed."""
    from sklearn.decomposition import PCA
    from sklearn.metrics import silhouette_score

    x = unit_rows(matrix)
    n = len(x)
    if n < 2:
        raise ValueError(f"clustering needs at least 2 clips, got {n}")
    silhouettes: dict[int, float] = {}
    if k == "auto":
        candidates = range(2, min(k_max, n - 1) + 1)
        if not candidates:
            fits = {1: _kmeans(x, 1, seed)}
        else:
            fits = {}
            for kk in candidates:
                fit = _kmeans(x, kk, seed)
                if len(set(fit.labels_.tolist())) < 2:
                    continue
                fits[kk] = fit
                silhouettes[kk] = float(silhouette_score(x, fit.labels_, metric="cosine"))
            if not silhouettes:  # every row identical: one cluster
                fits = {1: _kmeans(x, 1, seed)}
        best = max(silhouettes, key=lambda kk: (silhouettes[kk], -kk)) if silhouettes else 1
        fit = fits[best]
    else:
        best = int(k)
        if not 1 <= best <= n:
            raise ValueError(f"k must be between 1 and the number of clips ({n}), got {best}")
        fit = _kmeans(x, best, seed)
    labels = fit.labels_.astype(int)
    sil = silhouettes.get(best)
    if sil is None and 1 < len(set(labels.tolist())) < n:
        sil = float(silhouette_score(x, labels, metric="cosine"))
    centroids = fit.cluster_centers_
    cn = centroids / np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    dist = 1.0 - np.einsum("ij,ij->i", x, cn[labels])
    if n >= 2 and x.shape[1] >= 2:
        pca = PCA(n_components=2, random_state=seed).fit(x)
        coords = pca.transform(x)
        ev = (float(pca.explained_variance_ratio_[0]), float(pca.explained_variance_ratio_[1]))
    else:
        coords, ev = np.zeros((n, 2)), (0.0, 0.0)
    return Clustering(labels, best, centroids, coords, ev, sil, silhouettes, dist)


def cluster_summary(clustering: Clustering, probs: np.ndarray | None) -> list[dict]:
    """Per cluster: size, the dominant emotions (labels by count, top 3) and mean scores when `probs` (n, 9)."""
    out = []
    for c in range(clustering.k):
        rows = np.flatnonzero(clustering.labels == c)
        entry: dict = {"cluster": c, "size": int(len(rows))}
        if probs is not None and len(rows):
            p = np.asarray(probs)[rows]
            labels = np.argmax(p, axis=1)
            counts = np.bincount(labels, minlength=len(KEYS)) / len(rows)
            order = np.argsort(-counts, kind="stable")
            entry["dominant"] = [
                {"emotion": KEYS[i], "share": round(float(counts[i]), 4)} for i in order[:3] if counts[i] > 0
            ]
            entry["mean_scores"] = {k: round(float(v), 6) for k, v in zip(KEYS, p.mean(axis=0), strict=True)}
        out.append(entry)
    return out


def _dominant_text(entry: dict, lang: str) -> str:
    parts = []
    for d in entry.get("dominant", []):
        parts.append(f"{BY_KEY[d['emotion']].name(lang)} {d['share'] * 100:.0f}%")
    return ", ".join(parts)


def cluster_map_png(
    clustering: Clustering, probs: np.ndarray | None, title: str | None = None, lang: str = "en"
) -> bytes:
    """A PNG with the 2-D PCA map twice: coloured by cluster, and by predicted emotion (when `probs` given);
    every text in `lang`."""
    return _cluster_map(clustering, probs, title, lang=lang)


@chart
def _cluster_map(clustering: Clustering, probs: np.ndarray | None, title: str | None, *, lang: str):
    from matplotlib import colormaps

    panels = 2 if probs is not None else 1
    fig = figure(6.2 * panels, 5.2, layout="tight")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    xy = clustering.coords
    cmap = colormaps["tab10" if clustering.k <= 10 else "tab20"]
    for c in range(clustering.k):
        m = clustering.labels == c
        label = t("chart_cluster_item", lang, c=c, n=int(m.sum()))
        axes[0].scatter(xy[m, 0], xy[m, 1], s=22, color=cmap(c % cmap.N), label=label)
    axes[0].set_title(t("chart_by_cluster", lang))
    axes[0].legend(fontsize=8, loc="best")
    if probs is not None:
        labels = np.argmax(np.asarray(probs), axis=1)
        for i, key in enumerate(KEYS):
            m = labels == i
            if m.any():
                label = t(
                    "chart_emotion_item", lang, name=emotion_name(key, lang, emoji=False), n=int(m.sum())
                )
                axes[1].scatter(xy[m, 0], xy[m, 1], s=22, color=COLOURS[key], label=label)
        axes[1].set_title(t("chart_by_emotion", lang))
        axes[1].legend(fontsize=8, loc="best")
    ev = clustering.explained_variance
    for ax in axes:
        ax.set_xlabel(t("chart_pc", lang, i=1, share=ev[0] * 100))
        ax.set_ylabel(t("chart_pc", lang, i=2, share=ev[1] * 100))
        ax.grid(alpha=0.3)
    fig.suptitle(title or t("chart_clusters_title", lang))
    return fig


CLUSTERS_CSV = "clusters.csv"
SUMMARY_CSV = "cluster_summary.csv"
CLUSTERS_JSON = "clusters.json"
MAP_PNG = "cluster_map.png"


def write_clusters(
    out_dir: str | os.PathLike,
    names: list[str],
    clustering: Clustering,
    probs: np.ndarray | None = None,
    extra: dict | None = None,
    lang: str = "en",
    sources: list[str | None] | None = None,
) -> dict[str, Path]:
    """Write clusters.csv (one row per clip: name, source, cluster, distance, label, confidence, 9 scores; `source`
    is the analysed file a run folder or run id stands for, from `sources`, empty when not known),
    cluster_summary.csv (size and dominant emotions per cluster), clusters.json and cluster_map.png, atomically.
    Returns {kind: path}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = cluster_summary(clustering, probs)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        ["name", "source", "cluster", "distance_to_centroid", "pc1", "pc2", "label", "confidence", *KEYS]
    )
    for i, name in enumerate(names):
        source = sources[i] if sources is not None else None
        row = [
            csvsafe.cell(name),  # clip and file names a spreadsheet must not run
            csvsafe.cell(source or ""),
            int(clustering.labels[i]),
            f"{clustering.distances[i]:.6f}" if clustering.distances is not None else "",
            f"{clustering.coords[i, 0]:.6f}",
            f"{clustering.coords[i, 1]:.6f}",
        ]
        if probs is not None:
            p = np.asarray(probs[i])
            row += [KEYS[int(np.argmax(p))], f"{p.max():.6f}", *(f"{x:.6f}" for x in p)]
        else:
            row += ["", "", *([""] * len(KEYS))]
        w.writerow(row)
    paths = {"clusters_csv": out / CLUSTERS_CSV}
    atomic.write_text(paths["clusters_csv"], buf.getvalue())

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["cluster", "size", "dominant_en", "dominant_zh", *(f"mean_{k}" for k in KEYS)])
    for e in summary:
        means = e.get("mean_scores") or {}
        w.writerow(
            [
                e["cluster"],
                e["size"],
                _dominant_text(e, "en"),
                _dominant_text(e, "zh"),
                *(f"{means[k]:.6f}" if k in means else "" for k in KEYS),
            ]
        )
    paths["summary_csv"] = out / SUMMARY_CSV
    atomic.write_text(paths["summary_csv"], buf.getvalue())

    paths["map_png"] = out / MAP_PNG
    atomic.write_bytes(paths["map_png"], cluster_map_png(clustering, probs, lang=lang))
    doc = {
        "k": clustering.k,
        "silhouette": None if clustering.silhouette is None else round(clustering.silhouette, 6),
        "silhouettes": {str(k): round(v, 6) for k, v in clustering.silhouettes.items()},
        "explained_variance": [round(v, 6) for v in clustering.explained_variance],
        "clusters": summary,
        "files": {k: p.name for k, p in paths.items()},
        **(extra or {}),
    }
    paths["json"] = out / CLUSTERS_JSON
    atomic.write_json(paths["json"], doc)
    return paths
