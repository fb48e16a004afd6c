"""`emostudio profile add|search|show|trend|compare|export|delete|migrate|push|pull`: speaker emotion profiles in a vector store."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from rich.table import Table

from emostudio.cli import profile_sync_cmd
from emostudio.cli.common import (
    EXIT_ALERT,
    add_lang_arg,
    add_model_args,
    console,
    fail,
    files_bar,
    load_recognizer,
    say,
)
from emostudio.errors import EmoStudioError
from emostudio.messages import t


def _store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        default=None,
        help="store folder (local Qdrant) or http://host:6333 for a Qdrant server "
        "(default: $EMOSTUDIO_PROFILE_STORE or ~/.local/share/emostudio/profiles)",
    )
    p.add_argument("--api-key", default=None, help="API key of a Qdrant server (Qdrant Cloud)")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--since", default=None, help="only records at or after this time (ISO 8601, e.g. 2026-01-01)"
    )
    p.add_argument("--until", default=None, help="only records before this time (ISO 8601)")
    p.add_argument("--tag", default=None, help="only records with this tag")
    p.add_argument(
        "--model-id", default=None, help="records of this model only (when the store holds several)"
    )


def register(sub) -> None:
    p = sub.add_parser(
        "profile",
        help="speaker emotion profiles: add clips, search, trends with alerts, compare, export, delete",
        description="Keep one record per analysed clip (speaker, time, label, 9 scores, quality, tags, model, "
        "embedding) in a vector store (Qdrant: a local folder by default, or a server) and read them back.",
    )
    ps = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    a = ps.add_parser("add", help="analyse clips (batched) and store them for a speaker")
    a.add_argument(
        "inputs", nargs="+", metavar="FILE|DIR|MANIFEST", help="audio, folders, manifests, run folders/ids"
    )
    a.add_argument("--speaker", default=None, help="speaker / customer id (a manifest's speaker column wins)")
    a.add_argument("--at", default=None, help="time of the recordings (ISO 8601); default: manifest time, else "
                   "the file's creation_time tag or modification time")  # fmt: skip
    a.add_argument("--tag", action="append", default=[], help="tag the records (repeatable)")
    a.add_argument(
        "--speakers",
        default=None,
        metavar="auto|N",
        help="find who spoke when in each file; each speaker's scored turns go under --speaker-prefix",
    )
    a.add_argument(
        "--speaker-prefix", default=None, metavar="P", help="with --speakers: speaker ids P+spk0, ..."
    )
    a.add_argument("--update", action="store_true", help="analyse and replace clips already stored")
    a.add_argument("--chunk", type=int, default=32, help="clips analysed and committed together (default 32)")
    a.add_argument(
        "--runs", default="outputs", help="folder holding run folders, for run ids (default: outputs)"
    )
    a.add_argument("--embedding-model-id", dest="model_id", default=None,
                   help="model id for .npy inputs without a result.json")  # fmt: skip
    _store_arg(a)
    add_model_args(a)
    a.set_defaults(func=run_add)

    s = ps.add_parser("search", help="the stored moments nearest to a clip")
    s.add_argument("query", metavar="FILE|RUN_ID|NPY", help="audio file, run id/folder or .npy embedding")
    s.add_argument("--k", type=int, default=5, help="how many records (default 5)")
    s.add_argument("--speaker", default=None, help="only this speaker's records")
    s.add_argument(
        "--runs", default="outputs", help="folder holding run folders, for run ids (default: outputs)"
    )
    _filters(s)
    _store_arg(s)
    add_model_args(s)
    s.set_defaults(func=run_search)

    sh = ps.add_parser("show", help="a speaker's profile (or every speaker without --speaker)")
    sh.add_argument("--speaker", default=None, help="speaker id; without it, list the speakers")
    _filters(sh)
    _store_arg(sh)
    sh.set_defaults(func=run_show)

    t = ps.add_parser("trend", help="emotion shares per day/week/month, a chart and the negative-share alert")
    t.add_argument("--speaker", required=True, help="speaker id")
    t.add_argument("--by", choices=["day", "week", "month"], default="week", help="period (default week)")
    t.add_argument("--threshold", type=float, default=0.15,
                   help="alert when the negative share of the last periods exceeds the earlier ones by more than "
                   "this (0-1; default 0.15 = 15 points)")  # fmt: skip
    t.add_argument("--recent", type=int, default=3, help="how many last periods are compared (default 3)")
    t.add_argument("--min-records", type=int, default=3, help="periods with fewer records are not judged (3)")
    t.add_argument("--tz", default=None, help="time zone of the periods, e.g. Asia/Shanghai (default: local)")
    t.add_argument("--out", default=".", help="folder for the chart files (PNG + HTML; default: .)")
    t.add_argument("--no-chart", action="store_true", help="do not write the chart files")
    add_lang_arg(t)
    t.add_argument(
        "--fail-on-alert", action="store_true", help=f"exit with status {EXIT_ALERT} when the alert is raised"
    )
    _filters(t)
    _store_arg(t)
    t.set_defaults(func=run_trend)

    _register_compare_export_delete(ps)
    profile_sync_cmd.register(ps, _guard, _store_arg)


def _register_compare_export_delete(ps) -> None:
    """`profile compare`, `profile export` and `profile delete`."""
    c = ps.add_parser("compare", help="how two speakers' expression differs")
    c.add_argument("speaker_a", metavar="A")
    c.add_argument("speaker_b", metavar="B")
    _filters(c)
    _store_arg(c)
    c.set_defaults(func=run_compare)

    e = ps.add_parser("export", help="write records to Parquet or CSV")
    e.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    e.add_argument("--out", default=None, help="file to write (default: profiles.parquet / profiles.csv)")
    e.add_argument("--speaker", default=None, help="only this speaker")
    e.add_argument("--no-embeddings", action="store_true", help="leave the embeddings out")
    _filters(e)
    _store_arg(e)
    e.set_defaults(func=run_export)

    d = ps.add_parser("delete", help="delete every record of a speaker (right to be forgotten)")
    d.add_argument("--speaker", required=True, help="speaker id")
    d.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _store_arg(d)
    d.set_defaults(func=run_delete)


# ---- helpers ---------------------------------------------------------------------------------------------------
def _open(args):
    from emostudio.profiles import ProfileStore

    return ProfileStore(args.store, api_key=getattr(args, "api_key", None))


def _guard(fn):
    """Typed errors become one red line and exit status 2, never a traceback."""

    def wrapped(args) -> int:
        try:
            return fn(args)
        except EmoStudioError as e:
            fail(f"{getattr(e, 'code', 'error')}: {e}")
            return 2
        except ImportError as e:  # the optional store libraries are missing
            fail(f"the profile store needs its libraries ({e.name or e}): pip install 'emostudio[store]'")
            return 2

    return wrapped


def _emit(args, doc) -> None:
    print(json.dumps(doc, ensure_ascii=False, indent=2))


def _pct(v: float) -> str:
    return f"{v * 100:.0f}%"


def _emo(key: str | None) -> str:
    from emostudio.model.labels import BY_KEY

    return BY_KEY[key].display() if key in BY_KEY else "–"


# ---- actions ---------------------------------------------------------------------------------------------------
def _en_zh(key: str) -> str:
    """A CLI row label in English with its Chinese after it (`negative share 负面占比`)."""
    return f"{t(key, 'en')} {t(key, 'zh')}"


def _add_turns(args, paths: list[str], recognizer) -> int:
    """`profile add --speakers auto --speaker-prefix P FILE...`: each speaker's scored turns as records."""
    from emostudio.errors import UsageError
    from emostudio.options import parse_speakers
    from emostudio.profiles.turns import add_speaker_turns  # (cli: imports at use)

    try:
        speakers = parse_speakers(args.speakers)
    except UsageError as e:
        fail(str(e))
        return 2
    if speakers is None or not (args.speaker_prefix or "").strip():
        fail("--speakers needs auto or a number and --speaker-prefix P (speaker ids P+spk0, P+spk1, ...)")
        return 2
    if (rec := recognizer()) is None:
        return 2
    with _open(args) as store:
        report = add_speaker_turns(
            store, paths, prefix=args.speaker_prefix.strip(), recognizer=rec, speakers=speakers,
            at=args.at, tags=args.tag,
        )  # fmt: skip
        for f in report.failed:
            fail(str(f.message))
        if args.json:
            _emit(args, {**report.to_dict(), "store": store.location})
        else:
            who = ", ".join(f"{s} ({n})" for s, n in report.speakers.items()) or "–"
            console.print(f"added {report.added} turn record(s) for {who}; {len(report.failed)} failed")
    return 1 if report.failed else 0


@_guard
def run_add(args) -> int:
    from emostudio.profiles import AddReport, add_batch_results, add_sources

    loaded: list = []

    def recognizer():
        if not loaded:
            loaded.append(load_recognizer(args))
        return loaded[0]

    # finished `emostudio batch --embedding` folders are read as they are; everything else is analysed
    batches = [p for p in args.inputs if Path(p).is_dir() and any(Path(p).glob("part-*.parquet"))]
    others = [p for p in args.inputs if p not in batches]
    report = AddReport()
    if args.speakers is not None:
        return _add_turns(args, others, recognizer)
    with _open(args) as store:
        bar = files_bar(2, "adding clips")
        task = bar.add_task("adding clips", total=None)

        def on_item(item) -> None:
            bar.advance(task)
            if not hasattr(item, "vector"):
                fail(str(item.message))

        with bar:
            if others:
                report = add_sources(
                    store,
                    others,
                    speaker=args.speaker,
                    recognizer=recognizer,
                    at=args.at,
                    tags=args.tag,
                    runs_root=args.runs,
                    update=args.update,
                    chunk=max(1, args.chunk),
                    model_id=args.model_id,
                    on_plan=lambda n: bar.update(task, total=n),
                    on_item=on_item,
                )
            for folder in batches:
                part = add_batch_results(
                    store,
                    folder,
                    speaker=args.speaker,
                    at=args.at,
                    tags=args.tag,
                    on_part=lambda done, total: bar.update(task, completed=done, total=total),
                )
                for f in part.failed:
                    fail(str(f.message))
                report.merge(part)
        if loaded and loaded[0] is None:
            return 2
        if args.json:
            _emit(args, {**report.to_dict(), "store": store.location})
        else:
            who = ", ".join(f"{s} ({n})" for s, n in report.speakers.items()) or "–"
            console.print(
                f"added {report.added} record(s) for {who}; {report.skipped} already stored; "
                f"{len(report.failed)} failed · {store.describe()}",
                highlight=False,
            )
        if report.skipped and not args.update:  # said on stderr with --json too: stdout stays the JSON
            say(t("profile_skipped_note", "en", n=report.skipped), "yellow", err=True)
    return 1 if report.failed else 0


@_guard
def run_search(args) -> int:
    from emostudio.cli.similar_cmd import read_clips
    from emostudio.clips import resolve_sources

    sources, bad = resolve_sources([args.query], args.runs)
    if bad or len(sources) != 1:
        raise EmoStudioError(bad[0].message if bad else f"{args.query}: the query must be one clip")
    with _open(args) as store:
        items, ok = read_clips(args, sources, "reading the query")
        if not ok or not hasattr(items[0], "vector"):
            return 2
        q = items[0]
        hits = store.search(
            q.vector,
            model_id=args.model_id or q.model_id,
            k=args.k,
            speaker=args.speaker,
            since=args.since,
            until=args.until,
            tag=args.tag,
        )
    if args.json:
        _emit(args, {"query": q.name, "model_id": q.model_id, "matches": [h.to_dict() for h in hits]})
        return 0
    t = Table(title=f"nearest moments to {q.name}", title_justify="left")
    for col in ("#", "cosine", "speaker", "recorded", "emotion", "conf.", "source"):
        t.add_column(col, justify="right" if col in ("#", "cosine", "conf.") else "left")
    for i, h in enumerate(hits, 1):
        t.add_row(str(i), f"{h.score:.4f}", h.speaker, f"{h.recorded_at:%Y-%m-%d %H:%M}", _emo(h.label),
                  _pct(h.confidence), h.source)  # fmt: skip
    console.print(t)
    return 0


def _summary_table(s) -> Table:
    t = Table(title=f"{s.speaker} · {s.count} record(s) · model {s.model_id}", title_justify="left")
    t.add_column("emotion")
    t.add_column("records", justify="right")
    t.add_column("share", justify="right")
    t.add_column("mean score", justify="right")
    from emostudio.model.labels import KEYS

    for k in sorted(KEYS, key=lambda k: -s.label_counts[k]):
        t.add_row(_emo(k), str(s.label_counts[k]), _pct(s.label_shares[k]), f"{s.mean_scores[k]:.3f}")
    t.add_section()
    t.add_row(_en_zh("cli_negative_share"), "", _pct(s.negative_share), "")
    t.add_row(_en_zh("cli_mean_confidence"), "", _pct(s.mean_confidence), "")
    t.add_row(_en_zh("cli_first_seen"), s.first_seen, "", "")
    t.add_row(_en_zh("cli_last_seen"), s.last_seen, "", "")
    return t


@_guard
def run_show(args) -> int:
    from emostudio.profiles import summarize

    with _open(args) as store:
        if args.speaker is None:
            refs = store.collections()
            speakers = store.speakers(args.model_id)
            if args.json:
                _emit(args, {"store": store.location, "collections": [r.to_dict() for r in refs],
                             "speakers": speakers})  # fmt: skip
                return 0
            table = Table(
                title=f"{store.describe()} · {sum(speakers.values())} record(s)", title_justify="left"
            )
            table.add_column("speaker")
            table.add_column("records", justify="right")
            for spk, n in speakers.items():
                table.add_row(spk, str(n))
            console.print(table)
            for r in refs:
                say(f"  model {r.model_id} · {r.dim}-d · {r.count} record(s)")
            return 0
        recs = store.speaker_records(
            args.speaker, args.model_id, since=args.since, until=args.until, tag=args.tag
        )
    if not recs:
        raise EmoStudioError(f"speaker {args.speaker!r} has no records in that time range / tag")
    s = summarize(recs)
    if args.json:
        _emit(args, s.to_dict())
    else:
        console.print(_summary_table(s))
        if s.random_weights:
            console.print("⚠ " + t("random_note", "en"), highlight=False)
    return 0


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text, flags=re.UNICODE).strip("._")[:80] or "speaker"


@_guard
def run_trend(args) -> int:
    from emostudio import atomic
    from emostudio.model.labels import KEYS
    from emostudio.profiles import AlertRule, trend
    from emostudio.profiles.charts import trend_html, trend_png

    rule = AlertRule(threshold=args.threshold, recent=args.recent, min_records=args.min_records)
    with _open(args) as store:
        recs = store.speaker_records(
            args.speaker, args.model_id, since=args.since, until=args.until, tag=args.tag
        )
    if not recs:
        raise EmoStudioError(f"speaker {args.speaker!r} has no records in that time range / tag")
    tr = trend(recs, by=args.by, rule=rule, tz=args.tz)
    files = {}
    if not args.no_chart:
        png = trend_png(tr, lang=args.lang)
        base = Path(args.out) / f"trend_{_slug(args.speaker)}_{args.by}"
        files = {"png": str(base.with_suffix(".png")), "html": str(base.with_suffix(".html"))}
        atomic.write_bytes(files["png"], png)
        atomic.write_text(files["html"], trend_html(tr, png))
    if args.json:
        _emit(args, {**tr.to_dict(), "files": files})
    else:
        t = Table(title=f"{args.speaker} · emotion shares by {args.by} ({tr.tz})", title_justify="left")
        t.add_column("period")
        t.add_column("n", justify="right")
        shown = [k for k in KEYS if tr.table[f"share_{k}"].fillna(0).any()]
        for k in shown:
            t.add_column(_emo(k), justify="right")
        t.add_column("negative", justify="right")
        for _, r in tr.table.iterrows():
            cells = ["–" if r[f"share_{k}"] != r[f"share_{k}"] else _pct(r[f"share_{k}"]) for k in shown]
            neg = "–" if r["negative_share"] != r["negative_share"] else _pct(r["negative_share"])
            t.add_row(r["period"], str(r["records"]), *cells, neg)
        console.print(t)
        style = "bold red" if tr.alert.triggered else "green"
        say(f"{tr.alert.message['zh']}\n{tr.alert.message['en']}", style)
        for f in files.values():
            say(f"  {f}")
    return EXIT_ALERT if (args.fail_on_alert and tr.alert.triggered) else 0


@_guard
def run_compare(args) -> int:
    from emostudio.model.labels import KEYS
    from emostudio.profiles import compare

    with _open(args) as store:
        kw = {"since": args.since, "until": args.until, "tag": args.tag, "with_vectors": True}
        ra = store.speaker_records(args.speaker_a, args.model_id, **kw)
        rb = store.speaker_records(args.speaker_b, args.model_id, **kw)
    if not ra or not rb:
        raise EmoStudioError("one of the speakers has no records in that time range / tag")
    c = compare(ra, rb)
    if args.json:
        _emit(args, c.to_dict())
        return 0
    t = Table(title=f"{args.speaker_a} ({c.a.count}) vs {args.speaker_b} ({c.b.count})", title_justify="left")
    for col in ("emotion", f"share {args.speaker_a}", f"share {args.speaker_b}", "Δ share", "Δ mean score"):
        t.add_column(col, justify="left" if col == "emotion" else "right")
    for k in KEYS:
        t.add_row(_emo(k), _pct(c.a.label_shares[k]), _pct(c.b.label_shares[k]),
                  f"{c.share_diff[k] * 100:+.0f}", f"{c.score_diff[k]:+.3f}")  # fmt: skip
    console.print(t)
    console.print(f"centroid cosine {c.centroid_cosine:.4f} · score distance (JS) {c.score_distance:.4f}")
    say(f"{c.reading['zh']}\n{c.reading['en']}")
    return 0


@_guard
def run_export(args) -> int:
    from emostudio.profiles.export import export_records

    out = args.out or f"profiles.{args.format}"
    with _open(args) as store:
        recs = store.records(
            speaker=args.speaker, model_id=args.model_id, since=args.since, until=args.until, tag=args.tag,
            with_vectors=not args.no_embeddings,
        )  # fmt: skip
        if args.speaker and not recs:
            store.require_speaker(args.speaker, args.model_id)
    written = export_records(recs, out, args.format, embedding=not args.no_embeddings)
    if args.json:
        _emit(args, {"records": len(recs), "files": [str(p) for p in written]})
    else:
        console.print(
            f"exported {len(recs)} record(s) → {', '.join(str(p) for p in written)}", highlight=False
        )
    return 0


@_guard
def run_delete(args) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            raise EmoStudioError("deleting needs confirmation: add --yes")
        answer = input(f"Delete every record of {args.speaker!r}? This cannot be undone. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            console.print("nothing deleted")
            return 1
    with _open(args) as store:
        n = store.delete_speaker(args.speaker)
    if args.json:
        _emit(args, {"speaker": args.speaker, "deleted": n})
    else:
        say(f"deleted {n} record(s) of {args.speaker}")
    return 0
