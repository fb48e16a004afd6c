"""Label Studio pre-annotated tasks (its JSON import format) for the runs a team should look at first.

One task per run: `data.audio` (a URL Label Studio can play: `/data/local-files/?d=<path under its
LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT>`), `data.emostudio_audio` (the file here, so the corrected export reads
back as a test set), `data.run_id`, `data.source`; and one prediction (`model_version` = the model id, `score` =
the run's confidence, which Label Studio sorts tasks by) whose result is either
    `labels` regions over time ranges — one per dominant segment — when the run has more than one segment
                     (frame mode or a long recording split at pauses), each with its own `score`, or
    `choices`        the clip's label, for a single-segment run.
The labelling config (`labelstudio_config.xml`) names the same controls: Audio `audio`, Labels `emotion`,
Choices `clip_emotion`, with the 9 classes in the product's colours.
Formats: https://labelstud.io/guide/predictions.html and https://labelstud.io/guide/export.html.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import quoteattr

from emostudio.export.tiers import dominant, duration_s, label_text
from emostudio.model.labels import COLOURS, KEYS

AUDIO, REGIONS, CLIP = "audio", "emotion", "clip_emotion"


def config_xml(style: str = "key") -> str:
    """The labelling config matching the tasks (controls and label values)."""
    labels = "\n".join(
        f"    <Label value={quoteattr(label_text(k, style))} background={quoteattr(COLOURS[k])}/>"
        for k in KEYS
    )
    choices = "\n".join(f"    <Choice value={quoteattr(label_text(k, style))}/>" for k in KEYS)
    return (
        "<View>\n"
        '  <Header value="Emotion of each stretch (regions) or of the whole clip"/>\n'
        f'  <Audio name="{AUDIO}" value="$audio" hotkey="space"/>\n'
        f'  <Labels name="{REGIONS}" toName="{AUDIO}" choice="single">\n{labels}\n  </Labels>\n'
        f'  <Choices name="{CLIP}" toName="{AUDIO}" choice="single" showInLine="true">\n{choices}\n'
        "  </Choices>\n"
        "</View>\n"
    )


def task(doc: dict, audio_url: str, audio_path: str, style: str = "key") -> dict:
    """The pre-annotated task of one run's result.json document."""
    run_id = str(doc.get("run_id") or "")
    segments = dominant(doc)
    duration = duration_s(doc)
    if len(segments) > 1:
        result = [
            {
                "id": f"{run_id}-r{i}",
                "from_name": REGIONS,
                "to_name": AUDIO,
                "type": "labels",
                "origin": "prediction",
                "original_length": duration,
                "value": {
                    "start": float(s["start_s"]),
                    "end": float(s["end_s"]),
                    "channel": 0,
                    "labels": [label_text(s["label"], style)],
                },
                "score": float(s["confidence"]),
            }
            for i, s in enumerate(segments, 1)
        ]
    else:
        result = [
            {
                "id": f"{run_id}-clip",
                "from_name": CLIP,
                "to_name": AUDIO,
                "type": "choices",
                "origin": "prediction",
                "value": {"choices": [label_text(doc["emotion"], style)]},
                "score": float(doc["confidence"]),
            }
        ]
    return {
        "data": {
            "audio": audio_url,
            "emostudio_audio": audio_path,
            "run_id": run_id,
            "source": str(doc.get("source") or ""),
        },
        "predictions": [
            {
                "model_version": str((doc.get("model") or {}).get("id") or ""),
                "score": float(doc["confidence"]),
                "result": result,
            }
        ],
    }


def least_confident(docs: list[dict], n: int | None) -> list[dict]:
    """The `n` documents with the lowest overall confidence (all when n is None), least confident first."""
    ranked = sorted(docs, key=lambda d: (float(d["confidence"]), str(d.get("run_id") or "")))
    return ranked if n is None else ranked[:n]


def tasks_json(tasks: list[dict]) -> str:
    return json.dumps(tasks, ensure_ascii=False, indent=2) + "\n"
