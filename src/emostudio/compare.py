"""Two takes of one thing side by side, and which is the more reliable reading — and why.

The seed's worked example: a sentence recorded in a noisy room reads 😐 中性 61.2 %; re-recorded in a quiet room
it reads 😢 悲伤 89.6 %. `compare_takes` puts two results (result.json documents or `Result`s) next to each other:
label, confidence, band, the 9 scores, the quality metrics with their deltas, the cosine similarity of their
embeddings when both have one, and a verdict in zh/en:

- the take with fewer quality problems that can lower confidence (SNR, clipping, loudness, duration, sample
  rate; bad counts twice, a warning once) is the more reliable reading;
- with equal quality, the one in the higher confidence band; then the clearly more confident one (≥ 5 points);
- otherwise both are about equally reliable.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from emostudio.embeddings import cosine_similarity
from emostudio.messages import t
from emostudio.model.labels import BY_KEY, KEYS, emotion_name
from emostudio.render.result import metric_value

QUALITY_CAUSES = ("snr", "clipping", "loudness", "duration", "sample_rate", "speech_ratio")
COMPARED_METRICS = ("snr", "peak", "loudness", "clipping", "speech_ratio", "duration", "hum", "sample_rate")
BAND_RANK = {"confident": 2, "leaning": 1, "uncertain": 0}
CLEARLY_MORE_CONFIDENT = 0.05


def _doc(result: Any) -> dict:
    return result.to_dict() if hasattr(result, "to_dict") else dict(result)


def _metrics(doc: dict) -> dict[str, dict]:
    return {m["name"]: m for m in ((doc.get("quality") or {}).get("metrics") or [])}


def _penalty(doc: dict) -> tuple[int, list[dict]]:
    """Quality problems that can lower confidence: (penalty, the metrics behind it)."""
    found = [
        m
        for name, m in _metrics(doc).items()
        if name in QUALITY_CAUSES and m.get("verdict") in ("bad", "warn")
    ]
    return sum(2 if m["verdict"] == "bad" else 1 for m in found), found


def _value(m: dict | None, lang: str) -> str:
    m = m or {}
    return metric_value(m.get("value"), m.get("unit") or "", lang, "compare")


def _side(doc: dict) -> dict:
    e = BY_KEY[doc["emotion"]]
    return {
        "source": doc.get("source"),
        "run_id": doc.get("run_id"),
        "emotion": doc["emotion"],
        "label": {"en": emotion_name(e.key, "en"), "zh": emotion_name(e.key, "zh")},
        "confidence": doc["confidence"],
        "band": doc["band"],
        "scores": {k: doc["scores"][k] for k in KEYS},
        "quality_verdict": (doc.get("quality") or {}).get("verdict"),
    }


def _quality_rows(qa: dict[str, dict], qb: dict[str, dict]) -> list[dict]:
    """The compared metrics of both takes, with the change from A to B."""
    rows = []
    for name in COMPARED_METRICS:
        ma, mb = qa.get(name), qb.get(name)
        ref = ma or mb
        if ref is None:  # neither take has it
            continue
        va, vb = (ma or {}).get("value"), (mb or {}).get("value")
        delta = vb - va if isinstance(va, int | float) and isinstance(vb, int | float) else None
        rows.append(
            {
                "name": name,
                "label_en": ref.get("label_en"),
                "label_zh": ref.get("label_zh"),
                # each take's own label: an SNR says the method it was measured with, which may differ
                **{
                    f"label_{side}_{lang}": (m or ref).get(f"label_{lang}")
                    for side, m in (("a", ma), ("b", mb))
                    for lang in ("en", "zh")
                },
                "unit": ref.get("unit"),
                "a": va,
                "b": vb,
                "delta": None if delta is None else round(float(delta), 4),
                "verdict_a": (ma or {}).get("verdict"),
                "verdict_b": (mb or {}).get("verdict"),
            }
        )
    return rows


def _decide(da: dict, db: dict) -> tuple[str | None, str]:
    """(the more reliable take "a" / "b" / None, what decided it: quality, band, confidence or equal)."""
    pa, pb = _penalty(da)[0], _penalty(db)[0]
    ra, rb = BAND_RANK.get(da["band"]["key"], 0), BAND_RANK.get(db["band"]["key"], 0)
    ca, cb = da["confidence"], db["confidence"]
    if pa != pb:
        return ("a" if pa < pb else "b"), "quality"
    if ra != rb:
        return ("a" if ra > rb else "b"), "band"
    if abs(ca - cb) >= CLEARLY_MORE_CONFIDENT:
        return ("a" if ca > cb else "b"), "confidence"
    return None, "equal"


def _reasons(da: dict, db: dict, better: str | None, why: str) -> dict[str, list[str]]:
    """Why, in zh and en: the worse take's quality problems (when quality decided), then the confidences."""
    reasons: dict[str, list[str]] = {"en": [], "zh": []}
    if why == "quality":
        worse_found = _penalty(db if better == "a" else da)[1]
        worse_m, better_m = (_metrics(db), _metrics(da)) if better == "a" else (_metrics(da), _metrics(db))
        for m in worse_found:
            name = m["name"]
            for lang in ("en", "zh"):
                reasons[lang].append(
                    t(
                        "cmp_reason_metric",
                        lang,
                        label=m.get(f"label_{lang}") or name,
                        better=_value(better_m.get(name), lang),
                        worse=_value(worse_m.get(name), lang),
                        grade=t(f"cmp_grade_{m['verdict']}", lang),
                    )
                )
    hi, lo = (db, da) if better == "b" else (da, db)
    for lang in ("en", "zh"):
        if better:
            fmt = {"a": hi["confidence"] * 100, "b": lo["confidence"] * 100}
            reasons[lang].append(
                t("cmp_reason_confidence", lang, band_a=hi["band"][lang], band_b=lo["band"][lang], **fmt)
            )
        else:
            reasons[lang].append(
                t("cmp_reason_equal", lang, a=da["confidence"] * 100, b=db["confidence"] * 100)
            )
    return reasons


def compare_takes(
    a: Any, b: Any, embeddings: tuple[np.ndarray | None, np.ndarray | None] | None = None
) -> dict:
    """Compare two takes (Results or result.json dicts); see the module docstring for the verdict.

    `embeddings` (utterance vectors) adds their cosine similarity; Results with embeddings give it by themselves.
    """
    da, db = _doc(a), _doc(b)
    if embeddings is None:
        embeddings = (getattr(a, "embedding", None), getattr(b, "embedding", None))
    better, why = _decide(da, db)
    reasons = _reasons(da, db, better, why)
    same = da["emotion"] == db["emotion"]
    la, lb = _side(da)["label"], _side(db)["label"]
    verdict, agreement = {}, {}
    for lang in ("en", "zh"):
        joined = t("list_sep", lang).join(reasons[lang])
        if better:
            take = t("take", lang, side=better.upper())
            verdict[lang] = t("more_reliable", lang, take=take, reasons=joined)
        else:
            verdict[lang] = t("equally_reliable", lang, reasons=joined)
        agreement[lang] = (
            t("same_label", lang, label=la[lang])
            if same
            else t("different_label", lang, a=la[lang], b=lb[lang])
        )
    ea, eb = embeddings
    return {
        "a": _side(da),
        "b": _side(db),
        "same_label": same,
        "score_delta": {k: round(db["scores"][k] - da["scores"][k], 6) for k in KEYS},
        "quality": _quality_rows(_metrics(da), _metrics(db)),
        "more_reliable": better,
        "decided_by": why,
        "reasons": reasons,
        "verdict": verdict,
        "agreement": agreement,
        "similarity": round(cosine_similarity(ea, eb), 6) if ea is not None and eb is not None else None,
        "is_random": bool(
            (da.get("model") or {}).get("is_random") or (db.get("model") or {}).get("is_random")
        ),
    }
