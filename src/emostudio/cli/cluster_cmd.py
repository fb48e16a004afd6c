"""`emostudio cluster DIR|MANIFEST [--k N|auto] [--out DIR]`: group clips by how they sound (k-means on embeddings)."""

from __future__ import annotations

import argparse
import json
from collections import Counter

from rich.table import Table

from emostudio.cli.common import add_lang_arg, add_model_args, console, fail, say
from emostudio.errors import EmoStudioError
from emostudio.messages import t


def _k(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        k = int(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError("--k takes a number or 'auto'") from e
    if k < 1:
        raise argparse.ArgumentTypeError("--k must be at least 1")
    return k


def register(sub) -> None:
    p = sub.add_parser(
        "cluster",
        help="group clips by how they sound (k-means on embeddings) with a 2-D map",
        description="Cluster audio files, .npy embeddings or run folders (folders, manifests or run ids) with "
        "k-means on their utterance embeddings. Writes clusters.csv (each clip's cluster), cluster_summary.csv "
        "(size and dominant emotions), clusters.json and cluster_map.png (PCA map by cluster and by emotion).",
    )
    p.add_argument("inputs", nargs="+", metavar="DIR|MANIFEST", help="folders, manifests, files or run ids")
    p.add_argument(
        "--k", type=_k, default="auto", help="number of clusters, or 'auto' (best silhouette; default)"
    )
    p.add_argument("--k-max", type=int, default=10, help="largest k tried with --k auto (default 10)")
    p.add_argument("--seed", type=int, default=0, help="k-means seed (default 0)")
    p.add_argument("--out", default="clusters", help="folder for the result files (default: clusters)")
    p.add_argument(
        "--runs", default="outputs", help="folder holding run folders, for run ids (default: outputs)"
    )
    p.add_argument("--json", action="store_true", help="print clusters.json on stdout")
    add_lang_arg(p)
    add_model_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from emostudio.cli.similar_cmd import read_clips
    from emostudio.clips import resolve_sources
    from emostudio.embeddings import cluster_vectors, write_clusters
    from emostudio.model.labels import BY_KEY

    try:
        sources, failures = resolve_sources(args.inputs, args.runs)
        for f in failures:
            fail(str(f.message))
        items, ok = read_clips(args, sources, "embedding clips")
        if not ok:
            return 2
        clips = [c for c in items if hasattr(c, "vector")]
        failures += [c for c in items if not hasattr(c, "vector")]
        by_model = Counter(c.model_id for c in clips)
        if len(by_model) > 1:
            raise EmoStudioError(
                "clips from several models cannot be clustered together: "
                + ", ".join(f"{m or 'unknown (.npy)'} ({n})" for m, n in by_model.items())
            )
        dims = Counter(c.vector.shape[0] for c in clips)
        if len(dims) > 1:
            raise EmoStudioError(f"embeddings of different sizes: {dict(dims)}")
        if len(clips) < 2:
            raise EmoStudioError(f"clustering needs at least 2 readable clips, got {len(clips)}")
        probs = np.stack([c.probs for c in clips]) if all(c.probs is not None for c in clips) else None
        try:
            result = cluster_vectors(np.stack([c.vector for c in clips]), args.k, args.k_max, args.seed)
        except ValueError as e:
            raise EmoStudioError(str(e)) from e
        extra = {
            "clips": len(clips),
            "failed": [f.to_dict() if hasattr(f, "to_dict") else {"error": str(f)} for f in failures],
            "model_id": next(iter(by_model)),
            "random_weights": any(c.random_weights for c in clips),
        }
        names, analysed = [c.name for c in clips], [c.source for c in clips]
        paths = write_clusters(args.out, names, result, probs, extra, lang=args.lang, sources=analysed)
        doc = json.loads(paths["json"].read_text(encoding="utf-8"))
        if args.json:
            print(json.dumps(doc, ensure_ascii=False, indent=2))
        else:
            sil = "–" if result.silhouette is None else f"{result.silhouette:.3f}"
            table = Table(
                title=f"{len(clips)} clips in {result.k} clusters (silhouette {sil})", title_justify="left"
            )
            table.add_column("cluster", justify="right")
            table.add_column("size", justify="right")
            table.add_column("dominant emotions")
            for c in doc["clusters"]:
                dom = ", ".join(
                    f"{BY_KEY[d['emotion']].display()} {d['share'] * 100:.0f}%" for d in c.get("dominant", [])
                )
                table.add_row(str(c["cluster"]), str(c["size"]), dom or "–")
            console.print(table)
            for p in paths.values():
                say(f"  {p}")
            if extra["random_weights"]:
                console.print("⚠ " + t("random_note", "en"), highlight=False)
        return 1 if failures else 0
    except EmoStudioError as e:
        fail(f"{getattr(e, 'code', 'error')}: {e}")
        return 2
