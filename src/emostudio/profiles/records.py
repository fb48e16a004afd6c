"""One analysed clip of one speaker: the record the profile store keeps, its stable id, times, where stores live."""

from __future__ import annotations

import hashlib
import os
import re
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from emostudio.model.labels import KEYS
from emostudio.profiles.errors import BadTimeError, ProfileError, TimeRangeError

NEGATIVE = ("angry", "disgusted", "fearful", "sad")  # the emotions a rising share of which raises the alert
ID_NAMESPACE = uuid.UUID("5b0f7c1e-2d44-4e8a-9a57-6d3c0e6f1a42")  # fixed forever: ids must not change
COLLECTION_PREFIX = "emostudio_"
MAX_SPEAKER_CHARS = 200
STORE_ENV = "EMOSTUDIO_PROFILE_STORE"


def default_store_path() -> Path:
    """Where the local store lives unless told: $EMOSTUDIO_PROFILE_STORE, else the user's data folder
    ($XDG_DATA_HOME or ~/.local/share on Linux, ~/Library/Application Support on macOS, %LOCALAPPDATA% on
    Windows) + emostudio/profiles."""
    if os.environ.get(STORE_ENV):
        return Path(os.path.expanduser(os.environ[STORE_ENV]))
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "emostudio" / "profiles"


def collection_name(model_id: str, dim: int) -> str:
    """The collection of one model and embedding size, e.g. `emostudio_emotion2vec_plus_large_1024_1a2b3c4d`.

    The hash of the full model id keeps two models with the same short name apart."""
    slug = re.sub(r"[^A-Za-z0-9]+", "_", model_id.rstrip("/").split("/")[-1]).strip("_")[-40:] or "model"
    digest = hashlib.sha1(model_id.encode()).hexdigest()[:8]
    return f"{COLLECTION_PREFIX}{slug}_{int(dim)}_{digest}"


def check_speaker(speaker: str | None) -> str:
    """A speaker id as stored: stripped, 1–200 characters, no control characters."""
    s = (speaker or "").strip()
    if not s:
        raise ProfileError("a speaker id is needed (--speaker ID, or a speaker column in the manifest)")
    if len(s) > MAX_SPEAKER_CHARS or any(ord(ch) < 32 for ch in s):
        raise ProfileError(f"speaker id {s[:40]!r}… must be at most {MAX_SPEAKER_CHARS} printable characters")
    return s


def record_id(speaker: str, key: str) -> str:
    """The point id of a clip of a speaker: uuid5 of (speaker, clip key), so adding it again replaces it."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{speaker}\x1f{key}"))


MIN_TIME = datetime(1, 1, 2, tzinfo=timezone.utc)  # the calendar's ends less a day: every zone can show them
MAX_TIME = datetime(9999, 12, 30, 23, 59, 59, tzinfo=timezone.utc)
TIME_RANGE = "0001-01-02 to 9999-12-30 (UTC)"


def local_zone():
    """This machine's zone as it is now (for periods; a naive time is read with the offset on its own date)."""
    return datetime.now().astimezone().tzinfo


def parse_time(value: str | float | datetime | None, *, what: str = "time") -> datetime | None:
    """An aware datetime (UTC) from ISO 8601 text (`2026-01-05`, `2026-01-05T09:30`, `…Z`, `…+08:00`), epoch
    seconds, or a datetime. Times without a zone are this machine's local time with the offset on that date
    (summer time in summer). Raises BadTimeError, TimeRangeError outside MIN_TIME..MAX_TIME."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        dt = datetime.fromtimestamp(float(value), timezone.utc)
    else:
        text = str(value).strip()
        try:
            dt = (
                datetime.fromtimestamp(float(text), timezone.utc)
                if re.fullmatch(r"\d{9,11}(\.\d+)?", text)
                else datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
            )
        except (ValueError, OverflowError, OSError) as e:
            raise BadTimeError(
                f"{what} {text!r} is not a time: use ISO 8601 like 2026-01-05, 2026-01-05T09:30 or "
                "2026-01-05T09:30:00+08:00"
            ) from e
    shown = value if isinstance(value, str) else dt.isoformat()
    try:
        # a naive time: astimezone() reads it in the local zone with that date's offset (the OS's zone rules)
        utc = (dt.astimezone() if dt.tzinfo is None else dt).astimezone(timezone.utc)
    except (OverflowError, ValueError, OSError):
        utc = None
    if utc is None or not MIN_TIME <= utc <= MAX_TIME:
        raise TimeRangeError(f"{what} {shown!r} is outside the accepted range {TIME_RANGE}")
    return utc


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


@dataclass
class ProfileRecord:
    """One analysed clip of one speaker. `scores` (9,) in KEYS order; `embedding` (dim,) utterance embedding.

    `key` identifies the clip within the speaker (normally `sha256:<file digest>`); the record id is derived from
    (speaker, key), so adding the same clip twice keeps one record.
    """

    speaker: str
    recorded_at: datetime
    scores: np.ndarray
    model_id: str
    key: str
    embedding: np.ndarray | None = None
    source: str = ""
    quality: str | None = None
    tags: list[str] = field(default_factory=list)
    random_weights: bool = False
    run_id: str | None = None
    duration_s: float | None = None
    added_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    id: str = ""
    score: float | None = None  # cosine to the query, for search results
    embedding_dim: int = 0  # size of the stored embedding when it was not read back

    def __post_init__(self) -> None:
        self.speaker = check_speaker(self.speaker)
        self.scores = np.asarray(self.scores, np.float64)
        if self.scores.shape != (len(KEYS),) or not np.all(np.isfinite(self.scores)) or self.scores.min() < 0:
            raise ProfileError(f"{self.source or self.key}: scores must be {len(KEYS)} non-negative numbers")
        if self.embedding is not None:
            self.embedding = np.asarray(self.embedding, np.float32).reshape(-1)
            if not np.all(np.isfinite(self.embedding)) or not np.any(self.embedding):
                raise ProfileError(f"{self.source or self.key}: the embedding is empty, zero or not finite")
        when = parse_time(self.recorded_at, what="recorded_at")
        if when is None:
            raise ProfileError(
                f"{self.source or self.key}: recorded_at is empty; give the time of the recording"
            )
        self.recorded_at = when
        self.tags = sorted({str(t).strip() for t in self.tags if str(t).strip()})
        if not self.id:
            self.id = record_id(self.speaker, self.key)

    @property
    def label(self) -> str:
        return KEYS[int(np.argmax(self.scores))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.scores))

    @property
    def dim(self) -> int:
        return self.embedding_dim if self.embedding is None else int(self.embedding.shape[0])

    def payload(self) -> dict:
        """What the store keeps next to the vector (JSON types only)."""
        return {
            "speaker": self.speaker,
            "recorded_at": iso(self.recorded_at),
            "recorded_ts": self.recorded_at.timestamp(),
            "source": self.source,
            "label": self.label,
            "confidence": round(self.confidence, 6),
            "scores": {k: round(float(p), 6) for k, p in zip(KEYS, self.scores, strict=True)},
            "quality": self.quality,
            "tags": self.tags,
            "model_id": self.model_id,
            "dim": self.dim,
            "random_weights": self.random_weights,
            "run_id": self.run_id,
            "duration_s": self.duration_s,
            "added_at": iso(self.added_at),
            "key": self.key,
            "embedding_norm": float(np.linalg.norm(self.embedding)) if self.embedding is not None else None,
        }

    @classmethod
    def from_payload(
        cls, point_id: str, payload: dict, vector: list[float] | None = None, score: float | None = None
    ) -> ProfileRecord:
        """A record read back from the store; the stored unit vector is scaled back by the saved norm."""
        emb = None
        if vector is not None:
            emb = np.asarray(vector, np.float32) * np.float32(payload.get("embedding_norm") or 1.0)
        scores = payload.get("scores") or {}
        return cls(
            speaker=payload["speaker"],
            recorded_at=payload["recorded_at"],
            scores=np.array([float(scores.get(k, 0.0)) for k in KEYS]),
            model_id=payload.get("model_id", ""),
            key=payload.get("key", ""),
            embedding=emb,
            source=payload.get("source") or "",
            quality=payload.get("quality"),
            tags=list(payload.get("tags") or []),
            random_weights=bool(payload.get("random_weights")),
            run_id=payload.get("run_id"),
            duration_s=payload.get("duration_s"),
            added_at=parse_time(payload.get("added_at")) or datetime.now(timezone.utc),
            id=str(point_id),
            score=score,
            embedding_dim=int(payload.get("dim") or 0),
        )

    def to_dict(self, embedding: bool = False) -> dict:
        """The record as JSON: id, the payload fields (without internals) and, if asked, the embedding."""
        d = {"id": self.id, **self.payload()}
        d.pop("recorded_ts")
        d.pop("embedding_norm")
        if self.score is not None:
            d["cosine"] = round(self.score, 6)
        if embedding and self.embedding is not None:
            d["embedding"] = [round(float(x), 7) for x in self.embedding]
        return d
