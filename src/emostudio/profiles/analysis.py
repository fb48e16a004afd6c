"""Reading a speaker's records: a summary, a trend per day/week/month with the negative-share alert, and how two
speakers' expression differs. Pure functions over `ProfileRecord`s (pandas for the tables)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from emostudio.embeddings import read_similarity, score_distance
from emostudio.messages import LANGS, t
from emostudio.model.labels import BY_KEY, KEYS
from emostudio.profiles.errors import ProfileError
from emostudio.profiles.records import NEGATIVE, ProfileRecord, iso, local_zone

PERIODS = {"day": "D", "week": "W-SUN", "month": "M"}  # weeks run Monday to Sunday


def _shares(labels: list[str]) -> dict[str, float]:
    counts = Counter(labels)
    n = max(1, len(labels))
    return {k: counts.get(k, 0) / n for k in KEYS}


@dataclass
class SpeakerSummary:
    """What one speaker's records say: counts, label shares (0–1), mean scores, confidence, first/last seen."""

    speaker: str
    model_id: str
    count: int
    first_seen: str
    last_seen: str
    label_counts: dict[str, int]
    label_shares: dict[str, float]
    mean_scores: dict[str, float]
    mean_confidence: float
    negative_share: float  # share of records labelled angry, disgusted, fearful or sad
    quality: dict[str, int] = field(default_factory=dict)
    tags: dict[str, int] = field(default_factory=dict)
    random_weights: bool = False

    @property
    def top(self) -> str:
        return max(KEYS, key=lambda k: (self.label_counts[k], -KEYS.index(k)))

    def to_dict(self) -> dict:
        r = lambda d: {k: round(v, 6) for k, v in d.items()}  # noqa: E731
        return {
            "speaker": self.speaker,
            "model_id": self.model_id,
            "records": self.count,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "label_counts": self.label_counts,
            "label_shares": r(self.label_shares),
            "mean_scores": r(self.mean_scores),
            "mean_confidence": round(self.mean_confidence, 6),
            "negative_share": round(self.negative_share, 6),
            "top_emotion": self.top,
            "quality": self.quality,
            "tags": self.tags,
            "random_weights": self.random_weights,
        }


def summarize(records: list[ProfileRecord]) -> SpeakerSummary:
    """Summary of one speaker's records (all of one model)."""
    if not records:
        raise ProfileError("no records to summarise")
    labels = [r.label for r in records]
    probs = np.array([r.scores for r in records])
    counts = Counter(labels)
    times = sorted(r.recorded_at for r in records)
    return SpeakerSummary(
        speaker=records[0].speaker,
        model_id=records[0].model_id,
        count=len(records),
        first_seen=iso(times[0]),
        last_seen=iso(times[-1]),
        label_counts={k: counts.get(k, 0) for k in KEYS},
        label_shares=_shares(labels),
        mean_scores={k: float(v) for k, v in zip(KEYS, probs.mean(axis=0), strict=True)},
        mean_confidence=float(np.mean([r.confidence for r in records])),
        negative_share=sum(counts.get(k, 0) for k in NEGATIVE) / len(records),
        quality=dict(Counter(r.quality or "unknown" for r in records)),
        tags=dict(Counter(t for r in records for t in r.tags).most_common()),
        random_weights=any(r.random_weights for r in records),
    )


# ---- trend -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AlertRule:
    """When the negative share (angry + disgusted + fearful + sad, as a share of records) counts as rising.

    The mean share of the last `recent` periods is compared with the mean of the periods before them (at least
    `min_baseline`); a rise of more than `threshold` (0–1, default 0.15 = 15 percentage points) raises the alert.
    Periods with fewer than `min_records` records are left out as too small to judge.
    """

    threshold: float = 0.15
    recent: int = 3
    min_baseline: int = 2
    min_records: int = 3

    def __post_init__(self) -> None:
        if not 0 < self.threshold < 1 or self.recent < 1 or self.min_baseline < 1 or self.min_records < 1:
            raise ProfileError("alert rule: threshold in (0, 1), recent/min_baseline/min_records at least 1")


@dataclass
class Alert:
    """Whether the negative share rose, by how much, and a sentence in zh/en that says so."""

    triggered: bool
    status: str  # "alert" | "ok" | "not_enough_data"
    rule: AlertRule
    recent_share: float | None = None
    baseline_share: float | None = None
    rise: float | None = None
    slope_per_period: float | None = None  # least-squares slope of the negative share over the judged periods
    message: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        rnd = lambda v: None if v is None else round(v, 6)  # noqa: E731
        return {
            "triggered": self.triggered,
            "status": self.status,
            "threshold": self.rule.threshold,
            "recent_periods": self.rule.recent,
            "min_records": self.rule.min_records,
            "recent_share": rnd(self.recent_share),
            "baseline_share": rnd(self.baseline_share),
            "rise": rnd(self.rise),
            "slope_per_period": rnd(self.slope_per_period),
            "message": self.message,
        }


@dataclass
class Trend:
    """Emotion shares per period. `table` columns: period, start, records, share_<emotion> × 9, negative_share,
    mean_confidence; one row per period from the first to the last record (empty periods have 0 records)."""

    speaker: str
    model_id: str
    by: str
    table: pd.DataFrame
    alert: Alert
    tz: str = "UTC"

    def to_dict(self) -> dict:
        rows = []
        for row in self.table.to_dict("records"):
            rows.append(
                {
                    k: (
                        None
                        if isinstance(v, float) and np.isnan(v)
                        else (round(v, 6) if isinstance(v, float) else v)
                    )
                    for k, v in row.items()
                    if k != "start"
                }
            )
        return {
            "speaker": self.speaker,
            "model_id": self.model_id,
            "by": self.by,
            "tz": self.tz,
            "periods": rows,
            "alert": self.alert.to_dict(),
        }


def _period_label(p: pd.Period, by: str) -> str:
    if by == "week":
        return f"{p.start_time:%G-W%V}"
    return str(p)


def trend(
    records: list[ProfileRecord], by: str = "week", rule: AlertRule = AlertRule(), tz: str | None = None
) -> Trend:
    """Shares of each emotion per day / week / month in time zone `tz` (default: this machine's), and the alert."""
    if by not in PERIODS:
        raise ProfileError(f"--by must be one of {', '.join(PERIODS)}, not {by!r}")
    if not records:
        raise ProfileError("no records to draw a trend from")
    zone = tz or local_zone()
    try:
        times = pd.to_datetime([r.recorded_at for r in records], utc=True).tz_convert(zone)
    except (KeyError, ValueError, TypeError) as e:  # pytz / zoneinfo: unknown zone name
        raise ProfileError(f"unknown time zone {tz!r}: use an IANA name such as Asia/Shanghai or UTC") from e
    df = pd.DataFrame(
        {"period": times.tz_localize(None).to_period(PERIODS[by]), "label": [r.label for r in records]}
    )
    df["confidence"] = [r.confidence for r in records]
    full = pd.period_range(df["period"].min(), df["period"].max(), freq=PERIODS[by])
    rows = []
    for p in full:
        sub = df[df["period"] == p]
        n = len(sub)
        shares = _shares(sub["label"].tolist()) if n else {k: float("nan") for k in KEYS}
        rows.append(
            {
                "period": _period_label(p, by),
                "start": p.start_time,
                "records": n,
                **{f"share_{k}": shares[k] for k in KEYS},
                "negative_share": sum(shares[k] for k in NEGATIVE) if n else float("nan"),
                "mean_confidence": float(sub["confidence"].mean()) if n else float("nan"),
            }
        )
    table = pd.DataFrame(rows)
    return Trend(records[0].speaker, records[0].model_id, by, table, judge(table, rule, by), str(zone))


def judge(table: pd.DataFrame, rule: AlertRule, by: str = "week") -> Alert:
    """The negative-share alert for a trend table (see AlertRule)."""
    judged = table[table["records"] >= rule.min_records]
    shares = judged["negative_share"].to_numpy(dtype=float)
    units = {lang: t(f"profile_unit_{by}", lang) for lang in LANGS}
    if len(shares) < rule.recent + rule.min_baseline:
        need = rule.recent + rule.min_baseline
        counts = {"need": need, "min_records": rule.min_records, "have": len(shares)}
        return Alert(
            False,
            "not_enough_data",
            rule,
            message={
                lang: t("profile_alert_not_enough", lang, unit=units[lang], **counts) for lang in ("en", "zh")
            },
        )
    recent = float(shares[-rule.recent :].mean())
    base = float(shares[: -rule.recent].mean())
    rise = recent - base
    slope = float(np.polyfit(np.arange(len(shares)), shares, 1)[0])
    hit = rise > rule.threshold
    fmt: dict[str, object] = {
        "now": f"{recent * 100:.0f}%",
        "before": f"{base * 100:.0f}%",
        "recent": rule.recent,
        "rise": rise * 100,
        "threshold": rule.threshold * 100,
    }
    key = "profile_alert_hit" if hit else "profile_alert_ok"
    msg = {lang: t(key, lang, unit=units[lang], **fmt) for lang in ("en", "zh")}
    return Alert(hit, "alert" if hit else "ok", rule, recent, base, rise, slope, msg)


# ---- comparing two speakers -------------------------------------------------------------------------------------
@dataclass
class Comparison:
    """How speaker B's expression differs from A's: label shares and mean scores (B − A), centroid cosine of the
    embeddings, Jensen–Shannon distance of the mean scores, and a reading in zh/en."""

    a: SpeakerSummary
    b: SpeakerSummary
    centroid_cosine: float
    score_distance: float
    share_diff: dict[str, float]
    score_diff: dict[str, float]
    reading: dict[str, str]

    def to_dict(self) -> dict:
        r = lambda d: {k: round(v, 6) for k, v in d.items()}  # noqa: E731
        return {
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "centroid_cosine": round(self.centroid_cosine, 6),
            "score_distance": round(self.score_distance, 6),
            "share_diff": r(self.share_diff),
            "score_diff": r(self.score_diff),
            "reading": self.reading,
        }


def centroid(records: list[ProfileRecord]) -> np.ndarray:
    """Mean of the records' unit-length embeddings, (dim,)."""
    x = np.array([r.embedding for r in records], np.float64)
    if x.ndim != 2 or not len(x):
        raise ProfileError("records need their embeddings for a centroid")
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).mean(axis=0)


def compare(records_a: list[ProfileRecord], records_b: list[ProfileRecord]) -> Comparison:
    """Compare two speakers' records (same model, embeddings included)."""
    a, b = summarize(records_a), summarize(records_b)
    if a.model_id != b.model_id:
        raise ProfileError(
            f"{a.speaker!r} and {b.speaker!r} were analysed by different models ({a.model_id} vs {b.model_id}); "
            "records of different models are not comparable"
        )
    ca, cb = centroid(records_a), centroid(records_b)
    if ca.shape != cb.shape:
        raise ProfileError("the two speakers' embeddings differ in size")
    cos = float(np.clip(ca @ cb / (np.linalg.norm(ca) * np.linalg.norm(cb)), -1, 1))
    ma = np.array([a.mean_scores[k] for k in KEYS])
    mb = np.array([b.mean_scores[k] for k in KEYS])
    dist = score_distance(ma, mb)
    share_diff = {k: b.label_shares[k] - a.label_shares[k] for k in KEYS}
    score_diff = {k: b.mean_scores[k] - a.mean_scores[k] for k in KEYS}
    base = read_similarity(cos, dist, a.top, b.top, names=(a.speaker, b.speaker))
    big = sorted((k for k in KEYS if abs(share_diff[k]) >= 0.05), key=lambda k: -abs(share_diff[k]))[:3]
    if big:
        reading = {}
        for lang in ("en", "zh"):
            items = [
                t(
                    "profile_cmp_more" if share_diff[k] > 0 else "profile_cmp_less",
                    lang,
                    name=BY_KEY[k].name(lang),
                    points=share_diff[k] * 100,
                )
                for k in big
            ]
            reading[lang] = t(
                "profile_cmp_reading",
                lang,
                base=base[lang],
                a=a.speaker,
                b=b.speaker,
                items=t("list_sep", lang).join(items),
            )
        base = reading
    return Comparison(a, b, cos, dist, share_diff, score_diff, base)
