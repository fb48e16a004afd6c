"""`emostudio similar A B` (how alike two clips are) and `emostudio similar QUERY DIR --top 5` (rank a folder)."""

from __future__ import annotations

import argparse
import json

from rich.table import Table
from rich.text import Text

from emostudio.cli.common import add_model_args, console, err_console, fail, files_bar, load_recognizer, say
from emostudio.errors import EmoStudioError
from emostudio.messages import t


def register(sub) -> None:
    p = sub.add_parser(
        "similar",
        help="how alike two clips are, or rank a folder against a clip",
        description="Compare two clips (audio files, .npy embeddings or run ids): cosine similarity of the "
        "embeddings, Jensen–Shannon distance of the 9 scores and a reading in zh/en. With a folder (or several "
        "targets), rank them against the first clip.",
    )
    p.add_argument("query", metavar="A|QUERY", help="audio file, .npy embedding, run folder or run id")
    p.add_argument(
        "targets", nargs="+", metavar="B|DIR", help="one clip to compare, or folders/clips to rank"
    )
    p.add_argument(
        "--top", type=int, default=5, help="how many nearest clips to list when ranking (default 5)"
    )
    p.add_argument(
        "--runs", default="outputs", help="folder holding run folders, for run ids (default: outputs)"
    )
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    add_model_args(p)
    p.set_defaults(func=run)


def read_clips(args, sources: list, what: str):
    """(clips or failures in source order, model_ok); the model is loaded only when audio must be scored."""
    from emostudio.clips import iter_clips, needs_model

    rec = None
    if needs_model(sources):
        rec = load_recognizer(args)
        if rec is None:
            return [], False
    items = []
    with files_bar(len(sources), what) as bar:
        task = bar.add_task(what, total=len(sources))
        for item in iter_clips(sources, rec, chunk=32):
            bar.advance(task)
            items.append(item)
            if not hasattr(item, "vector"):
                fail(str(item.message))
    return items, True


def _info(clip) -> dict:
    return {
        "name": clip.name,
        "source": clip.source,
        "run_id": clip.run_id,
        "emotion": clip.label,
        "confidence": None if clip.confidence is None else round(clip.confidence, 6),
        "model_id": clip.model_id,
    }


def _same_model(a, b) -> None:
    from emostudio.clips import ClipError

    if a.model_id and b.model_id and a.model_id != b.model_id:
        raise ClipError(
            b.name, f"made by model {b.model_id}, {a.name} by {a.model_id}: embeddings of different models "
            "are not comparable", "model_mismatch",
        )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from emostudio.clips import resolve_sources

    try:
        query_src, bad = resolve_sources([args.query], args.runs)
        if bad or len(query_src) != 1:
            msg = bad[0].message if bad else f"{args.query}: the query must be one clip, not {len(query_src)}"
            raise EmoStudioError(msg)
        targets, failures = resolve_sources(args.targets, args.runs)
        for f in failures:
            fail(str(f.message))
        pair = (
            len(args.targets) == 1
            and len(targets) == 1
            and not failures
            and targets[0].name == args.targets[0]
        )
        items, ok = read_clips(args, query_src + targets, "reading clips")
        if not ok:
            return 2
        query, others = items[0], [c for c in items[1:] if hasattr(c, "vector")]
        failures += [c for c in items[1:] if not hasattr(c, "vector")]
        if not hasattr(query, "vector"):
            return 2
        if pair:
            return _pair(args, query, others[0]) if others else 2
        return _ranking(args, query, query_src[0].path.resolve(), others, failures)
    except EmoStudioError as e:
        fail(f"{getattr(e, 'code', 'error')}: {e}")
        return 2


def _pair(args: argparse.Namespace, query, b) -> int:
    """`similar A B`: how alike two clips are."""
    from emostudio.embeddings import similarity

    _same_model(query, b)
    try:
        sim = similarity(query.vector, b.vector, query.probs, b.probs)
    except ValueError as e:
        raise EmoStudioError(f"{query.name} vs {b.name}: {e}") from e
    doc = {
        **sim.to_dict(),
        "a": _info(query),
        "b": _info(b),
        "random_weights": query.random_weights or b.random_weights,
    }
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    say(f"{query.name} ↔ {b.name}", "bold")
    say(f"  cosine similarity: {sim.cosine:.4f}")
    if sim.score_distance is not None:
        console.print(f"  score distance (Jensen–Shannon): {sim.score_distance:.4f}", highlight=False)
    say(f"  {sim.reading['zh']}\n  {sim.reading['en']}")
    if doc["random_weights"]:
        console.print("  " + "⚠ " + t("random_note", "en"), highlight=False)
    return 0


def _ranking(args: argparse.Namespace, query, qpath, others: list, failures: list) -> int:
    """`similar Q DIR`: the clips nearest to the query, best first."""
    import numpy as np

    from emostudio.clips import ClipFailure
    from emostudio.embeddings import rank, score_distance

    usable = []
    for c in others:
        if c.origin is not None and c.origin.path.resolve() == qpath:
            continue  # the query itself, found in the folder
        try:
            _same_model(query, c)
            if c.vector.shape != query.vector.shape:
                raise EmoStudioError(
                    f"{c.name}: embedding size {c.vector.shape[0]} ≠ {query.vector.shape[0]}"
                )
            usable.append(c)
        except EmoStudioError as e:
            failures.append(ClipFailure(c.name, e.code, str(e)))
            fail(str(e))
    if not usable:
        err_console.print("[red]✗ nothing to rank[/]", highlight=False)
        return 2
    order = rank(query.vector, np.stack([c.vector for c in usable]), args.top)
    hits = []
    for pos, (i, cos) in enumerate(order, 1):
        c = usable[i]
        dist = (
            score_distance(query.probs, c.probs) if query.probs is not None and c.probs is not None else None
        )
        hits.append({"rank": pos, "cosine": round(cos, 6),
                     "score_distance": None if dist is None else round(dist, 6), **_info(c)})  # fmt: skip
    if args.json:
        print(json.dumps({"query": _info(query), "compared": len(usable), "matches": hits}, ensure_ascii=False,
                         indent=2))  # fmt: skip
    else:
        _print_hits(query, usable, hits)
    return 1 if failures else 0


def _print_hits(query, usable: list, hits: list[dict]) -> None:
    from emostudio.model.labels import BY_KEY

    table = Table(title=Text(f"nearest to {query.name} ({len(usable)} compared)"), title_justify="left")
    for col in ("#", "cosine", "JS distance", "emotion", "clip"):
        table.add_column(col, justify="right" if col in ("#", "cosine", "JS distance") else "left")
    for h in hits:
        js = "–" if h["score_distance"] is None else f"{h['score_distance']:.3f}"
        emo = BY_KEY[h["emotion"]].display() if h["emotion"] else "–"
        table.add_row(str(h["rank"]), f"{h['cosine']:.4f}", js, emo, Text(h["name"]))
    console.print(table)
