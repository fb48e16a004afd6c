"""An evaluation's verdict as HTML, in Chinese or English: status, stability, the rows not evaluated."""

from __future__ import annotations

import re
from pathlib import Path

from emostudio.messages import code_text, t
from emostudio.render.html import box, esc, random_weights_note, table

MAX_BAD_ROWS_SHOWN = 100
_LINE = re.compile(r"line (\d+)")


def row_where(where: str, lang: str) -> str:
    """Where a bad row is, in `lang`: a manifest's `line 10` ("第 10 行") or a file's relative path."""
    m = _LINE.fullmatch(where)
    return t("row_line", lang, n=m[1]) if m else where


def bad_row_text(bad: dict, lang: str) -> str:
    """What went wrong with one bad row, without repeating where it is (that is the table's first column):
    "不是音频文件", not "第 3 行：第 3 行：不是音频文件"."""
    message = bad["message"]
    for prefix in (f"{bad['where']}: ", f"{bad['where']}："):
        message = message.removeprefix(prefix)
    return code_text(bad["code"], lang, message, "")


def verdict_html(status: dict, reasons: list[str], lang: str) -> str:
    """The verdict of one evaluation (`status` as `Evaluations.status` gives it; `reasons` in `lang`, from
    `emostudio.evaluate.status_reasons`): the status, stability, rows not evaluated, or why it failed."""
    if status["state"] in ("failed", "interrupted"):
        err = status.get("error") or {}
        head = t("eval_state_failed" if status["state"] == "failed" else "eval_state_interrupted", lang)
        return box(f"<b>{esc(head)}</b>: {esc(err.get('message', ''))}", "fail", "eval-verdict")
    if status["state"] == "running":
        return f"<div>{esc(t('eval_running', lang))} …</div>"
    doc = status["metrics"]
    st = doc["status"]
    kind = "pass" if st["code"] == 0 else "warn" if st["code"] == 1 else "fail"
    lines = "".join(f"<br>• {esc(r)}" for r in reasons)
    parts = [
        box(
            f"<b>{esc(st[lang])}</b>{lines}",  # the status said in words: an exit code means nothing here
            kind,
            "eval-verdict",
        )
    ]
    if any(m["model"].get("is_random") for m in doc["models"].values()):
        parts.append(random_weights_note(lang))
    stab = doc.get("stability")
    if stab:
        word = t("eval_passed" if stab["passed"] else "eval_failed", lang)
        flips = sum(len(m["flipped"]) for m in stab["models"])
        drift = max((m["drift_max"] for m in stab["models"]), default=0.0)
        line = t("eval_stability_line", lang, word=word, flips=flips, drift=drift)
        parts.append(
            f"<p><b>{esc(t('eval_stability', lang))}</b> ({esc(Path(stab['baseline']).name)}): {esc(line)}</p>"
        )
    if doc["bad_rows"]:
        rows = []
        for b in doc["bad_rows"][:MAX_BAD_ROWS_SHOWN]:
            where = row_where(b["where"], lang)
            rows.append([esc(where), esc(bad_row_text(b, lang))])
        head = [esc(h) for h in t("eval_bad_row_cols", lang)]
        parts.append(
            f"<details><summary>{esc(t('eval_bad_rows', lang))}: "
            f"{doc.get('bad_rows_total', len(doc['bad_rows']))}</summary>"
            f"{table(head, rows)}</details>"
        )
    return "".join(parts)
