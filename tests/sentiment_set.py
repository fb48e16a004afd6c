"""A small labelled zh/en sentence set for text sentiment: negation, degree, contrast, emoji, the
"praise, then a complaint" pattern, emotion words and plain statements.

Each item: (text, language, sign, emotion class or None). `sign` is what a careful reader takes the sentence to
say: +1 positive, −1 negative, 0 neutral (a polarity within ±0.2, the fusion's threshold, counts as neutral).
The class, where given, is the 9-class key the words point to. The sentences were written (and the first six are
issue 26's) before the rule layer was written; none was changed after scoring.

`python tests/sentiment_set.py` prints sign accuracy (overall and per language) with whatever emostudio is on
PYTHONPATH, so the same set can be run against an older checkout.
"""

from __future__ import annotations

NEUTRAL_BAND = 0.2  # TextOptions.polarity_threshold (emostudio.options)

# issue 26 item 15, asserted one by one in tests/test_sentiment_rules.py
ISSUE = [
    ("太好了，又坏了", "zh", -1, None),
    ("不太好。", "zh", -1, None),
    ("哦，真是太棒了，又坏了。", "zh", -1, None),
    ("东西很好，但是物流太慢了。", "zh", -1, None),
    ("让我很生气", "zh", -1, "angry"),
    ("😡💔", "emoji", -1, None),
]

ZH = [
    # negation
    ("我一点也不开心。", "zh", -1, None),
    ("这个结果还不错。", "zh", 1, None),
    ("味道不差，价格也合理。", "zh", 1, None),
    ("这次没有让我失望。", "zh", 1, None),
    ("一点都不好玩。", "zh", -1, None),
    ("不是很满意。", "zh", -1, None),
    ("他不是不努力。", "zh", 1, None),
    # degree
    ("非常满意，下次还会再来。", "zh", 1, None),
    ("有点贵。", "zh", -1, None),
    ("这个设计太丑了。", "zh", -1, None),
    ("服务特别周到。", "zh", 1, None),
    ("开心死了！", "zh", 1, "happy"),
    # contrast
    ("价格便宜，可是质量太差了。", "zh", -1, None),
    ("虽然有点贵，但是效果真的很好。", "zh", 1, None),
    ("外观不错，不过电池不耐用。", "zh", -1, None),
    ("房间很小，但是很干净，服务也好。", "zh", 1, None),
    ("东西还行，只是包装破了。", "zh", -1, None),
    ("本来以为会很难，然而很顺利。", "zh", 1, None),
    # praise, then a complaint
    ("真棒，又迟到了。", "zh", -1, None),
    ("好极了，电脑又死机了。", "zh", -1, None),
    # emoji inside Chinese
    ("今天的会议😡", "zh", -1, "angry"),
    ("收到礼物了🥰", "zh", 1, None),
    ("快递又丢了😭", "zh", -1, None),
    # emotion words
    ("气死我了！", "zh", -1, "angry"),
    ("我好害怕，外面有声音。", "zh", -1, "fearful"),
    ("听到这个消息我很难过。", "zh", -1, "sad"),
    ("这味道真恶心。", "zh", -1, "disgusted"),
    ("你们的态度让我很愤怒。", "zh", -1, "angry"),
    # plain
    ("我们明天下午三点开会。", "zh", 0, None),
    ("请把文件发到我的邮箱。", "zh", 0, None),
    ("会议改到了周四。", "zh", 0, None),
    ("谢谢你们，太感谢了！", "zh", 1, None),
    ("我对这次的服务很不满意。", "zh", -1, None),
]

EN = [
    # the issue's English cases
    ("not bad", "en", 1, None),
    ("not good at all", "en", -1, None),
    ("great, it broke again", "en", -1, None),
    ("the product is fine but delivery was awful", "en", -1, None),
    # negation
    ("The staff were not helpful at all.", "en", -1, None),
    ("It wasn't terrible.", "en", 1, None),
    ("I'm not unhappy with the result.", "en", 1, None),
    ("Never been so disappointed.", "en", -1, None),
    ("I don't like it, it's bad.", "en", -1, None),
    # degree
    ("The support team was extremely helpful.", "en", 1, None),
    ("It's slightly annoying.", "en", -1, None),
    ("The room was kind of dirty.", "en", -1, None),
    ("Absolutely loved the show!", "en", 1, None),
    # contrast
    ("The food was good, but the service was terrible.", "en", -1, None),
    ("The hotel was old, but the staff were lovely.", "en", 1, None),
    ("Although it's expensive, it works perfectly.", "en", 1, None),
    ("It looks nice; however, it stopped working after a day.", "en", -1, None),
    ("I like the design, though the battery is weak.", "en", -1, None),
    ("Cheap and fast, but the quality is poor.", "en", -1, None),
    # praise, then a complaint
    ("Oh great, another delay.", "en", -1, None),
    ("Perfect, the app crashed again.", "en", -1, None),
    ("Thanks a lot, now it's broken.", "en", -1, None),
    # emoji
    ("Thanks for nothing 😡", "en", -1, "angry"),
    ("Love it ❤️", "en", 1, None),
    ("My order is late again 😤", "en", -1, None),
    ("Happy birthday 🎉🎂", "en", 1, None),
    # emotion words
    ("I'm so angry right now.", "en", -1, "angry"),
    ("I'm scared of what comes next.", "en", -1, "fearful"),
    ("That smell is disgusting.", "en", -1, "disgusted"),
    ("I miss her so much, I feel so sad.", "en", -1, "sad"),
    # plain
    ("The meeting is at 3 pm.", "en", 0, None),
    ("Please send me the file by Friday.", "en", 0, None),
    ("The package arrived on Tuesday.", "en", 0, None),
    ("Thank you, this is wonderful.", "en", 1, None),
    ("This is the worst service ever.", "en", -1, None),
]

EMOJI = [
    ("👍", "emoji", 1, None),
    ("😭😭😭", "emoji", -1, "sad"),
    ("😊🎉", "emoji", 1, None),
]

SET = ISSUE + ZH + EN + EMOJI


def sign_of(polarity: float | None) -> int:
    if polarity is None:
        return 0
    return 1 if polarity >= NEUTRAL_BAND else -1 if polarity <= -NEUTRAL_BAND else 0


def measure(analyze) -> dict[str, tuple[int, int]]:
    """{"all" | "zh" | "en" | "emoji": (right, total)} of polarity signs; `analyze(text)` returns a polarity."""
    out: dict[str, list[int]] = {}
    for text, lang, sign, _ in SET:
        ok = int(sign_of(analyze(text)) == sign)
        for key in ("all", lang):
            right, total = out.setdefault(key, [0, 0])
            out[key] = [right + ok, total + 1]
    return {k: (v[0], v[1]) for k, v in out.items()}


if __name__ == "__main__":
    import warnings

    warnings.filterwarnings("ignore")
    from emostudio.multimodal import analyze_text

    for text, _, sign, _ in ISSUE:
        print(f"{text}\t{analyze_text(text).polarity:+.3f}\t(want {sign:+d})")
    misses = [
        (t, s, analyze_text(t).polarity) for t, _, s, _ in SET if sign_of(analyze_text(t).polarity) != s
    ]
    for key, (right, total) in measure(lambda t: analyze_text(t).polarity).items():
        print(f"{key}: {right}/{total} = {100 * right / total:.1f}%")
    for t, s, p in misses:
        print(f"  miss: {t!r} want {s:+d} got {p:+.3f}")
