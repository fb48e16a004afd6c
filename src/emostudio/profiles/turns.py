"""Speaker turns into profiles (`profile add --speakers auto --speaker-prefix P`): each speaker found in a
recording becomes speaker `P` + "spk0", ..., and each of its scored turns one record.

A turn's record holds the turn's scores, utterance embedding and quality verdict from the recording's one
analysis (each turn is prepared as a recording of its own, so they equal analysing the cut turn alone, see
emostudio.prepare; no second model pass); its key is the file's digest plus the turn's
start and end, so adding the recording again replaces its turns' records.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime

from emostudio.clips import ClipFailure
from emostudio.embeddings import utterance_vector
from emostudio.errors import EmoStudioError, printable
from emostudio.profiles.ingest import AddReport, file_digest, file_time
from emostudio.profiles.records import ProfileRecord, check_speaker, parse_time
from emostudio.profiles.store import ProfileStore


def add_speaker_turns(
    store: ProfileStore,
    paths: Sequence[str | os.PathLike],
    *,
    prefix: str,
    recognizer,
    speakers: int | str = "auto",
    at: datetime | str | None = None,
    tags: Sequence[str] = (),
    on_item: Callable[[object], None] | None = None,
) -> AddReport:
    """Find the speakers of each audio file and store each scored turn under `prefix` + the speaker id.

    A file that cannot be read or analysed is a failure in the report; the others are stored."""
    report = AddReport()
    when = parse_time(at, what="--at")
    for path in paths:
        name = printable(path)
        try:
            records = _turn_records(path, prefix, recognizer, speakers, when, tags)
        except (EmoStudioError, OSError) as e:
            failure = ClipFailure(name, getattr(e, "code", "file_missing"), f"{name}: {e}")
            report.failed.append(failure)
            if on_item:
                on_item(failure)
            continue
        report.stored(store, records)
        if on_item:
            for r in records:
                on_item(r)
    return report


def _turn_records(path, prefix, recognizer, speakers, when, tags) -> list[ProfileRecord]:
    """One record per scored turn, from the one analysis of the recording (its turns' own scores,
    embeddings and quality: what analysing each cut turn alone gives)."""
    result = recognizer.analyze(path, speakers=speakers)
    digest, at = file_digest(path), when or file_time(path)
    out = []
    for tr in result.speaker_turns.turns if result.speaker_turns else []:
        if tr.probs is None or tr.embedding is None:
            continue
        turn = tr.turn
        out.append(
            ProfileRecord(
                speaker=check_speaker(f"{prefix}{turn['speaker']}"),
                recorded_at=at,
                scores=tr.probs,
                model_id=recognizer.model.model_id,
                key=f"{digest}#{turn['start_s']:.3f}-{turn['end_s']:.3f}",
                embedding=utterance_vector(tr.embedding),
                source=os.fspath(path),
                quality=tr.quality_verdict,
                tags=list(tags),
                random_weights=recognizer.model_ref.is_random,
                duration_s=round(turn["end_s"] - turn["start_s"], 3),
            )
        )
    return out
