"""`emostudio profile migrate OLD NEW`, `profile push URL`, `profile pull URL`: move records between stores.

Nothing is analysed again: ids, times, tags, scores and embeddings are copied as stored. A URL target goes to a
Qdrant server through qdrant-client, a folder through the embedded engine.
"""

from __future__ import annotations

import json

from emostudio.cli.common import say


def register(ps, guard, store_arg) -> None:
    """The three actions under `emostudio profile` (`guard`/`store_arg` are profile_cmd's helpers)."""
    m = ps.add_parser(
        "migrate",
        help="convert a store folder of the old format (qdrant-client local mode) into a new store",
        description="Reads OLD (left as it is) with an allow-listed unpickler that runs nothing, writes NEW.",
    )
    m.add_argument(
        "old", metavar="OLD", help="the old store folder (meta.json + collection/*/storage.sqlite)"
    )
    m.add_argument(
        "new", metavar="NEW", help="the new store: a folder, or http://host:6333 for a Qdrant server"
    )
    m.add_argument("--api-key", default=None, help="API key of a Qdrant server (Qdrant Cloud)")
    m.add_argument("--json", action="store_true", help="print JSON on stdout")
    m.set_defaults(func=guard(run_migrate))
    for action, text in (
        ("push", "copy every record of the local store (--store) to a Qdrant server (or another folder)"),
        ("pull", "copy every record of a Qdrant server (or another folder) into the local store (--store)"),
    ):
        p = ps.add_parser(action, help=text, description=text + "; records already there are replaced.")
        p.add_argument(
            "target", metavar="URL", help="http://host:6333 (a Qdrant server or cluster) or a folder"
        )
        p.add_argument("--target-api-key", default=None, help="API key of the server at URL (Qdrant Cloud)")
        store_arg(p)
        p.set_defaults(func=guard(run_push if action == "push" else run_pull))


def _done(args, report, verb: str) -> int:
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        say(f"{verb} {report.total} record(s) from {report.source} to {report.target}")
    return 0


def run_migrate(args) -> int:
    from emostudio.profiles.transfer import migrate

    return _done(args, migrate(args.old, args.new, api_key=args.api_key), "migrated")


def run_push(args) -> int:
    from emostudio.profiles import ProfileStore
    from emostudio.profiles.transfer import copy_store

    with (
        ProfileStore(args.store, api_key=args.api_key) as src,
        ProfileStore(args.target, api_key=args.target_api_key) as dst,
    ):
        return _done(args, copy_store(src, dst), "pushed")


def run_pull(args) -> int:
    from emostudio.profiles import ProfileStore
    from emostudio.profiles.transfer import copy_store

    with (
        ProfileStore(args.target, api_key=args.target_api_key) as src,
        ProfileStore(args.store, api_key=args.api_key) as dst,
    ):
        return _done(args, copy_store(src, dst), "pulled")
