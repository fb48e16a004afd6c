"""A speaker's profile as HTML: the summary card with the trend alert, in Chinese or English."""

from __future__ import annotations

from emostudio.messages import t
from emostudio.model.labels import KEYS, emotion_name
from emostudio.render.html import esc, local_time


def summary_card(summary, alert, lang: str) -> str:
    """Records, top emotion, negative share, confidence, last seen, the label shares and the alert sentence.

    `summary` is a profiles SpeakerSummary, `alert` the trend's Alert (its `message` holds zh and en)."""
    shares = " · ".join(
        f"{emotion_name(k, lang)} {summary.label_shares[k] * 100:.0f}%"
        for k in sorted(KEYS, key=lambda k: -summary.label_counts[k])
        if summary.label_counts[k]
    )
    facts = [
        f"{esc(t('profile_top', lang))}: <b>{esc(emotion_name(summary.top, lang))}</b>",
        f"{esc(t('profile_negative', lang))}: <b>{summary.negative_share * 100:.0f}%</b>",
        f"{esc(t('profile_confidence', lang))}: {summary.mean_confidence * 100:.0f}%",
        f"{esc(t('profile_last_seen', lang))}: {esc(local_time(summary.last_seen))}",
    ]
    return (
        f"<h3>{esc(summary.speaker)} · {esc(t('profile_records', lang, n=summary.count))}</h3>"
        f"<div>{' · '.join(facts)}</div><div>{esc(shares)}</div>"
        f'<div id="profile-alert-text" class="alert-text {esc(alert.status)}">{esc(alert.message.get(lang, ""))}</div>'
    )
