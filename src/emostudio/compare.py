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
from emostudio.model.labels import BY_KEY, KEYS

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
    if not m or m.get("value") is None:
        return "无法测量" if lang == "zh" else "n/a"
    v, unit = m["value"], m.get("unit") or ""
    text = (f"{v:.1f}" if abs(v) >= 1 else f"{v:.2f}") if isinstance(v, float) else str(v)
    return f"{text}%" if unit == "%" else f"{text} {unit}".strip()


def _side(doc: dict) -> dict:
    e = BY_KEY[doc["emotion"]]
    return {
        "source": doc.get("source"),
        "run_id": doc.get("run_id"),
        "emotion": doc["emotion"],
        "label": {"en": f"{e.emoji} {e.en}", "zh": f"{e.emoji} {e.zh}"},
        "confidence": doc["confidence"],
        "band": doc["band"],
        "scores": {k: doc["scores"][k] for k in KEYS},
        "quality_verdict": (doc.get("quality") or {}).get("verdict"),
    }


def compare_takes(
    a: Any, b: Any, embeddings: tuple[np.ndarray | None, np.ndarray | None] | None = None
) -> dict:
    """Compare two takes (Results or result.json dicts); see the module docstring for the verdict.

    `embeddings` (utterance vectors) adds their cosine similarity; Results with embeddings give it by themselves.
    """
    da, db = _doc(a), _doc(b)
    if embeddings is None:
        embeddings = (getattr(a, "embedding", None), getattr(b, "embedding", None))
    qa, qb = _metrics(da), _metrics(db)
    better, why = _more_reliable(da, db)
    reasons = _reasons(da, db, qa, qb, better, why)
    same = da["emotion"] == db["emotion"]
    la, lb = _side(da)["label"], _side(db)["label"]
    if better:
        take = {"en": f"Take {better.upper()}", "zh": f"录音 {better.upper()}"}
        verdict = {
            "en": f"{take['en']} is the more reliable reading: " + "; ".join(reasons["en"]) + ".",
            "zh": f"{take['zh']} 的结果更可靠：" + "；".join(reasons["zh"]) + "。",
        }
    else:
        verdict = {
            "en": "Both takes are about equally reliable: " + "; ".join(reasons["en"]) + ".",
            "zh": "两段录音的可靠程度相当：" + "；".join(reasons["zh"]) + "。",
        }
    agreement = (
        {"en": f"Both takes read {la['en']}.", "zh": f"两段录音结果相同：{la['zh']}。"}
        if same
        else {
            "en": f"The takes read differently: {la['en']} (A) vs {lb['en']} (B).",
            "zh": f"两段录音结果不同：{la['zh']}（A）与 {lb['zh']}（B）。",
        }
    )
    ea, eb = embeddings
    return {
        "a": _side(da),
        "b": _side(db),
        "same_label": same,
        "score_delta": {k: round(db["scores"][k] - da["scores"][k], 6) for k in KEYS},
        "quality": _quality_rows(qa, qb),
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


def _quality_rows(qa: dict, qb: dict) -> list[dict]:
    """The compared quality metrics of both takes side by side, with the change B − A."""
    quality = []
    for name in COMPARED_METRICS:
        ma, mb = qa.get(name), qb.get(name)
        ref = ma or mb
        if ref is None:  # neither take has it
            continue
        va, vb = (ma or {}).get("value"), (mb or {}).get("value")
        delta = vb - va if isinstance(va, int | float) and isinstance(vb, int | float) else None
        quality.append(
            {
                "name": name,
                "label_en": ref.get("label_en"),
                "label_zh": ref.get("label_zh"),
                "unit": ref.get("unit"),
                "a": va,
                "b": vb,
                "delta": None if delta is None else round(float(delta), 4),
                "verdict_a": (ma or {}).get("verdict"),
                "verdict_b": (mb or {}).get("verdict"),
            }
        )
    return quality


def _more_reliable(da: dict, db: dict) -> tuple[str | None, str]:
    """("a" | "b" | None, what decided it): fewer quality problems first, then the band, then clearly more confident."""
    pa, _ = _penalty(da)
    pb, _ = _penalty(db)
    ra, rb = BAND_RANK.get(da["band"]["key"], 0), BAND_RANK.get(db["band"]["key"], 0)
    ca, cb = da["confidence"], db["confidence"]
    if pa != pb:
        return ("a" if pa < pb else "b"), "quality"
    if ra != rb:
        return ("a" if ra > rb else "b"), "band"
    if abs(ca - cb) >= CLEARLY_MORE_CONFIDENT:
        return ("a" if ca > cb else "b"), "confidence"
    return None, "equal"


def _reasons(da: dict, db: dict, qa: dict, qb: dict, better: str | None, why: str) -> dict[str, list[str]]:
    """The reasons for the verdict in en and zh: the worse take's quality problems, then both confidences."""
    reasons: dict[str, list[str]] = {"en": [], "zh": []}
    ca, cb = da["confidence"], db["confidence"]
    if why == "quality":
        worse_found = _penalty(db if better == "a" else da)[1]
        worse_m, better_m = (qb, qa) if better == "a" else (qa, qb)
        for m in worse_found:
            name = m["name"]
            for lang in ("en", "zh"):
                label = m.get(f"label_{lang}") or name
                grade = {"bad": ("差", "bad"), "warn": ("一般", "so-so")}[m["verdict"]][
                    0 if lang == "zh" else 1
                ]
                reasons[lang].append(
                    f"{label}: {_value(better_m.get(name), lang)} vs {_value(worse_m.get(name), lang)} ({grade})"
                )
    for lang in ("en", "zh"):
        word = "置信度" if lang == "zh" else "confidence"
        reasons[lang].append(
            f"{word} {cb * 100 if better == 'b' else ca * 100:.1f}% ({(db if better == 'b' else da)['band'][lang]}) "
            f"vs {ca * 100 if better == 'b' else cb * 100:.1f}% ({(da if better == 'b' else db)['band'][lang]})"
            if better
            else f"{word} {ca * 100:.1f}% vs {cb * 100:.1f}%"
        )
    return reasons
